package redact

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
	"github.com/etlscope/etlscope/internal/nettrace"
)

// FuzzSanitize runs the sanitized-trace writer over damaged traces: it must
// never panic, and what it writes must be a trace the reader opens. Seeds
// are the NetTrace-like scenarios (real crypto/tls handshakes in NDIS
// frames, WebIO/WinHTTP/Schannel events per their manifests).
func FuzzSanitize(f *testing.F) {
	for _, build := range []func(testing.TB) []byte{nettrace.HCW2012, nettrace.CertMismatch, nettrace.Healthy} {
		f.Add(build(f))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := etl.NewFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if _, err := Sanitize(context.Background(), in, &out, decode.New(), New(Options{})); err != nil {
			return
		}
		if out.Len() == 0 {
			return
		}
		if _, err := etl.NewFile(bytes.NewReader(out.Bytes()), int64(out.Len())); err != nil {
			t.Fatalf("the sanitized trace does not open: %v", err)
		}
	})
}

// FuzzText: free-text redaction never panics, and in same-length mode
// keeps the length (in runes) of what it rewrites, so a trace rewritten in
// place keeps its layout.
func FuzzText(f *testing.F) {
	for _, s := range []string{
		`CONTOSO\admin connected to exch01.contoso.com (10.0.0.5) from fe80::1%12`,
		"Authorization: Basic dXNlcjpwYXNz", `C:\Users\alice\AppData\Local\Temp\NetTraces\NetTrace.etl`,
		"mail bob@contoso.com, MAC 00-15-5d-01-02-03, token=abcdef123456", "a.b.c.d.e.f.g.h", strings.Repeat("1.2.", 50),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := New(Options{})
		r.learn(cHost, "exch01")
		_ = r.Text(s)
		if !utf8.ValidString(s) {
			return
		}
		if got := r.sameLength().Text(s); utf8.RuneCountInString(got) != utf8.RuneCountInString(s) {
			t.Fatalf("same-length Text(%q) = %q", s, got)
		}
	})
}
