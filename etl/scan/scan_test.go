package scan_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/scan"
	"github.com/etlscope/etlscope/internal/nettrace"
)

// TestRunIntegrity: the reader's findings reach Result.Integrity and
// OnIssue. A NetTrace cut at a buffer boundary (a partial copy) is
// incomplete; the whole file has no finding.
func TestRunIntegrity(t *testing.T) {
	whole := nettrace.HCW2012(t)
	for _, tt := range []struct {
		name     string
		b        []byte
		complete bool
	}{
		{"whole", whole, true},
		{"cut at the last buffer", whole[:len(whole)-64<<10], false},
		{"cut inside it", whole[:len(whole)-100], false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := etl.NewFile(bytes.NewReader(tt.b), int64(len(tt.b)))
			if err != nil {
				t.Fatal(err)
			}
			var seen []etl.Issue
			res, err := scan.Run(context.Background(), f, scan.Options{OnIssue: func(is etl.Issue) { seen = append(seen, is) }},
				func(*scan.Event) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			if res.Complete() != tt.complete || (len(seen) == 0) != tt.complete || len(res.Integrity.Issues) != len(seen) {
				t.Errorf("complete %v, %d issues, %d seen: %+v", res.Complete(), len(res.Integrity.Issues), len(seen), res.Integrity.Issues)
			}
		})
	}
}
