package decode

import "strings"

// PropKind says what kind of data a decoded property holds, so that
// redaction and secret hiding can treat it by meaning rather than by
// guessing from its text. It is derived from the field's name and types
// (schema, manifest, TRACE_EVENT_INFO or TraceLogging metadata).
type PropKind uint8

// Property kinds.
const (
	PropPlain      PropKind = iota // numbers, flags, codes, names of things: nothing personal
	PropText                       // free text that may mention anything (messages, descriptions)
	PropIP                         // an IP address
	PropSockAddr                   // a socket address (binary SOCKADDR or "ip:port" text)
	PropHost                       // a host name (DNS name, NetBIOS name, SNI, target name)
	PropURL                        // a URL or proxy string
	PropUser                       // a user or account name
	PropDomain                     // a Windows domain
	PropPath                       // a file system path or command line
	PropEmail                      // an e-mail address
	PropMAC                        // a link-layer address
	PropCertName                   // a certificate subject or issuer name
	PropCredential                 // a password, token or credential blob: never printed unless asked
	PropOpaque                     // bytes etlscope does not interpret (packets, binary values)
)

var propKindNames = [...]string{"plain", "text", "ip", "sockaddr", "host", "url", "user", "domain", "path", "email", "mac", "certname", "credential", "opaque"}

func (k PropKind) String() string {
	if int(k) < len(propKindNames) {
		return propKindNames[k]
	}
	return "unknown"
}

// TraceLogging out-types that carry addresses (TraceLoggingProvider.h:
// TlgOutIPV4 = 10, TlgOutIPV6 = 11, TlgOutSOCKETADDRESS = 12).
const (
	tlOutIPv4     = 10
	tlOutIPv6     = 11
	tlOutSockAddr = 12
)

// kindOf classifies a field by its in-type, its TraceLogging out-type (0
// when none) and its name. Names are matched case-insensitively on the
// words the Windows manifests use (UserName, TargetName, QueryName,
// ConfigurationURL, ProcessPath, …).
func kindOf(name string, t inType, out uint8) PropKind {
	switch out &^ tlChain {
	case tlOutIPv4, tlOutIPv6:
		return PropIP
	case tlOutSockAddr:
		return PropSockAddr
	}
	n := strings.ToLower(name)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(n, w) {
				return true
			}
		}
		return false
	}
	isString := t == tWStr || t == tAStr || t == tCWStr || t == tCAStr || t == tCWStr16 || t == tCAStr16
	switch {
	case t == tSock:
		return PropSockAddr
	case has("password", "passwd", "secret", "token", "credentialblob", "authblob"):
		if strings.Contains(n, "handle") || strings.Contains(n, "length") || strings.Contains(n, "size") {
			return PropPlain
		}
		if isString || t == tBin || t == tBinU16 {
			return PropCredential
		}
	case t == tSID:
		return PropUser
	}
	if !isString {
		switch t {
		case tBin, tBinU16, tSysTime:
			if has("mac") && t != tSysTime {
				return PropMAC
			}
			if t == tSysTime {
				return PropPlain
			}
			return PropOpaque
		}
		return PropPlain
	}
	switch {
	case has("email", "mail", "upn"):
		return PropEmail
	case has("username", "user", "account", "principal", "logon"):
		return PropUser
	case has("domain"):
		return PropDomain
	case has("subjectname", "issuer", "subject", "certname"):
		return PropCertName
	case has("url", "uri", "proxy", "pac"):
		return PropURL
	case has("path", "file", "image", "module", "command", "directory", "folder"):
		return PropPath
	case has("mac"):
		return PropMAC
	case has("hostname", "addressname", "queryname", "computername", "machinename", "dnsname"):
		return PropHost
	case has("address", "addr", "results", "serverlist"):
		return PropSockAddr
	case has("host", "server", "target", "name"):
		// ProcessName, ModuleName, ProviderName… are names of things,
		// not hosts: the words above caught the paths; keep the rest as
		// hosts only when the field says so.
		if has("host", "server", "target") {
			return PropHost
		}
		if has("process", "provider", "event", "task", "api", "protocol", "type", "cipher", "logger", "zone") {
			return PropPlain
		}
		return PropText
	case has("protocol", "api", "type", "cipher", "version"):
		return PropPlain
	}
	return PropText
}
