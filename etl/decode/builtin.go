package decode

import "github.com/etlscope/etlscope/etl"

// Provider GUIDs with built-in schemas or names (providers.md §1.1).
var (
	WebIO       = etl.MustParseGUID("50b3e73c-9370-461d-bb9f-26f32d68887d")
	WinHttp     = etl.MustParseGUID("7d44233d-3055-4b9c-ba64-0d47ca40a232")
	WinINet     = etl.MustParseGUID("43d1a55c-76d6-4f7e-995c-64c711e5cafe")
	Schannel    = etl.MustParseGUID("1f678132-5938-4686-9fdc-c8ff68f15c85")
	SchannelEvt = etl.MustParseGUID("91cc1150-71aa-47e2-ae18-c96e61736b6f")
	TCPIP       = etl.MustParseGUID("2f07e2ee-15db-40f1-90ef-9d7ba282188a")
	DNSClient   = etl.MustParseGUID("1c95126e-7eea-49a9-a3fe-a378b03ddb4d")
	AFD         = etl.MustParseGUID("e53c6823-7bb8-44bb-90dc-3f86090d48a6")
	NDISCapture = etl.MustParseGUID("2ed6006e-4729-4609-b423-3ee7bcd678ef")
	PktMon      = etl.MustParseGUID("4d4f80d9-c8bd-4d73-bb5b-19c90402c5ac")
	RasNdisWan  = etl.MustParseGUID("d84521f7-2235-4237-a7c0-14e3a9676286")
)

// providerNames maps provider GUIDs to names: the network providers and the
// kernel classes the samples contain.
var providerNames = map[etl.GUID]string{
	WebIO:       "Microsoft-Windows-WebIO",
	WinHttp:     "Microsoft-Windows-WinHttp",
	WinINet:     "Microsoft-Windows-WinINet",
	Schannel:    "Schannel",
	SchannelEvt: "Microsoft-Windows-Schannel-Events",
	TCPIP:       "Microsoft-Windows-TCPIP",
	DNSClient:   "Microsoft-Windows-DNS-Client",
	AFD:         "Microsoft-Windows-Winsock-AFD",
	NDISCapture: "Microsoft-Windows-NDIS-PacketCapture",
	PktMon:      "Microsoft-Windows-PktMon",
	RasNdisWan:  "Microsoft-Windows-Ras-NdisWanPacketCapture",
	etl.MustParseGUID("a70ff94f-570b-4979-ba5c-e59c9feab61b"): "Microsoft-Windows-WinINet-Capture",
	etl.MustParseGUID("55404e71-4db9-4deb-a5f5-8f86e46dde56"): "Microsoft-Windows-Winsock-NameResolution",
	etl.MustParseGUID("5bbca4a8-b209-48dc-a8c7-b23d3e5216fb"): "Microsoft-Windows-CAPI2",
	etl.MustParseGUID("37d2c3cd-c5d4-4587-8531-4696c44244c8"): "Schannel WPP",
	etl.MustParseGUID("44492b72-a8e2-4f20-b0ae-f1d437657c92"): "Microsoft.Windows.Security.Schannel",
	etl.MustParseGUID("b3a7698a-0c45-44da-b73d-e181c9b5c8e6"): "WinHttp WPP",
	etl.MustParseGUID("1070f044-721c-504b-c01c-671dadcbc77d"): "WinHTTP TraceLogging",
	etl.MustParseGUID("68fdd900-4a3e-11d1-84f4-0000f80464e3"): "EventTrace",
	etl.MustParseGUID("3d6fa8d4-fe05-11d0-9dda-00c04fd7ba7c"): "DiskIo",
	etl.MustParseGUID("3d6fa8d3-fe05-11d0-9dda-00c04fd7ba7c"): "PageFault",
	etl.MustParseGUID("3d6fa8d0-fe05-11d0-9dda-00c04fd7ba7c"): "Process",
	etl.MustParseGUID("3d6fa8d1-fe05-11d0-9dda-00c04fd7ba7c"): "Thread",
	etl.MustParseGUID("90cbdc39-4a3e-11d1-84f4-0000f80464e3"): "FileIo",
	etl.MustParseGUID("9a280ac0-c8e0-11d1-84e2-00c04fb998a2"): "TcpIp",
	etl.MustParseGUID("bf3a50c5-a9c9-4988-a005-2df0b7c80f80"): "UdpIp",
	etl.MustParseGUID("01853a65-418f-4f36-aefc-dc0f1d2fd235"): "SystemConfig",
	etl.MustParseGUID("ce1dbfb4-137e-4da6-87b0-3f59aa102cbc"): "PerfInfo",
	etl.MustParseGUID("2cb15d1d-5fc1-11d2-abe1-00a0c911f518"): "Image",
	etl.MustParseGUID("def2fe46-7bd6-4b80-bd94-f57fe20d0ce3"): "StackWalk",
	etl.MustParseGUID("e13c0d23-ccbc-4e12-931b-d9cc2eee27e4"): "Microsoft-Windows-DotNETRuntime",
	etl.MustParseGUID("a669021c-c450-4609-a035-5af59af4df18"): "Microsoft-Windows-DotNETRuntimeRundown",
	etl.MustParseGUID("b3e675d7-2554-4f18-830b-2762732560de"): "KernelTraceControl",
	etl.MustParseGUID("a0c1853b-5c40-4b15-8766-3cf1c58f985a"): "Microsoft-Windows-PowerShell",
	etl.MustParseGUID("2ed6006e-4729-4609-b423-3ee7bcd678ef"): "Microsoft-Windows-NDIS-PacketCapture",
}

