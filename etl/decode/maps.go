package decode

import (
	"fmt"
	"strings"

	"github.com/etlscope/etlscope/tlswire"
	"github.com/etlscope/etlscope/wintls"
)

// valueMap names a numeric value; "" when it has no name.
type valueMap func(uint64) string

// ProtocolNames decodes an SP_PROT_* / WINHTTP_FLAG_SECURE_PROTOCOL_* /
// EnabledProtocols bitmask: 0xA80 → "TLS1.0|TLS1.1|TLS1.2 (client)". The
// names come from package wintls.
func ProtocolNames(mask uint32) string { return wintls.Protocols(mask).String() }

// WinHTTPProtocolNames decodes WINHTTP_FLAG_SECURE_PROTOCOL_* masks (and
// DefaultSecureProtocols), which use the SP_PROT client bits.
func WinHTTPProtocolNames(mask uint32) string { return ProtocolNames(mask) }

// ClientProtocols returns the TLS/SSL client protocol names set in mask,
// e.g. ["TLS1.0","TLS1.1"].
func ClientProtocols(mask uint32) []string { return wintls.Protocols(mask).ClientNames() }

// errorNames are SECURITY_STATUS, WinHTTP and Win32 codes (providers.md
// §3.6; the SEC_E meanings marked believed there are only names here).
var errorNames = map[uint32]string{
	0x00000000: "SEC_E_OK",
	0x00090312: "SEC_I_CONTINUE_NEEDED",
	0x00090317: "SEC_I_CONTEXT_EXPIRED",
	0x00090320: "SEC_I_INCOMPLETE_CREDENTIALS",
	0x00090321: "SEC_I_RENEGOTIATE",
	0x80090300: "SEC_E_INSUFFICIENT_MEMORY",
	0x80090301: "SEC_E_INVALID_HANDLE",
	0x80090302: "SEC_E_UNSUPPORTED_FUNCTION",
	0x80090304: "SEC_E_INTERNAL_ERROR",
	0x80090308: "SEC_E_INVALID_TOKEN",
	0x8009030D: "SEC_E_UNKNOWN_CREDENTIALS",
	0x8009030E: "SEC_E_NO_CREDENTIALS",
	0x8009030F: "SEC_E_MESSAGE_ALTERED",
	0x80090318: "SEC_E_INCOMPLETE_MESSAGE",
	0x80090322: "SEC_E_WRONG_PRINCIPAL",
	0x80090324: "SEC_E_TIME_SKEW",
	0x80090325: "SEC_E_UNTRUSTED_ROOT",
	0x80090326: "SEC_E_ILLEGAL_MESSAGE",
	0x80090327: "SEC_E_CERT_UNKNOWN",
	0x80090328: "SEC_E_CERT_EXPIRED",
	0x80090330: "SEC_E_DECRYPT_FAILURE",
	0x80090331: "SEC_E_ALGORITHM_MISMATCH",
	0x80090349: "SEC_E_CERT_WRONG_USAGE",
	0x80090350: "SEC_E_DOWNGRADE_DETECTED",
	0x80090367: "SEC_E_APPLICATION_PROTOCOL_MISMATCH",
	0x80092010: "CRYPT_E_REVOKED",
	0x80092012: "CRYPT_E_NO_REVOCATION_CHECK",
	0x80092013: "CRYPT_E_REVOCATION_OFFLINE",
	0x80096004: "TRUST_E_CERT_SIGNATURE",
	0x80096019: "TRUST_E_BASIC_CONSTRAINTS",
	0x800B0101: "CERT_E_EXPIRED",
	0x800B0109: "CERT_E_UNTRUSTEDROOT",
	0x800B010A: "CERT_E_CHAINING",
	0x800B010F: "CERT_E_CN_NO_MATCH",
	0x800B0110: "CERT_E_WRONG_USAGE",
	0x800B0111: "TRUST_E_EXPLICIT_DISTRUST",
	12002:      "ERROR_WINHTTP_TIMEOUT",
	12007:      "ERROR_WINHTTP_NAME_NOT_RESOLVED",
	12029:      "ERROR_WINHTTP_CANNOT_CONNECT",
	12030:      "ERROR_WINHTTP_CONNECTION_ERROR",
	12037:      "ERROR_WINHTTP_SECURE_CERT_DATE_INVALID",
	12038:      "ERROR_WINHTTP_SECURE_CERT_CN_INVALID",
	12045:      "ERROR_WINHTTP_SECURE_INVALID_CA",
	12057:      "ERROR_WINHTTP_SECURE_CERT_REV_FAILED",
	12157:      "ERROR_WINHTTP_SECURE_CHANNEL_ERROR",
	12169:      "ERROR_WINHTTP_SECURE_INVALID_CERT",
	12170:      "ERROR_WINHTTP_SECURE_CERT_REVOKED",
	12175:      "ERROR_WINHTTP_SECURE_FAILURE",
	12179:      "ERROR_WINHTTP_SECURE_CERT_WRONG_USAGE",
	12185:      "ERROR_WINHTTP_CLIENT_CERT_NO_PRIVATE_KEY",
	12186:      "ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY",
	0x80072F05: "ERROR_WINHTTP_SECURE_CERT_DATE_INVALID",
	0x80072F06: "ERROR_WINHTTP_SECURE_CERT_CN_INVALID",
	0x80072F0D: "ERROR_WINHTTP_SECURE_INVALID_CA",
	0x80072F7D: "ERROR_WINHTTP_SECURE_CHANNEL_ERROR",
	0x80072F8F: "ERROR_WINHTTP_SECURE_FAILURE",
	10013:      "WSAEACCES",
	10060:      "WSAETIMEDOUT",
	10061:      "WSAECONNREFUSED",
	10054:      "WSAECONNRESET",
	1225:       "ERROR_CONNECTION_REFUSED",
	1236:       "ERROR_CONNECTION_ABORTED",
	0xC0000236: "STATUS_CONNECTION_REFUSED",
	0xC000020C: "STATUS_CONNECTION_DISCONNECTED",
	0xC00000B5: "STATUS_IO_TIMEOUT",
	0xC0000241: "STATUS_CONNECTION_ABORTED",
}

