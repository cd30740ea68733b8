package diagnose_test

import (
	"crypto/tls"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/etlscope/etlscope/diagnose"
	"github.com/etlscope/etlscope/internal/etltest"
	"github.com/etlscope/etlscope/internal/nettrace"
)

// kinds lists the verdict kinds of a, in order.
func kinds(a *diagnose.Analysis) []diagnose.Kind {
	var out []diagnose.Kind
	for _, v := range a.Verdicts {
		out = append(out, v.Kind)
	}
	return out
}

func allText(a *diagnose.Analysis) string {
	b, _ := json.Marshal(a.Verdicts)
	return string(b)
}

// handshakeWrites runs a real crypto/tls handshake (client at most
// clientMax, server at least serverMin) and interleaves its flights.
func handshakeWrites(t *testing.T, clientMax, serverMin uint16) []nettrace.Write {
	return nettrace.Handshake(t, clientMax, serverMin, "outlook.office365.com")
}

// TestCredentialsFailed: the shape of a machine where a policy disabled
// the SCHANNEL TLS 1.2 client while WinHTTP asks for TLS 1.2 only
// (DefaultSecureProtocols 0x800). WebIO logs AcquireCredentialsHandle
// start (728) and failure (730, SEC_E_ALGORITHM_MISMATCH 0x80090331 —
// layouts per the WebIO manifest), Schannel logs 36871 "A fatal error
// occurred while creating a TLS client credential. The internal error
// state is 10013." (Schannel manifest), and the packet capture has the TCP
// connect but no ClientHello. The verdict must blame the SCHANNEL client
// keys, and must not ask for a capture with packets.
func TestCredentialsFailed(t *testing.T) {
	b := nettrace.New(etltest.Options{Build: 17763})
	p := nettrace.PowerShell
	b.DNSQueryDone(p, "outlook.office365.com", 1, 0, "52.97.1.2;")
	b.TCPConnect(p, nettrace.ClientAddr, nettrace.O365Addr, 0, 0xfeed, false)
	b.WebIOACHStart(p, nettrace.ACH{Connection: 1, EnabledProtocols: 0x800, Version: 1})
	b.WebIOACHStop(p, nettrace.ACH{Connection: 1, EnabledProtocols: 0x800, Version: 1, Result: 0x80090331})
	b.SchannelCredentialError(p, nil, "client", 10013)
	if err := b.TCPSession(nettrace.Session{Client: nettrace.ClientAddr, Server: nettrace.O365Addr, End: nettrace.EndClientFIN}); err != nil {
		t.Fatal(err)
	}
	data, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	a := analyzeBytes(t, data, nil)
	if a.Result != diagnose.ResultProblem || len(a.Verdicts) == 0 || a.Verdicts[0].Kind != diagnose.KindCredentialsFailed {
		t.Fatalf("verdicts %v (%s)", kinds(a), a.Result)
	}
	v := a.Verdicts[0]
	fix := strings.Join(v.Fix, "\n")
	if !strings.Contains(fix, `TLS 1.2\Client" /v Enabled /t REG_DWORD /d 1`) || !strings.Contains(fix, "Reboot") {
		t.Errorf("fix: %s", fix)
	}
	if !strings.Contains(v.Detail, "enabled by default") || !strings.Contains(v.Detail, "holds no ClientHello") {
		t.Errorf("detail: %s", v.Detail)
	}
	if strings.Contains(allText(a), "Capture again with packets") || strings.Contains(allText(a), "capture=yes") {
		t.Errorf("asks for packets although they were captured: %s", allText(a))
	}
	if a.Has(diagnose.KindTLSErrors) || a.Has(diagnose.KindWinHTTPTLS12Off) {
		t.Errorf("extra verdicts %v", kinds(a))
	}
}

// TestCertificateAfterHandshake: a TLS 1.2 handshake completes on the
// wire, then WinHTTP rejects the certificate (WebIO 713) and drops the
// connection. One certificate verdict, no "handshake failed" verdict.
func TestCertificateAfterHandshake(t *testing.T) {
	a := analyzeBytes(t, nettrace.CertMismatch(t), nil)
	n := 0
	for _, v := range a.Verdicts {
		if v.Severity == diagnose.Problem {
			n++
		}
	}
	if n != 1 || !a.Has(diagnose.KindCertificateInvalid) || a.Has(diagnose.KindHandshakeFailed) {
		t.Errorf("verdicts %v", kinds(a))
	}
}