// ProviderName returns the name of a provider etlscope knows, or "".
func ProviderName(g etl.GUID) string { return providerNames[g] }

// builtinSchemas returns the schema table. Layouts are those of
// providers.md §2; the message templates are the manifests' (Event Viewer
// / Network Monitor text). It is built on first use (builtinIndex), not
// at start-up: commands that decode nothing (info) do not pay for it.
func builtinSchemas() []*schema {
	return []*schema{
		// Microsoft-Windows-WebIO §2.1.
		webio(728, 0, "SSLAcquireCredentialsHandle", "Start", "%1: SSL AcquireCredentialsHandle - (EnabledProtocols %2) (ClientCert %3) (EnableRevertToSelfClientCertificate %4)", achV0),
		webio(728, 1, "SSLAcquireCredentialsHandle", "Start", "%1: SSL AcquireCredentialsHandle - (EnabledProtocols %2) (ClientCert %3) (EnableRevertToSelfClientCertificate %4) (CipherConfig %5)", achV1),
		webio(729, 0, "SSLAcquireCredentialsHandle", "Stop", "%1: SSL AcquireCredentialsHandle returned - (%7) Credential Handle(%5:%6) (EnabledProtocols %2) (ClientCert %3) (EnableRevertToSelfClientCertificate %4)", achV0),
		webio(729, 1, "SSLAcquireCredentialsHandle", "Stop", "%1: SSL AcquireCredentialsHandle returned - (%8) Credential Handle(%6:%7) (EnabledProtocols %2) (ClientCert %3) (EnableRevertToSelfClientCertificate %4) (CipherConfig %5)", achV1),
		webio(730, 0, "SSLAcquireCredentialsHandle", "Stop", "%1: SSL AcquireCredentialsHandle failed - (%7) (EnabledProtocols %2) (ClientCert %3) (EnableRevertToSelfClientCertificate %4)", achV0),
		webio(730, 1, "SSLAcquireCredentialsHandle", "Stop", "%1: SSL AcquireCredentialsHandle failed - (%8) (EnabledProtocols %2) (ClientCert %3) (EnableRevertToSelfClientCertificate %4) (CipherConfig %5)", achV1),
		webio(700, 0, "SSLInitializeSecurityContext", "Start", "%1: InitializeSecurityContext - Credential Handle(%2:%3) Context Handle (%4:%5) (Hostname %6) (InputFlags %7) (Buffer %8 [%9/%10])", isc),
		webio(703, 0, "SSLInitializeSecurityContext", "Stop", "%1: InitializeSecurityContext returned - (%14) Credential Handle(%2:%3) Context Handle (%4:%5) (Hostname %6) (OutputFlags %11)", isc),
		webio(712, 0, "SSLCertValidation", "Stop", "%1: SSL Cert Validation - (Error: %6) Context Handle(%2:%3) (IgnoredServerCertErrors %4) (CertErrors %5)", certVal),
		webio(713, 0, "SSLCertValidation", "Stop", "%1: SSL Cert Validation Failure - %7 (Error: %6) Context Handle(%2:%3) (IgnoredServerCertErrors %4) (CertErrors %5)", certVal),
		webio(15, 0, "RequestConfiguration", "Set", "%1: Set Request Option %3 (Handle %2) (Error %6) (Length %4) (Value %5)", "Request:ptr RequestHandle:u64 Option:u32:reqoption Length:u32 Value:bin=Length Error:u32:status"),
		webio(200, 0, "ConnectionSocketConnect", "Start", "%1: Connecting (Socket %2) Address: %4.", connect),
		webio(201, 0, "ConnectionSocketConnect", "Stop", "%1: Connection established (Socket %2) Address: %4.", connect),
		webio(202, 0, "ConnectionSocketConnect", "Stop", "%1: Connect failed with error %7 (Socket %2) Address: %4.", connect),
		webio(204, 0, "ConnectionSocketClose", "Stop", "%1: Socket %2 Closed (Reason = %3, Status = %4).", "Endpoint:ptr Socket:u64 Reason:u32:closereason Result:u32:status"),
		webio(205, 0, "ConnectionNameResolutionRequest", "Start", "%1: Name resolution request for %2", "DnsQuery:ptr HostName:wstr Timeout:u32 CompletionContext:u64"),
		webio(207, 0, "ConnectionNameResolutionRequest", "Stop", "%1: Name resolution failed with error %2", "DnsQuery:ptr Error:u32:status"),
		webio(9, 0, "WebIOAPI", "Start", "%2(%1) API called.", "ApiHandle:u64 Api:astr"),
		webio(10, 0, "WebIOAPI", "Stop", "%2(%1) API returned successfully.", "ApiHandle:u64 Api:astr Result:u32:status"),
		webio(11, 0, "WebIOAPI", "Stop", "%2(%1) API failed with an error = %3.", "ApiHandle:u64 Api:astr Result:u32:status"),
		webio(59999, 0, "WebIODebug", "", "%2", "Length:u16 Message:astr"),

		// Microsoft-Windows-WinHttp §2.2.
		winhttp(1, "", "%1", "param1:wstr"),
		winhttp(2, "", "%1", "param1:wstr"),
		winhttp(4, "", "%1", "loadunloadinfo:wstr"),
		winhttp(9, "API", "%2(%1) API called.", "ApiHandle:u64 Api:astr"),
		winhttp(10, "API", "%2(%1) API returned successfully.", "ApiHandle:u64 Api:astr Result:u32:status"),
		winhttp(11, "API", "%2(%1) API failed with an error = %3.", "ApiHandle:u64 Api:astr Result:u32:status"),
		winhttp(12, "API", "%2(%1) API pending completion.", "ApiHandle:u64 Api:astr"),
		winhttp(13, "API", "%2(%1) API completed.", "ApiHandle:u64 Api:astr Result:u32:status"),
		winhttp(14, "API", "%2(%1) API completed with an error = %3.", "ApiHandle:u64 Api:astr Result:u32:status"),
		winhttp(100, "API", "WinHttpSetCredentials (Request %1) (AuthTargets %2) (AuthScheme %3) (UserName %4)", "hRequest:ptr AuthTargets:u32 AuthScheme:u32 UserName:wstr Password:wstr"),
		winhttp(1051, "WinHTTP_Getaddrinfo", "getaddrinfo %2", "Flags:u32 AddressName:astr"),
		winhttp(1052, "WinHTTP_Getaddrinfo", "getaddrinfo %3 returned %1", "error:u32:status Flags:u32 AddressName:astr"),
		winhttp(1053, "", "The WinHttp TLS handshake failed with version mismatch error (Host %1) (Process %5)", "Host:wstr ModulePath:wstr ModuleName:wstr ProcessPath:wstr ProcessName:wstr"),
		winhttp(58999, "Debug", "%1", "Message:astr"),
		// WinHttp autoproxy (WPAD) events, Windows 10 1607+: v0 with ANSI
		// strings, v1 with UTF-16 ones (their lengths counted in characters:
		// believed).
		ap(801, 0, "AutoproxySearchStart", "_ConnectionNameLength:u16 ConnectionName:castr=_ConnectionNameLength DetectFlags:x32"),
		ap(801, 1, "AutoproxySearchStart", "_ConnectionNameLength:u16 ConnectionName:cwstr=_ConnectionNameLength DetectFlags:x32"),
		ap(802, 0, "AutoproxyDHCPStart", "_InterfaceLength:u16 Interface:castr=_InterfaceLength"),
		ap(802, 1, "AutoproxyDHCPStart", "_InterfaceLength:u16 Interface:cwstr=_InterfaceLength"),
		ap(803, 0, "AutoproxyDHCPStop", "_InterfaceLength:u16 Interface:castr=_InterfaceLength _ConfigurationURLLength:u16 ConfigurationURL:castr=_ConfigurationURLLength"),
		ap(803, 1, "AutoproxyDHCPStop", "_InterfaceLength:u16 Interface:cwstr=_InterfaceLength _ConfigurationURLLength:u16 ConfigurationURL:cwstr=_ConfigurationURLLength"),
		ap(804, 0, "AutoproxyDHCPFail", "_InterfaceLength:u16 Interface:castr=_InterfaceLength _ConfigurationURLLength:u16 ConfigurationURL:castr=_ConfigurationURLLength Error:u32:status"),
		ap(804, 1, "AutoproxyDHCPFail", "_InterfaceLength:u16 Interface:cwstr=_InterfaceLength _ConfigurationURLLength:u16 ConfigurationURL:cwstr=_ConfigurationURLLength Error:u32:status"),
		ap(805, 0, "AutoproxyDNSStart", "DetectFlags:x32"),
		ap(806, 0, "AutoproxyDNSStop", "_ConfigurationURLLength:u16 ConfigurationURL:castr=_ConfigurationURLLength DetectFlags:x32"),
		ap(806, 1, "AutoproxyDNSStop", "_ConfigurationURLLength:u16 ConfigurationURL:cwstr=_ConfigurationURLLength DetectFlags:x32"),
		ap(807, 0, "AutoproxyDNSFail", "DetectFlags:x32 Error:u32:status"),
		ap(808, 0, "AutoproxySearchFail", "Error:u32:status"),
		ap(809, 0, "AutoproxyDownloadStart", "_ConfigurationURLLength:u16 ConfigurationURL:castr=_ConfigurationURLLength"),
		ap(809, 1, "AutoproxyDownloadStart", "_ConfigurationURLLength:u16 ConfigurationURL:cwstr=_ConfigurationURLLength"),
		ap(810, 0, "AutoproxyDownloadStop", "_ConfigurationURLLength:u16 ConfigurationURL:castr=_ConfigurationURLLength"),
		ap(810, 1, "AutoproxyDownloadStop", "_ConfigurationURLLength:u16 ConfigurationURL:cwstr=_ConfigurationURLLength"),
		ap(811, 0, "AutoproxyDownloadFail", "_ConfigurationURLLength:u16 ConfigurationURL:castr=_ConfigurationURLLength Error:u32:status"),
		ap(811, 1, "AutoproxyDownloadFail", "_ConfigurationURLLength:u16 ConfigurationURL:cwstr=_ConfigurationURLLength Error:u32:status"),
		ap(812, 0, "AutoproxyDownloadFail", "_ConfigurationURLLength:u16 ConfigurationURL:castr=_ConfigurationURLLength _MIMETypeLength:u16 MIMEType:castr=_MIMETypeLength Error:u32:status"),
		ap(812, 1, "AutoproxyDownloadFail", "_ConfigurationURLLength:u16 ConfigurationURL:cwstr=_ConfigurationURLLength _MIMETypeLength:u16 MIMEType:cwstr=_MIMETypeLength Error:u32:status"),
		ap(813, 0, "AutoproxyFindInfoForURLStart", "_URLLength:u16 URL:castr=_URLLength"),
		ap(813, 1, "AutoproxyFindInfoForURLStart", "_URLLength:u16 URL:cwstr=_URLLength"),
		ap(814, 0, "AutoproxyFindInfoForURLStop", "_URLLength:u16 URL:castr=_URLLength _ProxyStringLength:u16 ProxyString:castr=_ProxyStringLength"),
		ap(814, 1, "AutoproxyFindInfoForURLStop", "_URLLength:u16 URL:cwstr=_URLLength _ProxyStringLength:u16 ProxyString:cwstr=_ProxyStringLength"),
		ap(815, 0, "AutoproxyFindInfoForURLFail", "_URLLength:u16 URL:castr=_URLLength Error:u32:status"),
		ap(815, 1, "AutoproxyFindInfoForURLFail", "_URLLength:u16 URL:cwstr=_URLLength Error:u32:status"),
		ap(816, 0, "BlockingAutoproxyDeterminationStart", ""),
		ap(817, 0, "BlockingAutoproxyDeterminationStop", ""),
		ap(819, 0, "AutoproxySWPAD", "WPADNetworkDecision:u32 NetworkCount:u32"),

		winhttp(59999, "Debug", "(%1:%2) %4", "File:astr Line:u32 Length:u16 Message:castr=Length"),

		// Microsoft-Windows-WinINet §2.3.
		wininet(701, "Client begins SSL negotiation: RequestHandle=%1", "RequestHandle:ptr"),
		wininet(702, "SSL negotiation completed successfully: RequestHandle=%1", "RequestHandle:ptr"),
		wininet(703, "SSL negotiation failed: RequestHandle=%1, Error=%2", "RequestHandle:ptr Error:u32:status"),
		wininet(704, "Error validating server certificate: RequestHandle=%1, Error=%2", "RequestHandle:ptr Error:u32:status"),
		wininet(705, "Server certificate validated: RequestHandle=%1, CertHash=%3, WarningFlags=%4", "RequestHandle:ptr _CertHashLength:u16 CertHash:castr=_CertHashLength WarningFlags:x32"),
		wininet(706, "Server requires a client certificate: RequestHandle=%1", "RequestHandle:ptr"),
		wininet(707, "Client certificate unavailable: RequestHandle=%1, Error=%2", "RequestHandle:ptr Error:u32:status"),
		wininet(708, "Client certificate selected: RequestHandle=%1, CertHash=%3", "RequestHandle:ptr _CertHashLength:u16 CertHash:castr=_CertHashLength"),
		wininet(711, "SSL renegotiation started: RequestHandle=%1", "RequestHandle:ptr"),
		wininet(712, "SSL renegotiation completed: RequestHandle=%1", "RequestHandle:ptr"),
		wininet(713, "SSL renegotiation failed: RequestHandle=%1, Error=%2", "RequestHandle:ptr Error:u32:status"),
		wininet(305, "DNS query for %2 completed: %5", "_HostNameLength:u16 HostName:castr=_HostNameLength RequestHandle:ptr _AddressListLength:u16 AddressList:castr=_AddressListLength"),
		wininet(1065, "Security context start: %2", "Context:ptr HostName:astr NegotiationCount:u32 Socket:u32"),
		wininet(1066, "Security context stop: %2 (Status %5)", "Context:ptr HostName:astr NegotiationCount:u32 Socket:u32 Status:u32:status"),

		// Schannel §2.4: the old layouts; the Windows 11 21H2 layouts with the
		// caller prefix are derived below (same id and version).
		schannel(36871, "A fatal error occurred while creating a TLS %1 credential. The internal error state is %2.", "Type:wstr ErrorState:u32", true),
		schannel(36874, "An %1 connection request was received from a remote client application, but none of the cipher suites supported by the client application are supported by the server.", "Protocol:wstr", true),
		schannel(36876, "The certificate received from the remote server has not validated correctly. The error code is %1.", "ErrorCode:x32:status __binLength:u32 pCertificateContext:bin=__binLength", true),
		schannel(36880, "A TLS %1 handshake completed successfully. Protocol version: %2 CipherSuite: %3 Exchange strength: %4 bits. Target name: %6", "Type:wstr Protocol:wstr CipherSuite:x32 ExchangeStrength:u32 ContextHandle:ptr TargetName:wstr LocalCertSubjectName:wstr RemoteCertSubjectName:wstr", false),
		schannel(36884, "The certificate received from the remote server does not contain the expected name (%1).", "Name:wstr", true),
		schannel(36887, "A fatal alert was received from the remote endpoint. The TLS protocol defined fatal alert code is %1.", "AlertDesc:u32:alert", true),
		schannel(36888, "A fatal alert was generated and sent to the remote endpoint. The TLS protocol defined fatal alert code is %1. Target name: %3", "AlertDesc:u32:alert ErrorState:u32 TargetName:wstr", true),

		// Microsoft-Windows-Schannel-Events §2.5.
		{provider: SchannelEvt, id: 257, name: "AcquireCredentialHandleStart", message: "AcquireCredentialsHandle started"},
		{provider: SchannelEvt, id: 258, name: "AcquireCredentialHandleStop", message: "AcquireCredentialsHandle returned %1", fields: parseFields("ReturnValue:u32:status")},
		{provider: SchannelEvt, id: 513, name: "AcceptSecurityContextStart", message: "AcceptSecurityContext started (context %2)", fields: parseFields("CredHandle:ptr ContextHandle:ptr")},
		{provider: SchannelEvt, id: 514, name: "AcceptSecurityContextStop", message: "AcceptSecurityContext returned %2 (context %1)", fields: parseFields("ContextHandle:ptr ReturnValue:u32:status")},
		{provider: SchannelEvt, id: 1793, name: "DeleteSecurityContextStart", message: "DeleteSecurityContext %1 (target %2)", fields: parseFields("ContextHandle:ptr TargetName:wstr")},
		{provider: SchannelEvt, id: 1794, name: "DeleteSecurityContextStop", message: "DeleteSecurityContext done"},

		// Microsoft-Windows-TCPIP §2.6 (addresses are SOCKADDRs: believed).
		tcpip(1033, "TcpConnectTcbComplete", 0),
		tcpip(1034, "TcpConnectTcbFailure", 0),
		tcpip(1045, "TcpConnectTcbTimeout", 0),
		tcpip(1033, "TcpConnectTcbComplete", 1),
		tcpip(1034, "TcpConnectTcbFailure", 1),
		tcpip(1045, "TcpConnectTcbTimeout", 1),
		tcpip(1038, "TcpCloseTcbRequest", 0),
		tcpip(1039, "TcpAbortTcbRequest", 0),
		tcpip(1040, "TcpAbortTcbComplete", 0),
		tcpip(1043, "TcpDisconnectTcbComplete", 0),
		tcpip(1038, "TcpCloseTcbRequest", 1),
		tcpip(1039, "TcpAbortTcbRequest", 1),
		tcpip(1040, "TcpAbortTcbComplete", 1),
		tcpip(1043, "TcpDisconnectTcbComplete", 1),

		// Microsoft-Windows-DNS-Client §2.7.
		{provider: DNSClient, id: 3006, name: "DnsQueryStart", message: "DNS query for %1 (type %2)", fields: parseFields("QueryName:wstr QueryType:u32 QueryOptions:u64 ServerList:wstr IsNetworkQuery:u32 NetworkQueryIndex:u32 InterfaceIndex:u32 IsAsyncQuery:u32")},
		{provider: DNSClient, id: 3008, name: "DnsQueryComplete", message: "DNS query for %1 (type %2) completed: status %4, results %5", fields: parseFields("QueryName:wstr QueryType:u32 QueryOptions:u64 QueryStatus:u32:status QueryResults:wstr"), believed: true},
		{provider: DNSClient, id: 3020, name: "DnsQueryResponse", message: "DNS response for %1: status %5, results %6", fields: parseFields("QueryName:wstr QueryType:u32 NetworkIndex:u32 InterfaceIndex:u32 Status:u32:status QueryResults:wstr"), trailing: true},

		// Winsock-AFD §2.8.
		{provider: AFD, id: 1017, name: "AfdConnect", message: "connect status %5", fields: parseFields("EnterExit:u32 Location:u32 Process:ptr Endpoint:ptr Status:u32:status")},
		{provider: AFD, id: 1018, name: "AfdConnectWithAddress", message: "connect %9 status %7", fields: parseFields("EnterExit:u32 Location:u32 Process:ptr Endpoint:ptr Buffer:ptr BufferLength:u32 Status:u32:status AddressLen:u32 Address:sock=AddressLen")},

		// NDIS-PacketCapture §2.9: with and without the 1809 trailing fields.
		{provider: NDISCapture, id: 1001, name: "PacketFragment", message: "Packet fragment (%3 bytes) on interface %2", fields: parseFields("MiniportIfIndex:u32 LowerIfIndex:u32 FragmentSize:u32 Fragment:bin=FragmentSize GftFlowEntryId:u64 GftOffloadInformation:u64")},
		{provider: NDISCapture, id: 1001, name: "PacketFragment", message: "Packet fragment (%3 bytes) on interface %2", fields: parseFields("MiniportIfIndex:u32 LowerIfIndex:u32 FragmentSize:u32 Fragment:bin=FragmentSize")},
		{provider: NDISCapture, id: 1002, name: "PacketMetadata", message: "Packet metadata (%3 bytes) on interface %2", fields: parseFields("MiniportIfIndex:u32 LowerIfIndex:u32 MetadataSize:u32 Metadata:bin=MetadataSize")},

		// PktMon packet event (field list from the provider manifest).
		{provider: PktMon, id: 160, name: "PacketFragment", message: "Packet (%12 of %11 bytes) component %6 dir %4", fields: parseFields(pktmonPacket)},
		// 170 (drop) has the same fields (message "Drop: PktGroupId %1, …,
		// DropReason %9, DropLocation %10, OriginalSize %11, LoggedSize %12").
		{provider: PktMon, id: 170, name: "PacketDrop", message: "Drop: packet (%12 of %11 bytes) component %6 dir %4 reason %9 location %10", fields: parseFields(pktmonPacket)},

		// Microsoft-Windows-Ras-NdisWanPacketCapture: packets inside a VPN
		// tunnel, 5001 send / 5002 receive (field list as etl2pcapng reads it).
		// The RRAS user name is personal data: left out of the message, so it
		// shows only when asked for (--fields RRASUserName).
		{provider: RasNdisWan, id: 5001, name: "SendPacket", message: "VPN packet sent (%3 bytes) routing domain %1", fields: parseFields(rasPacket)},
		{provider: RasNdisWan, id: 5002, name: "ReceivePacket", message: "VPN packet received (%3 bytes) routing domain %1", fields: parseFields(rasPacket)},
	}
}

