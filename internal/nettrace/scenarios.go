package nettrace

import (
	"crypto/tls"
	"net/netip"
	"testing"

	"github.com/etlscope/etlscope/internal/etltest"
	"github.com/etlscope/etlscope/tlswire/tlstest"
)

// Addresses and processes used by the scenarios.
var (
	ClientAddr = netip.MustParseAddrPort("10.0.0.5:50123")
	O365Addr   = netip.MustParseAddrPort("52.97.1.2:443")
	PowerShell = Proc{PID: 4321, TID: 77}
)

const o365 = "outlook.office365.com"

// Handshake runs a real TLS handshake and returns the client and server
// flights as writes.
func Handshake(tb testing.TB, clientMax, serverMin uint16, serverName string) []Write {
	cert := tlstest.SelfSigned(tb, serverName)
	res := tlstest.Handshake(tb,
		// A fixed cipher list keeps the server's choice independent of the
		// machine's AES hardware (golden files depend on it).
		&tls.Config{ServerName: o365, InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, MaxVersion: clientMax,
			CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}},
		&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: serverMin})
	var w []Write
	ci, si := 0, 0
	for ci < len(res.Client) || si < len(res.Server) {
		if ci < len(res.Client) {
			w = append(w, Write{Data: res.Client[ci]})
			ci++
		}
		if si < len(res.Server) {
			w = append(w, Write{FromServer: true, Data: res.Server[si]})
			si++
		}
	}
	return w
}