// TestSchannelDefaultNamedOnlyWhereTrue: on Windows Server 2012 (build
// 9200) the SCHANNEL TLS 1.2 client is on by default ("Protocols in
// TLS/SSL (Schannel SSP)"), so when WinHTTP asked for TLS 1.2 and the wire
// shows TLS 1.0, the verdict must not blame "the default"; on Windows 7
// (7601) it may.
func TestSchannelDefaultNamedOnlyWhereTrue(t *testing.T) {
	for _, tt := range []struct {
		build       uint32
		wantDefault bool
	}{{9200, false}, {7601, true}} {
		b := nettrace.New(etltest.Options{Build: tt.build})
		p := nettrace.PowerShell
		b.WebIOACHStart(p, nettrace.ACH{Connection: 1, EnabledProtocols: 0xA80, Version: 1})
		if err := b.TCPSession(nettrace.Session{Client: nettrace.ClientAddr, Server: nettrace.O365Addr, Writes: handshakeWrites(t, tls.VersionTLS10, tls.VersionTLS12), End: nettrace.EndServerFIN}); err != nil {
			t.Fatal(err)
		}
		data, err := b.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		a := analyzeBytes(t, data, nil)
		if len(a.Verdicts) == 0 || a.Verdicts[0].Kind != diagnose.KindSchannelTLS12Off {
			t.Fatalf("build %d: verdicts %v", tt.build, kinds(a))
		}
		if got := strings.Contains(a.Verdicts[0].Detail, "default"); got != tt.wantDefault {
			t.Errorf("build %d: names the default = %v: %s", tt.build, got, a.Verdicts[0].Detail)
		}
	}
}

// TestKB3140245OnlyWhereItApplies: the seed case's mask (0xA0) on 2012 R2
// (9600) and Windows 10 (17763) gets the DefaultSecureProtocols fix
// without KB3140245, which exists only for 7 SP1, 2008 R2 SP1 and 2012.
func TestKB3140245OnlyWhereItApplies(t *testing.T) {
	for _, tt := range []struct {
		build uint32
		kb    bool
	}{{7601, true}, {9200, true}, {9600, false}, {17763, false}, {20348, false}} {
		b := nettrace.New(etltest.Options{Build: tt.build})
		b.WebIOACHStart(nettrace.PowerShell, nettrace.ACH{Connection: 1, EnabledProtocols: 0xA0, Version: 1})
		data, err := b.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		a := analyzeBytes(t, data, nil)
		if !a.Has(diagnose.KindWinHTTPTLS12Off) {
			t.Fatalf("build %d: %v", tt.build, kinds(a))
		}
		if got := strings.Contains(allText(a), "KB3140245"); got != tt.kb {
			t.Errorf("build %d: KB3140245 named = %v", tt.build, got)
		}
	}
}

// TestFixWithoutWinHTTP: a TLS 1.0 handshake refused with alert 70 and no
// WinHTTP/WebIO events at all (a .NET or other Schannel client): the fix
// does not start from WinHTTP, and the alert in the connection row is the
// one the verdict explains.
func TestFixWithoutWinHTTP(t *testing.T) {
	b := nettrace.New(etltest.Options{Build: 17763})
	if err := b.TCPSession(nettrace.Session{Client: nettrace.ClientAddr, Server: nettrace.O365Addr, Writes: handshakeWrites(t, tls.VersionTLS10, tls.VersionTLS12), End: nettrace.EndServerFIN}); err != nil {
		t.Fatal(err)
	}
	data, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	a := analyzeBytes(t, data, nil)
	if len(a.Verdicts) == 0 || a.Verdicts[0].Kind != diagnose.KindHandshakeFailed {
		t.Fatalf("verdicts %v", kinds(a))
	}
	v := a.Verdicts[0]
	if len(a.Connections) != 1 || !strings.Contains(a.Connections[0].Outcome, "alert 70") || !strings.Contains(v.Title, a.Connections[0].Outcome) || !strings.Contains(v.Detail, "alert 70") {
		t.Errorf("row %+v, verdict %q / %q", a.Connections, v.Title, v.Detail)
	}
	if len(v.Fix) == 0 || strings.Contains(v.Fix[0], "DefaultSecureProtocols") || !strings.Contains(strings.Join(v.Fix, "\n"), "SchUseStrongCrypto") {
		t.Errorf("fix assumes WinHTTP: %q", v.Fix)
	}
	for _, v := range a.Verdicts {
		for _, e := range v.Evidence {
			if !e.Time.IsZero() && e.Time.Year() < 1980 {
				t.Errorf("evidence with a bogus time: %+v", e)
			}
		}
	}
	js, _ := json.Marshal(a)
	if strings.Contains(string(js), "0001-01-01") {
		t.Errorf("JSON has a zero time: %s", js)
	}
}