const (
	pktmonPacket = "PktGroupId:u64 PktNumber:u16 AppearanceCount:u16 DirTag:u16 PacketType:u16 ComponentId:u16 EdgeId:u16 FilterId:u16 DropReason:x32 DropLocation:x32 OriginalPayloadSize:u16 LoggedPayloadSize:u16 Payload:bin=LoggedPayloadSize"
	rasPacket    = "RoutingDomainID:wstr RRASUserName:wstr FragmentSize:u32 Fragment:bin=FragmentSize"
)

const (
	achV0   = "Connection:ptr EnabledProtocols:u32:prot SSLClientCert:ptr EnableRevertToSelfClientCertificate:u16 CredHandleHigh:u64 CredHandleLow:u64 Result:u32:status"
	achV1   = "Connection:ptr EnabledProtocols:u32:prot SSLClientCert:ptr EnableRevertToSelfClientCertificate:u16 CipherConfig:u32 CredHandleHigh:u64 CredHandleLow:u64 Result:u32:status"
	isc     = "Connection:ptr SecurityHandleHigh:u64 SecurityHandleLow:u64 CredHandleHigh:u64 CredHandleLow:u64 HostName:wstr InputFlags:x32 Buffer:ptr BufferLengthData:u32 BufferLengthRemaining:u32 OutputFlags:x32 DataChunks:ptr DataChunkBufferLength:u32 Result:u32:status"
	certVal = "Connection:ptr ContextHandleHigh:u64 ContextHandleLow:u64 IgnoredServerCertErrors:u32:certflags ServerCertErrors:u32:certflags Error:u32:status Reason:u32:certreason"
	connect = "Connection:ptr SocketHandle:u64 AddressLength:u32 Address:cwstr=AddressLength Context:ptr RemainingAddressCount:u64 Error:u32:status"
)

