package viewer

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
	"github.com/etlscope/etlscope/internal/etltest"
	"github.com/etlscope/etlscope/internal/nettrace"
	"github.com/etlscope/etlscope/internal/sharedtest"
)

// evKey identifies an event well enough to compare two readings.
type evKey struct {
	off      int64
	buf      int
	ts       int64
	id       uint16
	provider etl.GUID
	n        int
}

func keyOf(ev *etl.Event) evKey {
	return evKey{ev.Offset, ev.Buffer, ev.Timestamp, ev.ID, ev.Provider, len(ev.UserData)}
}

// allEvents reads data the way every command does.
func allEvents(t *testing.T, data []byte) []evKey {
	t.Helper()
	f, err := etl.NewFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var out []evKey
	for ev, err := range f.Events(etl.ReadOptions{}) {
		if err == nil {
			out = append(out, keyOf(ev))
		}
	}
	return out
}

func buildIndex(t *testing.T, data []byte, every int) *index {
	t.Helper()
	r := bytes.NewReader(data)
	f, err := etl.NewFile(r, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	ix := newIndex(r, int64(len(data)), every)
	ix.build(context.Background(), f, nil)
	return ix
}

// checkResume reads from many positions through the checkpoints and
// compares each run with the events of one full reading.
func checkResume(t *testing.T, data []byte, every int) {
	t.Helper()
	want := allEvents(t, data)
	ix := buildIndex(t, data, every)
	count, done, err, _ := ix.progress()
	if !done || err != nil || count != len(want) {
		t.Fatalf("index: count %d done %v err %v; want %d events", count, done, err, len(want))
	}
	step := max(1, len(want)/200)
	for from := 0; from < len(want); from += step {
		var got []evKey
		err := ix.read(context.Background(), from, func(i int, ev *etl.Event) bool {
			if i != from+len(got) {
				t.Fatalf("from %d: index %d after %d events", from, i, len(got))
			}
			got = append(got, keyOf(ev))
			return len(got) < 2*every+3
		})
		if err != nil {
			t.Fatalf("read from %d: %v", from, err)
		}
		end := min(len(want), from+len(got))
		if len(got) != min(2*every+3, len(want)-from) {
			t.Fatalf("from %d: got %d events", from, len(got))
		}
		for j := range got {
			if got[j] != want[from+j] {
				t.Fatalf("from %d: event %d differs: got %+v, want %+v (of %d)", from, from+j, got[j], want[from+j], end)
			}
		}
	}
}

// The generated NetTrace writes four CPUs' buffers interleaved, like a
// real multi-processor session (each CPU flushes its own 64 KiB buffers),
// so resuming must restore every CPU stream's position.
func TestIndexResumeGenerated(t *testing.T) {
	for _, compress := range []bool{false, true} {
		var b bytes.Buffer
		if _, err := nettrace.Generate(&b, nettrace.GenOptions{Size: 3 << 20, Compress: compress, CPUs: 4}); err != nil {
			t.Fatal(err)
		}
		for _, every := range []int{1, 37, 512} {
			checkResume(t, b.Bytes(), every)
		}
	}
}

// Real Windows files (shared samples): compressed, 32-bit, circular,
// relogged; the paged reading must equal the reader's own order.
func TestIndexResumeShared(t *testing.T) {
	dir := sharedtest.ETLDir(t)
	names, _ := filepath.Glob(filepath.Join(dir, "*.etl"))
	for _, p := range names {
		t.Run(filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			checkResume(t, data, 53)
		})
	}
}

// A trace cut in the middle of its last buffer (a copy that stopped
// early) pages the same as a full reading.
func TestIndexResumeTruncated(t *testing.T) {
	var b bytes.Buffer
	if _, err := nettrace.Generate(&b, nettrace.GenOptions{Size: 1 << 20, CPUs: 3}); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()[:b.Len()-20000]
	checkResume(t, data, 41)
}

// memFile is an in-memory io.WriterAt for the circular writer.
type memFile struct{ b []byte }

func (m *memFile) Write(p []byte) (int, error) { m.b = append(m.b, p...); return len(p), nil }
func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	if end := int(off) + len(p); end > len(m.b) {
		m.b = append(m.b, make([]byte, end-len(m.b))...)
	}
	return copy(m.b[off:], p), nil
}

// A circular file that wrapped (netsh's default file mode: "after the
// file reaches the maximum size, the oldest events are replaced"): the
// newest buffers sit at the front of the ring, so each CPU's buffers are
// read by sequence number, not in file order; pages must follow.
// The same circular file before it wraps (ring larger than the data) is
// read in file order.
func TestIndexResumeCircular(t *testing.T) {
	for _, ring := range []int{24, 1000} {
		checkResume(t, circularTrace(t, ring), 13)
	}
}

func circularTrace(t *testing.T, ring int) []byte {
	var m memFile
	s, err := etltest.NewStream(&m, etltest.Options{CPUs: 4, BufferSize: 4 << 10, RingBuffers: ring, MaximumFileSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	start := s.Options().Start
	for i := range 6000 {
		ev := etltest.Event{Provider: decode.WebIO, ID: 728, Level: 4, PID: 4321, TID: 77, CPU: i % 4,
			Time: start.Add(time.Duration(i) * time.Millisecond), UserData: make([]byte, 40+i%64)}
		if err := s.Add(&ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return m.b
}
