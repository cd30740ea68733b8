package diagnose

// Event ids the diagnosis uses, per provider (providers.md §2; the
// manifests in ../shared/manifests name them).
const (
	// Microsoft-Windows-WebIO.
	webioSetOption       = 15  // WinHttpSetOption as WebIO sees it (Option, Value)
	webioISCStart        = 700 // InitializeSecurityContext (Connection, HostName)
	webioISCReturned     = 703 // InitializeSecurityContext returned (Result)
	webioCertError       = 713 // server certificate validation failed (Reason, ServerCertErrors, Error)
	webioACHStart        = 728 // SSL AcquireCredentialsHandle (EnabledProtocols)
	webioACHReturned     = 729 // … returned, success
	webioACHFailed       = 730 // … returned, failure (Result)
	webioOptionProtocols = 6   // WebIO's option number for WINHTTP_OPTION_SECURE_PROTOCOLS

	// Microsoft-Windows-WinHttp.
	winhttpAPIFailed       = 11   // API failed with an error
	winhttpAPIFailedAsync  = 14   // request error callback
	winhttpCredentials     = 100  // WinHttpSetCredentials (user name and password)
	winhttpVersionMismatch = 1053 // TLS handshake failed with a version mismatch (Windows 11 21H2+)

	// Microsoft-Windows-WinINet.
	wininetRequestFailed1 = 703
	wininetRequestFailed2 = 704
	wininetRequestFailed3 = 707
	wininetRequestFailed4 = 713
	wininetHandshake      = 1066 // TLS handshake result (Status)

	// Schannel (System log source).
	schannelCredFatal   = 36871 // fatal error creating a TLS client credential (ErrorState)
	schannelAlertSent   = 36874
	schannelNoCommon    = 36876
	schannelUnsupported = 36884
	schannelAlertRecv   = 36887
	schannelAlertFatal  = 36888
	schannelHandshakeOK = 36880 // handshake completed (protocol, cipher)

	// Microsoft-Windows-TCPIP.
	tcpConnectDone    = 1033 // connection established (LocalAddress, RemoteAddress, ProcessId)
	tcpConnectFailed  = 1034 // connect failed
	tcpConnectTimeout = 1045 // connect timed out

	// Microsoft-Windows-DNS-Client.
	dnsQueryDone   = 3008
	dnsCacheAnswer = 3020
)

// Status codes the diagnosis looks at.
const (
	secEIncompleteMessage = 0x80090318 // normal during a handshake: more data needed
	winhttpErrorFirst     = 12000
	winhttpErrorLast      = 12999
)

// failed reports whether a SECURITY_STATUS / HRESULT is a failure.
func failed(code uint64) bool { return code&0x80000000 != 0 }