func webio(id uint16, v uint8, task, op, msg, fields string) *schema {
	return &schema{provider: WebIO, id: id, version: v, name: task + op, task: task, opcode: op, message: msg, fields: parseFields(fields)}
}

func winhttp(id uint16, task, msg, fields string) *schema {
	s := &schema{provider: WinHttp, id: id, task: task, message: msg, fields: parseFields(fields)}
	if task == "" {
		s.name = "WinHttp" + itoa(id)
	}
	return s
}

func ap(id uint16, v uint8, name, fields string) *schema {
	return &schema{provider: WinHttp, id: id, version: v, name: name, task: name, fields: parseFields(fields), believed: v == 1}
}

func wininet(id uint16, msg, fields string) *schema {
	return &schema{provider: WinINet, id: id, message: msg, fields: parseFields(fields)}
}

func schannel(id uint16, msg, fields string, prefixed bool) *schema {
	return &schema{provider: Schannel, id: id, message: msg, fields: parseFields(fields), trailing: id == 36880}
}

func tcpip(id uint16, name string, v uint8) *schema {
	f := "LocalAddressLength:u32 LocalAddress:sock=LocalAddressLength RemoteAddressLength:u32 RemoteAddress:sock=RemoteAddressLength Status:u32:status ProcessId:u32 Compartment:u32 Tcb:ptr"
	if v == 1 {
		f += " ProcessStartKey:u64"
	}
	return &schema{provider: TCPIP, id: id, version: v, name: name, message: name + " %2 → %4 status %5 pid %6", fields: parseFields(f), believed: true}
}