func finish(tb testing.TB, b *Builder) []byte {
	data, err := b.Bytes()
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// prologue adds DNS and the TCP connect of a PowerShell WinHTTP request.
func prologue(b *Builder) {
	b.DNSQueryDone(PowerShell, o365, 1, 0, "52.97.1.2;")
	b.TCPConnect(PowerShell, ClientAddr, O365Addr, 0, 0xfeed, false)
}

// HCW2012 is the seed case on Windows Server 2012 (build 9200): WinHTTP
// enables SSL3|TLS1.0 only (EnabledProtocols 0xA0), the ClientHello offers
// TLS 1.0, Office 365 answers with alert 70, InitializeSecurityContext
// fails and WinHTTP reports ERROR_WINHTTP_SECURE_FAILURE.
func HCW2012(tb testing.TB) []byte {
	b := New(etltest.Options{Build: 9200})
	conn := uint64(0x2a0f3e8)
	prologue(b)
	b.WinHttpCredentials(PowerShell, 0x77, `CONTOSO\admin`, "Secret!")
	b.WebIOACHStart(PowerShell, ACH{Connection: conn, EnabledProtocols: 0xA0, Version: 1})
	b.WebIOACHStop(PowerShell, ACH{Connection: conn, EnabledProtocols: 0xA0, Version: 1, CredHigh: 1, CredLow: 2})
	b.WebIOISCStart(PowerShell, ISC{Connection: conn, HostName: o365})
	w := Handshake(tb, tls.VersionTLS10, tls.VersionTLS12, o365)
	if err := b.TCPSession(Session{Client: ClientAddr, Server: O365Addr, Writes: w, End: EndServerFIN}); err != nil {
		tb.Fatal(err)
	}
	b.WebIOISCStop(PowerShell, ISC{Connection: conn, HostName: o365, Result: 0x80090326})
	b.WinHttpAPI(PowerShell, 0x77, "WinHttpSendRequest", 11, 12175)
	return finish(tb, b)
}

// Healthy is a working TLS 1.2 connection from Windows Server 2019 (build
// 17763): EnabledProtocols 0xA80, TLS 1.2 negotiated.
func Healthy(tb testing.TB) []byte {
	b := New(etltest.Options{Build: 17763})
	conn := uint64(0x3b00010)
	prologue(b)
	b.WebIOACHStart(PowerShell, ACH{Connection: conn, EnabledProtocols: 0xA80, Version: 1})
	b.WebIOACHStop(PowerShell, ACH{Connection: conn, EnabledProtocols: 0xA80, Version: 1, CredHigh: 1, CredLow: 2})
	b.WebIOISCStart(PowerShell, ISC{Connection: conn, HostName: o365})
	w := Handshake(tb, tls.VersionTLS12, tls.VersionTLS12, o365)
	if err := b.TCPSession(Session{Client: ClientAddr, Server: O365Addr, Writes: w, End: EndClientFIN, Trailing: true}); err != nil {
		tb.Fatal(err)
	}
	b.WebIOISCStop(PowerShell, ISC{Connection: conn, HostName: o365, Result: 0})
	b.WebIOCertValidation(PowerShell, CertValidation{Connection: conn}, false)
	return finish(tb, b)
}

// CertMismatch is a TLS 1.2 handshake that succeeds on the wire, after
// which WebIO rejects the certificate (713: CERT_CN_INVALID,
// CERT_E_CN_NO_MATCH) on Windows 10 (build 19041).
func CertMismatch(tb testing.TB) []byte {
	b := New(etltest.Options{Build: 19041})
	conn := uint64(0x4c00020)
	prologue(b)
	b.WebIOACHStart(PowerShell, ACH{Connection: conn, EnabledProtocols: 0xA80, Version: 1})
	b.WebIOACHStop(PowerShell, ACH{Connection: conn, EnabledProtocols: 0xA80, Version: 1, CredHigh: 1, CredLow: 2})
	w := Handshake(tb, tls.VersionTLS12, tls.VersionTLS12, "proxy.contoso.com")
	if err := b.TCPSession(Session{Client: ClientAddr, Server: O365Addr, Writes: w, End: EndClientFIN, Trailing: true}); err != nil {
		tb.Fatal(err)
	}
	b.WebIOISCStop(PowerShell, ISC{Connection: conn, HostName: o365, Result: 0})
	b.WebIOCertValidation(PowerShell, CertValidation{Connection: conn, Errors: 0x10, Error: 0x800B010F, Reason: 5}, true)
	b.WinHttpAPI(PowerShell, 0x77, "WinHttpSendRequest", 11, 12175)
	return finish(tb, b)
}

// NoWebIO is a trace with packets and TCPIP events but no WebIO provider
// (Windows 10, build 19041): the TLS 1.2 handshake works, but nothing can be
// said about EnabledProtocols.
func NoWebIO(tb testing.TB) []byte {
	b := New(etltest.Options{Build: 19041})
	prologue(b)
	w := Handshake(tb, tls.VersionTLS12, tls.VersionTLS12, o365)
	if err := b.TCPSession(Session{Client: ClientAddr, Server: O365Addr, Writes: w, End: EndClientFIN, Trailing: true}); err != nil {
		tb.Fatal(err)
	}
	return finish(tb, b)
}

// Win7SchannelOff is Windows Server 2008 R2 (build 7601) with KB3140245
// and DefaultSecureProtocols 0xA80: WebIO asks for TLS 1.0–1.2, but the
// SCHANNEL TLS 1.2 client is off, so the ClientHello still offers only TLS
// 1.0 and Office 365 answers with alert 70.
func Win7SchannelOff(tb testing.TB) []byte {
	b := New(etltest.Options{Build: 7601})
	conn := uint64(0x5d00030)
	prologue(b)
	b.WebIOACHStart(PowerShell, ACH{Connection: conn, EnabledProtocols: 0xA80, Version: 1})
	b.WebIOACHStop(PowerShell, ACH{Connection: conn, EnabledProtocols: 0xA80, Version: 1, CredHigh: 1, CredLow: 2})
	w := Handshake(tb, tls.VersionTLS10, tls.VersionTLS12, o365)
	if err := b.TCPSession(Session{Client: ClientAddr, Server: O365Addr, Writes: w, End: EndServerFIN}); err != nil {
		tb.Fatal(err)
	}
	b.WebIOISCStop(PowerShell, ISC{Connection: conn, HostName: o365, Result: 0x80090326})
	return finish(tb, b)
}
