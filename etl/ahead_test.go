package etl_test

import (
	"bytes"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/internal/etltest"
)

// readTrace reads b with opts and returns every event (cloned), and the
// issues passed to OnIssue, each with the number of events yielded before
// it: read-ahead must keep both the events and where the issues fall
// between them.
func readTrace(t *testing.T, b []byte, opts etl.ReadOptions) (evs []*etl.Event, issues []string, in etl.Integrity) {
	t.Helper()
	f, err := etl.NewFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	opts.OnIssue = func(is etl.Issue) { issues = append(issues, fmt.Sprintf("before event %d: %s", len(evs), is.Message)) }
	for ev, err := range f.Events(opts) {
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev.Clone())
	}
	return evs, issues, f.Integrity()
}

// damageRecords overwrites bytes inside the record area of a few buffers
// of b so that the iteration (not Open) finds damaged records.
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
		if bi.Index%5 != 3 || bi.Compressed {
			continue
		}
		// The first record header after the buffer header: an
		// impossible size.
		off := bi.Offset + etl.BufferHeaderSize
		copy(d[off:], []byte{0xFF, 0xFF, 0xFF, 0xFF})
		n++
	}
	if n == 0 {
		t.Fatal("no buffer damaged")
	}
	return d
}

// TestAheadSameEvents: reading ahead on another goroutine yields the same
// events, in the same order, with the same integrity issues at the same
// places between them, as reading on the caller's goroutine: on intact,
// compressed and damaged files, in time and file order.
func TestAheadSameEvents(t *testing.T) {
	old := runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))
	defer runtime.GOMAXPROCS(old)
	plain := writeFixture(t, etltest.Options{CPUs: 4, BufferSize: 4096}, 6000)
	files := []struct {
		name string
		b    []byte
	}{
		{"plain", plain},
		{"compressed", writeFixture(t, etltest.Options{CPUs: 4, BufferSize: 4096, Compress: true}, 6000)},
		{"damaged records", damageRecords(t, plain)},
		{"cut", plain[:len(plain)*2/3+123]},
	}
	for _, fx := range files {
		for _, fileOrder := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/fileorder=%v", fx.name, fileOrder), func(t *testing.T) {
				e1, i1, in1 := readTrace(t, fx.b, etl.ReadOptions{FileOrder: fileOrder, Ahead: etl.AheadNever})
				e2, i2, in2 := readTrace(t, fx.b, etl.ReadOptions{FileOrder: fileOrder, Ahead: etl.AheadAlways})
				if len(e1) < 1000 {
					t.Fatalf("only %d events", len(e1))
				}
				if len(e1) != len(e2) {
					t.Fatalf("%d events without read-ahead, %d with", len(e1), len(e2))
				}
				for i := range e1 {
					if !reflect.DeepEqual(e1[i], e2[i]) {
						t.Fatalf("event %d differs:\nwithout: %+v\nwith:    %+v", i, e1[i], e2[i])
					}
				}
				if strings.Join(i1, "\n") != strings.Join(i2, "\n") {
					t.Errorf("issues differ:\nwithout:\n%s\nwith:\n%s", strings.Join(i1, "\n"), strings.Join(i2, "\n"))
				}
				if !reflect.DeepEqual(in1, in2) {
					t.Errorf("integrity differs:\nwithout: %+v\nwith:    %+v", in1, in2)
				}
				if strings.HasPrefix(fx.name, "damaged") && len(i1) == 0 {
					t.Error("the damage went unnoticed")
				}
			})
		}
	}
}

