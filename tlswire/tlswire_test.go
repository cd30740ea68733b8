package tlswire_test

import (
	"crypto/tls"
	"testing"

	"github.com/etlscope/etlscope/tlswire"
	"github.com/etlscope/etlscope/tlswire/tlstest"
)

// collect feeds writes to a stream in chunks of size n (0: as written) and
// returns every message.
func collect(writes [][]byte, n int) []tlswire.Message {
	s := tlswire.NewStream(64 << 10)
	var out []tlswire.Message
	for _, w := range writes {
		if n == 0 {
			out = append(out, s.Write(w)...)
			continue
		}
		for i := 0; i < len(w); i += n {
			out = append(out, s.Write(w[i:min(i+n, len(w))])...)
		}
	}
	return out
}

func find(msgs []tlswire.Message, k tlswire.MessageKind) *tlswire.Message {
	for i := range msgs {
		if msgs[i].Kind == k {
			return &msgs[i]
		}
	}
	return nil
}

func TestRealHandshakes(t *testing.T) {
	cert := tlstest.SelfSigned(t, "outlook.office365.com")
	tests := []struct {
		name                 string
		clientMin, clientMax uint16
		serverMin, serverMax uint16
		wantClientMax        tlswire.Version
		wantSelected         tlswire.Version
		wantAlert            int // -1: none
		wantSupported        bool
	}{
		{"tls1.0", tls.VersionTLS10, tls.VersionTLS10, tls.VersionTLS10, tls.VersionTLS12, tlswire.TLS10, tlswire.TLS10, -1, true},
		{"tls1.2", tls.VersionTLS12, tls.VersionTLS12, tls.VersionTLS12, tls.VersionTLS13, tlswire.TLS12, tlswire.TLS12, -1, true},
		{"tls1.3", tls.VersionTLS12, tls.VersionTLS13, tls.VersionTLS12, tls.VersionTLS13, tlswire.TLS13, tlswire.TLS13, -1, true},
		{"tls1.0 client vs tls1.2 server", tls.VersionTLS10, tls.VersionTLS10, tls.VersionTLS12, tls.VersionTLS13, tlswire.TLS10, 0, 70, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tlstest.Handshake(t,
				&tls.Config{ServerName: "outlook.office365.com", InsecureSkipVerify: true, MinVersion: tt.clientMin, MaxVersion: tt.clientMax, NextProtos: []string{"http/1.1"}},
				&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tt.serverMin, MaxVersion: tt.serverMax})
			for _, chunk := range []int{0, 1, 7} {
				cm := collect(res.Client, chunk)
				sm := collect(res.Server, chunk)
				ch := find(cm, tlswire.ClientHelloMsg)
				if ch == nil || ch.Err != nil {
					t.Fatalf("chunk %d: no ClientHello: %+v", chunk, cm)
				}
				h := ch.ClientHello
				if h.SNI != "outlook.office365.com" || h.MaxVersion() != tt.wantClientMax || (len(h.SupportedVersions) > 0) != tt.wantSupported {
					t.Errorf("ClientHello SNI %q max %v supported %v", h.SNI, h.MaxVersion(), h.SupportedVersions)
				}
				if len(h.ALPN) != 1 || h.ALPN[0] != "http/1.1" || len(h.CipherSuites) == 0 {
					t.Errorf("ALPN %v suites %v", h.ALPN, h.CipherSuites)
				}
				sh := find(sm, tlswire.ServerHelloMsg)
				al := find(sm, tlswire.AlertMsg)
				if tt.wantAlert >= 0 {
					if sh != nil {
						t.Errorf("unexpected ServerHello %+v", sh.ServerHello)
					}
					if al == nil || al.Alert.Encrypted || al.Alert.Level != 2 || int(al.Alert.Description) != tt.wantAlert {
						t.Fatalf("alert %+v, want fatal %d", al, tt.wantAlert)
					}
					continue
				}
				if sh == nil || sh.Err != nil || sh.ServerHello.SelectedVersion != tt.wantSelected {
					t.Fatalf("ServerHello %+v, want %v", sh, tt.wantSelected)
				}
				if tlswire.CipherSuiteName(sh.ServerHello.CipherSuite) == "" {
					t.Error("no cipher name")
				}
				if find(cm, tlswire.ApplicationDataMsg) == nil {
					t.Error("client application data not seen")
				}
				if uint16(tt.wantSelected) != res.Version {
					t.Errorf("crypto/tls negotiated %#x", res.Version)
				}
			}
		})
	}
}

func TestNotTLS(t *testing.T) {
	for _, in := range []string{"GET / HTTP/1.1\r\n\r\n", "\x16\x09\x01\x00\x05hello", "\x17\x03\x03\xff\xff"} {
		msgs := collect([][]byte{[]byte(in)}, 0)
		if len(msgs) != 1 || msgs[0].Kind != tlswire.NotTLS || msgs[0].Err == nil {
			t.Errorf("%q: %+v", in, msgs)
		}
	}
}

