package nettrace_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/etlscope/etlscope/diagnose"
	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/internal/nettrace"
)

// TestGenerate writes a small generated trace and reads it back: every
// event is there, and analyze finds the one-in-eight TLS 1.0 clients.
func TestGenerate(t *testing.T) {
	for _, compress := range []bool{false, true} {
		var buf bytes.Buffer
		st, err := nettrace.Generate(&buf, nettrace.GenOptions{Size: 2 << 20, Compress: compress})
		if err != nil {
			t.Fatal(err)
		}
		if st.Bytes != int64(buf.Len()) || st.Connections < 100 {
			t.Fatalf("stats %+v for %d bytes", st, buf.Len())
		}
		f, err := etl.NewFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		a, err := diagnose.Analyze(context.Background(), f, "gen.etl", diagnose.Options{})
		if err != nil {
			t.Fatal(err)
		}
		// The logfile header and the empty EventTrace record come on top.
		if int64(a.Events) != st.Events+2 || len(a.Integrity.Issues) != 0 {
			t.Errorf("compress %v: %d events read, %d written; integrity %+v", compress, a.Events, st.Events, a.Integrity)
		}
		failed := 0
		for _, c := range a.Connections {
			if c.Failed {
				failed++
			}
		}
		if a.ConnectionsTotal != st.Connections || failed != st.Connections/8 || !a.HasProblem() ||
			!strings.Contains(a.Verdicts[0].Title, "EnabledProtocols 0xa0") {
			t.Errorf("compress %v: %d connections (%d failed) of %d; verdict %q", compress, a.ConnectionsTotal, failed, st.Connections, a.Verdicts[0].Title)
		}
	}
}
