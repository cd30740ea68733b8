package scan_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/scan"
	"github.com/etlscope/etlscope/internal/nettrace"
)

// FuzzRun: on any input that opens as a trace, reading ahead (reading,
// decoding and filtering on another goroutine) and reading inline give
// the visitor the same events, decoded values and findings, in the same
// order, and neither panics. Seeds: the seed-case NetTrace and a small
// generated one, whole and cut.
//
//	go test -run '^$' -fuzz FuzzRun -fuzztime 10m ./etl/scan/
func FuzzRun(f *testing.F) {
	hcw := nettrace.HCW2012(f)
	var gen bytes.Buffer
	if _, err := nettrace.Generate(&gen, nettrace.GenOptions{Size: 256 << 10}); err != nil {
		f.Fatal(err)
	}
	f.Add(hcw)
	f.Add(hcw[:len(hcw)*2/3])
	f.Add(gen.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 4<<20 {
			return
		}
		old := runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))
		defer runtime.GOMAXPROCS(old)
		render := func(a scan.Ahead) string {
			fl, err := etl.NewFile(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				return "not a trace"
			}
			var sb strings.Builder
			opts := scan.Options{Ahead: a, OnIssue: func(is etl.Issue) { fmt.Fprintf(&sb, "issue %s\n", is.Message) }}
			res, err := scan.Run(context.Background(), fl, opts, func(e *scan.Event) error {
				fmt.Fprintf(&sb, "%d %#x %x", e.Index, e.Offset, e.UserData)
				if d := e.Decoded; d != nil {
					fmt.Fprintf(&sb, " %s %q %d", d.EventName, d.Description(), len(d.Properties))
				}
				sb.WriteByte('\n')
				return nil
			})
			fmt.Fprintf(&sb, "%v %d %d %d\n", err, res.Events, res.Visited, len(res.Integrity.Issues))
			return sb.String()
		}
		if inline, ahead := render(scan.AheadNever), render(scan.AheadAlways); inline != ahead {
			t.Errorf("read-ahead differs from reading inline:\ninline:\n%.2000s\nahead:\n%.2000s", inline, ahead)
		}
	})
}