func TestNames(t *testing.T) {
	tests := []struct{ got, want string }{
		{tlswire.AlertName(70), "protocol_version"},
		{tlswire.AlertName(40), "handshake_failure"},
		{tlswire.AlertName(112), "unrecognized_name"},
		{tlswire.AlertName(200), "alert_200"},
		{tlswire.CipherSuiteName(0xC02F), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
		{tlswire.CipherSuiteName(0x0039), "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"},
		{tlswire.CipherSuiteName(0x1301), "TLS_AES_128_GCM_SHA256"},
		{tlswire.CipherSuiteName(0xFEFE), "0xfefe"},
		{tlswire.TLS12.String(), "TLS 1.2"},
		{tlswire.Version(0x7f1c).String(), "0x7f1c"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	for _, g := range []uint16{0x0a0a, 0x1a1a, 0xfafa} {
		if !tlswire.IsGREASE(g) {
			t.Errorf("%#x not GREASE", g)
		}
	}
	for _, g := range []uint16{0x0a1a, 0x0303, 0x002b} {
		if tlswire.IsGREASE(g) {
			t.Errorf("%#x GREASE", g)
		}
	}
}

// hello builds a handshake message by hand.
func serverHello(random [32]byte, ext []byte) []byte {
	body := []byte{0x03, 0x03}
	body = append(body, random[:]...)
	body = append(body, 0)          // session id
	body = append(body, 0x13, 0x01) // suite
	body = append(body, 0)          // compression
	if ext != nil {
		body = append(body, byte(len(ext)>>8), byte(len(ext)))
		body = append(body, ext...)
	}
	return append([]byte{2, 0, byte(len(body) >> 8), byte(len(body))}, body...)
}

func TestServerHelloSpecials(t *testing.T) {
	var hrr [32]byte
	copy(hrr[:], []byte{0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
		0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C})
	sv := []byte{0x00, 0x2b, 0x00, 0x02, 0x03, 0x04}
	h, err := tlswire.ParseServerHello(serverHello(hrr, sv))
	if err != nil || !h.HelloRetryRequest || h.SelectedVersion != tlswire.TLS13 || h.LegacyVersion != tlswire.TLS12 {
		t.Errorf("HRR: %+v %v", h, err)
	}
	var down [32]byte
	copy(down[24:], "DOWNGRD\x01")
	h, err = tlswire.ParseServerHello(serverHello(down, nil))
	if err != nil || h.DowngradeSentinel != "TLS1.2" || h.HelloRetryRequest {
		t.Errorf("downgrade: %+v %v", h, err)
	}
	copy(down[24:], "DOWNGRD\x00")
	if h, _ = tlswire.ParseServerHello(serverHello(down, nil)); h.DowngradeSentinel != "TLS1.1-or-below" {
		t.Errorf("downgrade 1.1: %+v", h)
	}
	// Truncations never panic and always fail.
	full := serverHello(hrr, sv)
	for i := 0; i < len(full)-1; i++ {
		if _, err := tlswire.ParseServerHello(full[:i]); err == nil {
			t.Fatalf("truncated at %d: no error", i)
		}
	}
}

func TestSSLv2Hello(t *testing.T) {
	// SSLv2-compatible ClientHello offering TLS 1.0 with two suites.
	body := []byte{1, 0x03, 0x01, 0, 6, 0, 0, 0, 16, 0x00, 0x00, 0x2f, 0x01, 0x00, 0x80}
	body = append(body, make([]byte, 16)...)
	rec := append([]byte{0x80 | byte(len(body)>>8), byte(len(body))}, body...)
	msgs := collect([][]byte{rec}, 0)
	if len(msgs) != 1 || msgs[0].ClientHello == nil || !msgs[0].ClientHello.SSLv2 || msgs[0].ClientHello.MaxVersion() != tlswire.TLS10 ||
		len(msgs[0].ClientHello.CipherSuites) != 1 || msgs[0].ClientHello.CipherSuites[0] != 0x002f {
		t.Fatalf("%+v", msgs)
	}
}

func TestOffered(t *testing.T) {
	h := &tlswire.ClientHello{LegacyVersion: tlswire.TLS12}
	if got := h.Offered(); len(got) != 3 || got[0] != tlswire.TLS10 || got[2] != tlswire.TLS12 {
		t.Errorf("legacy 1.2: %v", got)
	}
	h = &tlswire.ClientHello{LegacyVersion: tlswire.TLS12, SupportedVersions: []tlswire.Version{tlswire.TLS13, tlswire.TLS12}}
	if got := h.Offered(); len(got) != 2 || got[0] != tlswire.TLS12 || h.MaxVersion() != tlswire.TLS13 {
		t.Errorf("supported: %v", got)
	}
}