// proxyTrace is an Exchange server reaching Office 365 through an explicit
// proxy (RFC 9110 §9.3.6): the client sends "CONNECT host:443", the proxy
// answers with reply, and (for a 2xx reply) the TLS handshake runs inside
// the tunnel.
func proxyTrace(t *testing.T, reply string, tlsWrites []nettrace.Write) []byte {
	proxy := netip.MustParseAddrPort("10.0.0.1:8080")
	b := nettrace.New(etltest.Options{Build: 17763})
	b.WebIOACHStart(nettrace.PowerShell, nettrace.ACH{Connection: 1, EnabledProtocols: 0xA80, Version: 1})
	w := []nettrace.Write{
		{Data: []byte("CONNECT outlook.office365.com:443 HTTP/1.1\r\nHost: outlook.office365.com:443\r\n\r\n")},
		{FromServer: true, Data: []byte(reply)},
	}
	if err := b.TCPSession(nettrace.Session{Client: nettrace.ClientAddr, Server: proxy, Writes: append(w, tlsWrites...), End: nettrace.EndServerFIN}); err != nil {
		t.Fatal(err)
	}
	data, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestProxy: a refused CONNECT is a proxy verdict, not a request for a
// new capture; a TLS 1.0 handshake refused inside a tunnel is a handshake
// verdict that names the target and the proxy.
func TestProxy(t *testing.T) {
	a := analyzeBytes(t, proxyTrace(t, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Negotiate\r\n\r\n", nil), nil)
	if len(a.Verdicts) == 0 || a.Verdicts[0].Kind != diagnose.KindProxyRefused || !strings.Contains(a.Verdicts[0].Title, "407") ||
		!strings.Contains(a.Verdicts[0].Title, "outlook.office365.com:443") || !strings.Contains(a.Verdicts[0].Title, "10.0.0.1:8080") {
		t.Errorf("refused: %v %+v", kinds(a), a.Verdicts)
	}
	if strings.Contains(allText(a), "capture=yes") {
		t.Errorf("asks for packets: %s", allText(a))
	}
	a = analyzeBytes(t, proxyTrace(t, "HTTP/1.1 200 Connection established\r\n\r\n", handshakeWrites(t, tls.VersionTLS10, tls.VersionTLS12)), nil)
	if len(a.Verdicts) == 0 || a.Verdicts[0].Kind != diagnose.KindSchannelTLS12Off && a.Verdicts[0].Kind != diagnose.KindHandshakeFailed {
		t.Fatalf("tunnel: %v", kinds(a))
	}
	if v := a.Verdicts[0]; !strings.Contains(v.Title, "outlook.office365.com via proxy 10.0.0.1:8080") || !strings.Contains(v.Title, "alert 70") {
		t.Errorf("tunnel verdict: %s", v.Title)
	}
	if len(a.Connections) != 1 || a.Connections[0].Proxy != "10.0.0.1:8080" || a.Connections[0].Server != "outlook.office365.com:443" {
		t.Errorf("rows %+v", a.Connections)
	}
}

// TestMidStream: a capture that starts after the handshake (no SYN, only
// TLS application data records, as RFC 5246 §6.2 frames them) lists the
// connection as TLS with its record version, is not a failure, and its
// encrypted close is not read as an alert.
func TestMidStream(t *testing.T) {
	w := handshakeWrites(t, tls.VersionTLS12, tls.VersionTLS12)
	var after []nettrace.Write
	for _, x := range w[len(w)-4:] {
		if !x.FromServer {
			after = append(after, x) // application data and the encrypted close_notify
		}
	}
	b := nettrace.New(etltest.Options{Build: 17763})
	b.WebIOACHStart(nettrace.PowerShell, nettrace.ACH{Connection: 1, EnabledProtocols: 0xA80, Version: 1})
	if err := b.TCPSession(nettrace.Session{Client: nettrace.ClientAddr, Server: nettrace.O365Addr, Writes: after, NoHandshake: true, End: nettrace.EndClientFIN}); err != nil {
		t.Fatal(err)
	}
	data, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	a := analyzeBytes(t, data, nil)
	if a.HasProblem() || len(a.Connections) != 1 || a.Connections[0].Failed || !strings.Contains(a.Connections[0].Outcome, "handshake not captured") {
		t.Errorf("verdicts %v, rows %+v", kinds(a), a.Connections)
	}
}