// schannelPrefixed lists the Schannel ids that gained the caller prefix in
// Windows 11 21H2 (providers.md §2.4): all but 36864, 36865, 36868, 36880
// and 36928.
func schannelPrefixed(id uint16) bool {
	switch id {
	case 36864, 36865, 36868, 36880, 36928:
		return false
	}
	return true
}

func itoa(n uint16) string {
	var b [6]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return string(b[i:])
}

// logfileHeader is the payload of the EventTrace header record
// (TRACE_LOGFILE_HEADER), up to the two name pointers; the time zone and
// clock fields that follow are left to etl.Header.
var logfileHeader = &schema{provider: etl.EventTraceGUID, name: "Header", task: "EventTrace", opcode: "Header", trailing: true,
	message: "Trace header: Windows build %3, %4 processors, buffer size %1, %9 buffers written, %12 events lost",
	fields:  parseFields("BufferSize:u32 Version:x32 ProviderVersion:u32 NumberOfProcessors:u32 EndTime:ft TimerResolution:u32 MaximumFileSize:u32 LogFileMode:x32 BuffersWritten:u32 StartBuffers:u32 PointerSize:u32 EventsLost:u32 CpuSpeedInMHz:u32 LoggerName:ptr LogFileName:ptr")}

// schemaKey indexes schemas.
type schemaKey struct {
	provider etl.GUID
	id       uint16
}