// ErrorName names a SECURITY_STATUS, WinHTTP, Win32, Winsock or NTSTATUS
// code seen in TLS-related events; "" when unknown.
func ErrorName(code uint32) string { return errorNames[code] }

// TLSAlertName names a TLS alert description.
func TLSAlertName(d uint8) string { return tlswire.AlertName(d) }

var closeReasons = []string{"Local Graceful", "Remote Graceful", "Local Reset", "Remote Reset", "Connect Timeout",
	"Send Timeout", "Receive Timeout", "Scavenged", "No Reason", "Cleanup after hitting an error condition"}

var certReasons = []string{"No Error", "Unable to Get Cert", "NULL cert context", "Unable to Get Cert Chain",
	"Unable to Process URL to Hostname", "Cert Validation Failure", "Unable to get Stream Sizes",
	"Unable to get Endpoint Bindings", "Unable to get secure connection information"}

// certErrorFlags are WINHTTP_CALLBACK_STATUS_FLAG_* (providers.md §3.6;
// that WebIO's ServerCertErrors uses them is believed).
var certErrorFlags = []struct {
	bit  uint32
	name string
}{
	{0x1, "CERT_REV_FAILED"}, {0x2, "INVALID_CERT"}, {0x4, "CERT_REVOKED"}, {0x8, "INVALID_CA"},
	{0x10, "CERT_CN_INVALID"}, {0x20, "CERT_DATE_INVALID"}, {0x40, "CERT_WRONG_USAGE"},
	{0x80000000, "SECURITY_CHANNEL_ERROR"},
}

// CertErrorNames decodes a WINHTTP_CALLBACK_STATUS_FLAG_* set.
func CertErrorNames(v uint32) string {
	var n []string
	for _, f := range certErrorFlags {
		if v&f.bit != 0 {
			n = append(n, f.name)
			v &^= f.bit
		}
	}
	if v != 0 {
		n = append(n, fmt.Sprintf("0x%x", v))
	}
	return strings.Join(n, "|")
}

var requestOptions = map[uint64]string{5: "IgnoredServerCertErrors", 6: "SecureProtocols", 0xF: "SecureProtocolInformation",
	0x13: "ServerCert", 0x1A: "ServerCertErrors", 0x4000: "RevertToSelfClientCertificate"}

func listMap(l []string) valueMap {
	return func(u uint64) string {
		if u < uint64(len(l)) {
			return l[u]
		}
		return ""
	}
}

// maps are the value maps schemas refer to by name.
var maps = map[string]valueMap{
	"prot":        func(u uint64) string { return ProtocolNames(uint32(u)) },
	"status":      func(u uint64) string { return ErrorName(uint32(u)) },
	"alert":       func(u uint64) string { return TLSAlertName(uint8(u)) },
	"closereason": listMap(closeReasons),
	"certreason":  listMap(certReasons),
	"certflags":   func(u uint64) string { return CertErrorNames(uint32(u)) },
	"reqoption":   func(u uint64) string { return requestOptions[u] },
}