// TestAheadEarlyStop: a caller that stops early, at the first event or
// inside a later batch, leaves no goroutine behind.
func TestAheadEarlyStop(t *testing.T) {
	old := runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))
	defer runtime.GOMAXPROCS(old)
	b := writeFixture(t, etltest.Options{CPUs: 4, BufferSize: 4096}, 20000)
	before := runtime.NumGoroutine()
	for _, stopAt := range []int{1, 2, 2047, 2048, 2049, 10000} {
		f, err := etl.NewFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, err := range f.Events(etl.ReadOptions{Ahead: etl.AheadAlways}) {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == stopAt {
				break
			}
		}
		if n != stopAt {
			t.Fatalf("stopped at %d, want %d", n, stopAt)
		}
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
// the caller after the events read before it.
func TestAheadReadError(t *testing.T) {
	old := runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))
	defer runtime.GOMAXPROCS(old)
	b := writeFixture(t, etltest.Options{CPUs: 4, BufferSize: 4096}, 6000)
	for _, ahead := range []etl.Ahead{etl.AheadNever, etl.AheadAlways} {
		r := &failingReader{b: b, failAt: int64(len(b) / 2)}
		f, err := etl.NewFile(r, int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		r.armed = true
		n := 0
		var got error
		for _, err := range f.Events(etl.ReadOptions{Ahead: ahead}) {
			if err != nil {
				got = err
				break
			}
			n++
		}
		if got == nil || !strings.Contains(got.Error(), "disk on fire") {
			t.Errorf("ahead %d: error %v after %d events, want the read error", ahead, got, n)
		}
		if n == 0 {
			t.Errorf("ahead %d: no event before the error", ahead)
		}
	}
}

// failingReader fails buffer reads (not the small header reads of the
// index) that reach failAt once armed.
type failingReader struct {
	b      []byte
	failAt int64
	armed  bool
}

func (r *failingReader) ReadAt(p []byte, off int64) (int, error) {
	if r.armed && len(p) > etl.BufferHeaderSize && off+int64(len(p)) > r.failAt {
		return 0, fmt.Errorf("disk on fire")
	}
	return bytes.NewReader(r.b).ReadAt(p, off)
}

// TestReplayedWalk: iterations replay the buffer headers Open walked
// instead of reading them again; on files too large to keep that, they
// walk the file themselves. Both give the same events and findings, on
// intact files and on files with damaged buffer headers, fill and a cut.
func TestReplayedWalk(t *testing.T) {
	plain := writeFixture(t, etltest.Options{CPUs: 4, BufferSize: 4096}, 6000)
	damaged := bytes.Clone(plain)
	// A zeroed buffer header (fill that hides a buffer) and a damaged one.
	copy(damaged[10*4096:], make([]byte, 4096))
	copy(damaged[20*4096:], bytes.Repeat([]byte{0x5A}, 16))
	for _, fx := range []struct {
		name string
		b    []byte
	}{{"plain", plain}, {"damaged headers", damaged}, {"cut", plain[:len(plain)-777]}} {
		for _, fileOrder := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/fileorder=%v", fx.name, fileOrder), func(t *testing.T) {
				read := func(forget bool) (string, etl.Integrity) {
					f, err := etl.NewFile(bytes.NewReader(fx.b), int64(len(fx.b)))
					if err != nil {
						t.Fatal(err)
					}
					if forget {
						etl.ForgetWalk(f)
					}
					var sb strings.Builder
					for ev, err := range f.Events(etl.ReadOptions{FileOrder: fileOrder, Ahead: etl.AheadNever}) {
						if err != nil {
							t.Fatal(err)
						}
						fmt.Fprintf(&sb, "%d/%d/%d/%d/%x\n", ev.Offset, ev.Timestamp, ev.CPU, ev.ID, ev.UserData)
					}
					return sb.String(), f.Integrity()
				}
				e1, in1 := read(false)
				e2, in2 := read(true)
				if e1 != e2 {
					t.Error("events differ between the replayed and the new walk")
				}
				if !reflect.DeepEqual(in1, in2) {
					t.Errorf("integrity differs:\nreplayed: %+v\nwalked:   %+v", in1, in2)
				}
				if fx.name != "plain" && in1.Complete() {
					t.Error("the damage went unnoticed")
				}
			})
		}
	}
}
