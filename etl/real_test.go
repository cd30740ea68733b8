package etl_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/internal/sharedtest"
)

// expectation is one row of ../shared/testdata/etl/EXPECTED.tsv, counts from
// an independent parser.
type expectation struct {
	file        string
	events      int
	buffers     int
	compressed  int
	pointerSize int
	build       uint32
	providers   map[string]int
}

func readExpected(t testing.TB, dir string) []expectation {
	t.Helper()
	fh, err := os.Open(filepath.Join(dir, "EXPECTED.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var out []expectation
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 1<<20)
	for line := 0; sc.Scan(); line++ {
		if line == 0 {
			continue
		}
		col := strings.Split(sc.Text(), "\t")
		if len(col) != 7 {
			t.Fatalf("EXPECTED.tsv line %d: %d columns", line+1, len(col))
		}
		num := func(s string) int {
			n, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("EXPECTED.tsv line %d: %v", line+1, err)
			}
			return n
		}
		e := expectation{file: col[0], events: num(col[1]), buffers: num(col[2]), compressed: num(col[3]),
			pointerSize: num(col[4]), build: uint32(num(col[5])), providers: map[string]int{}}
		for _, kv := range strings.Split(col[6], ",") {
			g, n, ok := strings.Cut(kv, "=")
			if !ok {
				t.Fatalf("EXPECTED.tsv line %d: bad provider count %q", line+1, kv)
			}
			e.providers[g] = num(n)
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		t.Fatal("EXPECTED.tsv has no rows")
	}
	return out
}

// realFindings are the integrity findings the real samples really carry;
// every other sample must have none (no false alarm).
var realFindings = map[string]map[etl.IssueKind]int64{
	// Its logfile header says EventsLost = 3 (at offset 0x98): Windows
	// recorded the loss, so it is reported.
	"amsi-tracelogging-win10-18362.etl": {etl.IssueLostEvents: 3},
}

// TestRealFiles checks the reader against every real sample: record, buffer
// and compressed-buffer counts, pointer size, OS build and per-provider
// counts must match EXPECTED.tsv exactly, in both iteration orders, and the
// integrity findings must be exactly those the file carries (realFindings).
func TestRealFiles(t *testing.T) {
	dir := sharedtest.ETLDir(t)
	for _, want := range readExpected(t, dir) {
		t.Run(strings.TrimSuffix(want.file, ".etl"), func(t *testing.T) {
			for _, fileOrder := range []bool{true, false} {
				f, err := etl.Open(filepath.Join(dir, want.file))
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				h := f.Header()
				if h.PointerSize != want.pointerSize || h.OSBuild != want.build {
					t.Errorf("pointer size %d build %d, want %d %d", h.PointerSize, h.OSBuild, want.pointerSize, want.build)
				}
				got := map[string]int{}
				n := 0
				var last int64
				backwards := 0
				var found []etl.Issue
				for ev, err := range f.Events(etl.ReadOptions{FileOrder: fileOrder, OnIssue: func(is etl.Issue) { found = append(found, is) }}) {
					if err != nil {
						t.Fatalf("file order %v: %v", fileOrder, err)
					}
					got[ev.Provider.String()]++
					if n > 0 && ev.Timestamp < last {
						backwards++
					}
					last = ev.Timestamp
					n++
				}
				st := f.Stats()
				if n != want.events || st.Records != want.events {
					t.Errorf("file order %v: %d events (stats %d), want %d", fileOrder, n, st.Records, want.events)
				}
				if st.Buffers != want.buffers || st.CompressedBuffers != want.compressed {
					t.Errorf("file order %v: %d buffers, %d compressed; want %d, %d", fileOrder, st.Buffers, st.CompressedBuffers, want.buffers, want.compressed)
				}
				if d := diffCounts(got, want.providers); d != "" {
					t.Errorf("file order %v: provider counts differ:\n%s", fileOrder, d)
				}
				if !fileOrder && backwards > 0 {
					t.Errorf("merged order: %d records go back in time", backwards)
				}
				in := f.Integrity()
				wantTotals := realFindings[want.file]
				if len(found) > 0 || !maps.Equal(in.Totals, wantTotals) || in.Complete() != (len(wantTotals) == 0) {
					t.Errorf("file order %v: findings %v (iteration %v), want %v", fileOrder, in.Issues, found, wantTotals)
				}
				if st.Warnings != 0 || st.SkippedBuffers != 0 {
					t.Errorf("file order %v: %d warnings, %d skipped buffers", fileOrder, st.Warnings, st.SkippedBuffers)
				}
			}
		})
	}
}

func diffCounts(got, want map[string]int) string {
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	var ks []string
	for k := range keys {
		if got[k] != want[k] {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	var b strings.Builder
	for _, k := range ks {
		fmt.Fprintf(&b, "  %s: got %d, want %d\n", k, got[k], want[k])
	}
	return b.String()
}

// TestRealHeaders checks logfile header fields that EXPECTED.tsv does not
// cover against values read off the samples.
func TestRealHeaders(t *testing.T) {
	dir := sharedtest.ETLDir(t)
	tests := []struct {
		file      string
		cpus      uint32
		freq      int64
		clock     uint32
		mode      uint32
		startYear int
	}{
		{"tiny-32bit-compressed-win10-10586.etl", 4, 3117777, etl.ClockQPC, 0x4011001, 2016},
		{"kernel-win10-19041.etl", 4, 10000000, etl.ClockQPC, 0x11001, 2020},
		{"powershell-win11-22623.etl", 32, 10000000, etl.ClockQPC, 0x9, 2023},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := etl.Open(filepath.Join(dir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			h := f.Header()
			if h.NumberOfProcessors != tt.cpus || h.PerfFreq != tt.freq || h.ClockType != tt.clock || h.LogFileMode != tt.mode {
				t.Errorf("cpus %d freq %d clock %d mode %#x", h.NumberOfProcessors, h.PerfFreq, h.ClockType, h.LogFileMode)
			}
			if h.StartTime.Year() != tt.startYear || !h.EndTime.After(h.StartTime) {
				t.Errorf("start %v end %v", h.StartTime, h.EndTime)
			}
			// Every event lies between start and end (a little slack for
			// clock rounding).
			for ev, err := range f.Events(etl.ReadOptions{}) {
				if err != nil {
					t.Fatal(err)
				}
				if ev.Time.Before(h.StartTime.Add(-1e9)) || ev.Time.After(h.EndTime.Add(1e9)) {
					t.Fatalf("event at %#x: time %v outside [%v, %v]", ev.Offset, ev.Time, h.StartTime, h.EndTime)
				}
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	_, err := etl.Open(filepath.Join(t.TempDir(), "missing.etl"))
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestRealCircular: the circular sample (LogFileMode 0x8000002) did not
// wrap: its data buffers carry sequence numbers 1-4 in per-CPU order and
// BuffersWritten matches, so there is no wrapped finding and file order
// is kept.
func TestRealCircular(t *testing.T) {
	f, err := etl.Open(filepath.Join(sharedtest.ETLDir(t), "dotnet-gc-circular-win10-19045.etl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Header().LogFileMode&etl.ModeFileCircular == 0 {
		t.Fatalf("mode %#x is not circular", f.Header().LogFileMode)
	}
	if in := f.Integrity(); len(in.Issues) != 0 {
		t.Errorf("findings on an unwrapped circular file: %v", in.Issues)
	}
}

// TestRealCutAtBuffers cuts real samples exactly at each buffer boundary
// and inside the last buffer: never complete.
func TestRealCutAtBuffers(t *testing.T) {
	dir := sharedtest.ETLDir(t)
	for _, name := range []string{"dotnet-gc-circular-win10-19045.etl", "kernel-perfdiag-win10-18362.etl", "powershell-win11-22623.etl",
		"selfdescribing-compressed-win11-22000.etl", "kernel-dotnet-compressed-x86-win8-9200.etl", "lxcore-win10-19041.etl"} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			f, err := etl.NewFile(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			var cuts []int64
			for bi, err := range f.Buffers() {
				if err != nil {
					t.Fatal(err)
				}
				if bi.Index > 0 {
					cuts = append(cuts, bi.Offset, bi.Offset+int64(bi.Size)/2)
				}
			}
			step := max(1, len(cuts)/24)
			for i := 0; i < len(cuts); i += step {
				cut := cuts[i]
				f, err := etl.NewFile(bytes.NewReader(b[:cut]), cut)
				if err != nil {
					t.Fatalf("cut at %#x: %v", cut, err)
				}
				for _, err := range f.Events(etl.ReadOptions{}) {
					if err != nil {
						t.Fatal(err)
					}
				}
				if in := f.Integrity(); in.Complete() {
					t.Errorf("cut at %#x of %#x: complete", cut, len(b))
				}
			}
		})
	}
}
