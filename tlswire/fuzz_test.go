package tlswire_test

import (
	"crypto/tls"
	"testing"

	"github.com/etlscope/etlscope/tlswire"
	"github.com/etlscope/etlscope/tlswire/tlstest"
)

// seeds returns the raw writes of a real TLS 1.3 and a failed TLS 1.0
// handshake.
func seeds(f *testing.F) [][]byte {
	cert := tlstest.SelfSigned(f, "example.com")
	var out [][]byte
	for _, max := range []uint16{tls.VersionTLS13, tls.VersionTLS10} {
		res := tlstest.Handshake(f, &tls.Config{ServerName: "example.com", InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, MaxVersion: max},
			&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		out = append(out, tlstest.Concat(res.Client), tlstest.Concat(res.Server))
	}
	return out
}

func FuzzStream(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, b []byte, chunk uint8) {
		s := tlswire.NewStream(1 << 16)
		n := int(chunk) + 1
		for i := 0; i < len(b); i += n {
			for _, m := range s.Write(b[i:min(i+n, len(b))]) {
				if m.ClientHello != nil {
					_ = m.ClientHello.Offered()
					_ = m.ClientHello.MaxVersion()
				}
			}
		}
	})
}

func FuzzParseHello(f *testing.F) {
	for _, s := range seeds(f) {
		if len(s) > 5 {
			f.Add(s[5:])
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = tlswire.ParseClientHello(b)
		_, _ = tlswire.ParseServerHello(b)
		_, _ = tlswire.ParseSSLv2ClientHello(b)
	})
}