// index builds the lookup table: every (provider, id) with its candidate
// layouts, the exact version first.
func index(list []*schema) map[schemaKey][]*schema {
	m := map[schemaKey][]*schema{}
	for _, s := range list {
		k := schemaKey{s.provider, s.id}
		m[k] = append(m[k], s)
		if s.provider == Schannel && schannelPrefixed(s.id) {
			p := *s
			p.fields = append(parseFields("CallerProcessId:u32 CallerProcessImageName:wstr"), s.fields...)
			for i := range p.fields[2:] {
				if p.fields[2+i].lenRef >= 0 {
					p.fields[2+i].lenRef += 2
				}
			}
			p.message = shiftMessage(s.message, 2)
			p.name = s.name
			m[k] = append([]*schema{&p}, m[k]...)
		}
	}
	return m
}

// shiftMessage renumbers %n insertions by d.
func shiftMessage(msg string, d int) string {
	var out []byte
	for i := 0; i < len(msg); i++ {
		if msg[i] == '%' && i+1 < len(msg) && msg[i+1] >= '1' && msg[i+1] <= '9' {
			j := i + 1
			n := 0
			for j < len(msg) && msg[j] >= '0' && msg[j] <= '9' {
				n = n*10 + int(msg[j]-'0')
				j++
			}
			out = append(out, '%')
			out = append(out, itoa(uint16(n+d))...)
			i = j - 1
			continue
		}
		out = append(out, msg[i])
	}
	return string(out)
}
