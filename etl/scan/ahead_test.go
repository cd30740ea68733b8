package scan_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/scan"
	"github.com/etlscope/etlscope/filters"
	"github.com/etlscope/etlscope/internal/nettrace"
)

// generated returns a NetTrace-like trace of about mb MB (DNS, TCPIP,
// WebIO, WinHttp events and NDIS frames, as nettrace.Generate writes them).
func generated(t *testing.T, mb int64, compress bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := nettrace.Generate(&buf, nettrace.GenOptions{Size: mb << 20, Compress: compress}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// damageRecords overwrites the first record header of every fifth
// uncompressed buffer with an impossible size, so that the iteration (not
// Open) finds damaged records.
func damageRecords(t *testing.T, b []byte) []byte {
	t.Helper()
	f, err := etl.NewFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	d := bytes.Clone(b)
	n := 0
	for bi, err := range f.Buffers() {
		if err != nil {
			t.Fatal(err)
		}
		if bi.Index%5 == 3 && !bi.Compressed {
			copy(d[bi.Offset+etl.BufferHeaderSize:], []byte{0xFF, 0xFF, 0xFF, 0xFF})
			n++
		}
	}
	if n == 0 {
		t.Fatal("no buffer damaged")
	}
	return d
}

// visits runs scan.Run on b and renders what the visitor and OnIssue saw,
// in order, and the result.
func visits(t *testing.T, b []byte, opts scan.Options, stopAt int) (string, *scan.Result) {
	t.Helper()
	f, err := etl.NewFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	opts.OnIssue = func(is etl.Issue) { fmt.Fprintf(&sb, "issue: %s\n", is.Message) }
	n := 0
	res, err := scan.Run(context.Background(), f, opts, func(e *scan.Event) error {
		fmt.Fprintf(&sb, "%d %#x %s %d %x", e.Index, e.Offset, e.Provider, e.ID, e.UserData)
		if d := e.Decoded; d != nil {
			fmt.Fprintf(&sb, " | %s %s %q", d.ProviderName, d.EventName, d.Description())
			for _, p := range d.Properties {
				fmt.Fprintf(&sb, " %s=%s", p.Name, p.Value)
			}
		}
		sb.WriteByte('\n')
		if n++; n == stopAt {
			return scan.ErrStop
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sb.String(), res
}

// TestAheadSameVisits: reading, decoding and filtering ahead on another
// goroutine gives the visitor the same events, indexes and decoded
// values, with the integrity findings at the same places between them,
// and the same result as doing it all on the caller's goroutine: on
// intact, compressed, damaged and cut files, in time and file order, with
// and without a filter, and when the visitor stops early.
func TestAheadSameVisits(t *testing.T) {
	old := runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))
	defer runtime.GOMAXPROCS(old)
	plain := generated(t, 3, false)
	files := []struct {
		name string
		b    []byte
	}{
		{"plain", plain},
		{"compressed", generated(t, 3, true)},
		{"damaged records", damageRecords(t, plain)},
		{"cut", plain[:len(plain)*2/3+123]},
	}
	flt, err := filters.Compile(`provider == "Microsoft-Windows-WebIO" || description.contains("Packet fragment (1459")`)
	if err != nil {
		t.Fatal(err)
	}
	notPackets := func(ev *etl.Event) bool { return ev.ID != 1001 }
	for _, fx := range files {
		for _, tc := range []struct {
			name   string
			opts   scan.Options
			stopAt int
		}{
			{"time order", scan.Options{}, 0},
			{"file order", scan.Options{FileOrder: true}, 0},
			{"filter", scan.Options{Filter: flt}, 0},
			{"some decoded", scan.Options{Decode: notPackets}, 0},
			{"stop in the first batch", scan.Options{}, 3},
			{"stop in a later batch", scan.Options{Filter: flt}, 2500},
		} {
			t.Run(fx.name+"/"+tc.name, func(t *testing.T) {
				never, always := tc.opts, tc.opts
				never.Ahead, always.Ahead = scan.AheadNever, scan.AheadAlways
				v1, r1 := visits(t, fx.b, never, tc.stopAt)
				v2, r2 := visits(t, fx.b, always, tc.stopAt)
				if r1.Visited < 3 {
					t.Fatalf("only %d events visited", r1.Visited)
				}
				if v1 != v2 {
					l1, l2 := strings.Split(v1, "\n"), strings.Split(v2, "\n")
					for i := range min(len(l1), len(l2)) {
						if l1[i] != l2[i] {
							t.Fatalf("visit line %d differs:\nwithout read-ahead: %s\nwith:               %s", i, l1[i], l2[i])
						}
					}
					t.Fatalf("%d visit lines without read-ahead, %d with", len(l1), len(l2))
				}
				if !reflect.DeepEqual(r1, r2) {
					t.Errorf("results differ:\nwithout: %+v\nwith:    %+v", r1, r2)
				}
				if fx.name != "plain" && fx.name != "compressed" && r1.Complete() {
					t.Error("the damage went unnoticed")
				}
			})
		}
	}
}

// TestAheadNoGoroutineLeft: a visitor that stops early or fails leaves
// no goroutine behind.
func TestAheadNoGoroutineLeft(t *testing.T) {
	old := runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))
	defer runtime.GOMAXPROCS(old)
	b := generated(t, 3, false)
	before := runtime.NumGoroutine()
	boom := errors.New("boom")
	for _, stopAt := range []int{1, 1023, 1024, 1025, 3000} {
		for _, ret := range []error{scan.ErrStop, boom} {
			f, err := etl.NewFile(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			_, err = scan.Run(context.Background(), f, scan.Options{Ahead: scan.AheadAlways}, func(*scan.Event) error {
				if n++; n == stopAt {
					return ret
				}
				return nil
			})
			if (ret == boom) != errors.Is(err, boom) || n != stopAt {
				t.Fatalf("stop at %d with %v: error %v after %d events", stopAt, ret, err, n)
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	f, err := etl.NewFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	_, err = scan.Run(ctx, f, scan.Options{Ahead: scan.AheadAlways}, func(*scan.Event) error {
		if n++; n == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled scan returned %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after stopping early, %d before", n, before)
	}
}

// TestAheadReadError: an I/O error met by the reading goroutine reaches
// the caller after the events read before it, as without read-ahead.
func TestAheadReadError(t *testing.T) {
	old := runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))
	defer runtime.GOMAXPROCS(old)
	b := generated(t, 3, false)
	counts := map[scan.Ahead]int{}
	for _, a := range []scan.Ahead{scan.AheadNever, scan.AheadAlways} {
		r := &failingReader{b: b, failAt: int64(len(b) / 2)}
		f, err := etl.NewFile(r, int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		r.armed = true
		n := 0
		_, err = scan.Run(context.Background(), f, scan.Options{Ahead: a}, func(*scan.Event) error { n++; return nil })
		if err == nil || !strings.Contains(err.Error(), "disk on fire") {
			t.Errorf("ahead %d: error %v after %d events, want the read error", a, err, n)
		}
		counts[a] = n
	}
	if counts[scan.AheadNever] == 0 || counts[scan.AheadNever] != counts[scan.AheadAlways] {
		t.Errorf("events before the error: %v", counts)
	}
}

// failingReader fails buffer reads (not the small reads of buffer
// headers) that reach failAt once armed.
type failingReader struct {
	b      []byte
	failAt int64
	armed  bool
}

func (r *failingReader) ReadAt(p []byte, off int64) (int, error) {
	if r.armed && len(p) > etl.BufferHeaderSize && off+int64(len(p)) > r.failAt {
		return 0, errors.New("disk on fire")
	}
	return bytes.NewReader(r.b).ReadAt(p, off)
}
