package etl_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/internal/etltest"
	"github.com/etlscope/etlscope/internal/nettrace"
)

// memFile is an in-memory io.Writer and io.WriterAt, so that
// etltest.Stream completes the header buffer (BuffersWritten, EndTime) on
// Close as it does on a real file.
type memFile struct{ b []byte }

func (m *memFile) Write(p []byte) (int, error) { m.b = append(m.b, p...); return len(p), nil }
func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	if end := int(off) + len(p); end > len(m.b) {
		m.b = append(m.b, make([]byte, end-len(m.b))...)
	}
	return copy(m.b[off:], p), nil
}

// netTrace generates a NetTrace-like file (DNS, TCPIP, WebIO, WinHttp and
// NDIS packet events of TLS connections on 4 CPUs, 64 KiB buffers: the
// shape `netsh trace start scenario=InternetClient capture=yes` writes)
// of about size bytes.
func netTrace(t testing.TB, size int64, compress bool) []byte {
	t.Helper()
	var m memFile
	if _, err := nettrace.Generate(&m, nettrace.GenOptions{Size: size, Compress: compress}); err != nil {
		t.Fatal(err)
	}
	return m.b
}

// bufferOffsets lists the offsets of the buffers of an intact file, and
// its size as the last element.
func bufferOffsets(t testing.TB, b []byte) []int64 {
	t.Helper()
	f, err := etl.NewFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var offs []int64
	for bi, err := range f.Buffers() {
		if err != nil {
			t.Fatal(err)
		}
		offs = append(offs, bi.Offset)
	}
	return append(offs, int64(len(b)))
}

// eventOffsets reads b in file order and returns the offset of every event
// (the record's offset, or its buffer's for compressed buffers).
func eventOffsets(t testing.TB, b []byte) ([]int64, etl.Integrity) {
	t.Helper()
	f, err := etl.NewFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var offs []int64
	for ev, err := range f.Events(etl.ReadOptions{FileOrder: true}) {
		if err != nil {
			t.Fatal(err)
		}
		offs = append(offs, ev.Offset)
	}
	return offs, f.Integrity()
}

// outside returns the offsets not in [lo, hi).
func outside(offs []int64, lo, hi int64) []int64 {
	var out []int64
	for _, o := range offs {
		if o < lo || o >= hi {
			out = append(out, o)
		}
	}
	return out
}

func describe(in etl.Integrity) string {
	var b strings.Builder
	for _, is := range in.Issues {
		fmt.Fprintf(&b, "\n  %s loss=%v off=%#x count=%d: %s", is.Kind, is.Loss, is.Offset, is.Count, is.Message)
	}
	return b.String()
}

// TestIntactNoFindings: files written whole give no finding at all (no
// false alarm), in either order.
func TestIntactNoFindings(t *testing.T) {
	inputs := map[string][]byte{
		"nettrace":            netTrace(t, 400<<10, false),
		"nettrace-compressed": netTrace(t, 400<<10, true),
		"hcw2012":             nettrace.HCW2012(t),
		"healthy":             nettrace.Healthy(t),
		"generated-32bit":     writeFixture(t, etltest.Options{CPUs: 3, BufferSize: 2048, PointerSize: 4}, 300),
		"generated-compress":  writeFixture(t, etltest.Options{CPUs: 2, BufferSize: 2048, Compress: true}, 300),
		"circular-unwrapped":  writeFixture(t, etltest.Options{CPUs: 2, BufferSize: 2048, RingBuffers: 1000}, 300),
	}
	for name, b := range inputs {
		t.Run(name, func(t *testing.T) {
			_, in, err := drain(t, b)
			if err != nil {
				t.Fatal(err)
			}
			if len(in.Issues) != 0 || !in.Complete() {
				t.Errorf("findings on an intact file:%s", describe(in))
			}
		})
	}
}

// TestCutEverywhere cuts a NetTrace-like file at every buffer boundary,
// around each boundary and at many other offsets: a cut file never reads
// as complete, and reading it never fails or panics. A cut exactly at a
// buffer boundary is found through the logfile header's BuffersWritten;
// with a header that was never finalised (etltest.Stream on a pipe, like a
// session that did not stop), through the missing flush marker of the
// last buffer.
func TestCutEverywhere(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("compressed=%v", compress), func(t *testing.T) {
			b := netTrace(t, 300<<10, compress)
			bufs := bufferOffsets(t, b)
			full, _, _ := drain(t, b)
			first := bufs[1]
			cuts := map[int64]bool{}
			for _, o := range bufs[1:] {
				for _, d := range []int64{-9, -1, 0, 1, 2, 4, 8, 0x47, 0x48, 0x49, 0x50, 0x51, 0x100} {
					cuts[o+d] = true
				}
			}
			for o := bufs[2] - 100; o < bufs[2]+100; o++ {
				cuts[o] = true
			}
			rng := rand.New(rand.NewPCG(3, 4))
			n := 150
			if testing.Short() {
				n = 50
			}
			for range n {
				cuts[rng.Int64N(int64(len(b)))] = true
			}
			delete(cuts, int64(len(b)))
			for cut := range cuts {
				if cut <= 0 || cut > int64(len(b)) {
					continue
				}
				ev, in, err := drain(t, b[:cut])
				if err != nil {
					if cut >= first {
						t.Errorf("cut at %#x (after the header buffer): %v", cut, err)
					}
					continue
				}
				if in.Complete() {
					t.Errorf("cut at %#x: complete, no loss finding:%s", cut, describe(in))
				}
				if ev > full {
					t.Errorf("cut at %#x: %d events, more than the %d of the whole file", cut, ev, full)
				}
			}
		})
	}
}

// TestCutUnfinishedHeader: a file whose header buffer was never completed
// (BuffersWritten 1, as when the session was not stopped) is complete when
// its last buffer carries the flush marker written at stop, and reads as
// incomplete when cut at a buffer boundary.
func TestCutUnfinishedHeader(t *testing.T) {
	var buf bytes.Buffer // not an io.WriterAt: the header stays as first written
	if _, err := nettrace.Generate(&buf, nettrace.GenOptions{Size: 300 << 10}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	bufs := bufferOffsets(t, b)
	if _, in, _ := drain(t, b); !in.Complete() {
		t.Fatalf("whole file:%s", describe(in))
	}
	for _, cut := range bufs[2 : len(bufs)-1] {
		if _, in, _ := drain(t, b[:cut]); in.Complete() {
			t.Errorf("cut at buffer boundary %#x: complete", cut)
		}
	}
}

// Buffer header fields (WMI_BUFFER_HEADER) and the values that make a
// header invalid.
var headerDamage = []struct {
	name  string
	field int
	width int
	val   uint64
}{
	{"size zero", 0x00, 4, 0},
	{"size small", 0x00, 4, 0x40},
	{"size huge", 0x00, 4, 0xFFFFFFF0},
	{"size half", 0x00, 4, 0x8000},
	{"size plus 8", 0x00, 4, 0x10008},
	{"filled past end", 0x30, 4, 0x20000},
	{"flags unknown", 0x34, 2, 0xFF00},
	{"type unknown", 0x36, 2, 0x77},
	{"header zeroed", 0x00, 0, 0},
}

func damageHeader(b []byte, off int64, field, width int, val uint64) {
	le := binary.LittleEndian
	switch width {
	case 0:
		clear(b[off : off+etl.BufferHeaderSize])
	case 2:
		le.PutUint16(b[off+int64(field):], uint16(val))
	case 4:
		le.PutUint32(b[off+int64(field):], uint32(val))
	}
}

// TestDamagedBufferHeader damages each data buffer header of a NetTrace-like
// file in turn: a loss finding names the buffer's offset, and every event
// outside that buffer is still read.
func TestDamagedBufferHeader(t *testing.T) {
	for _, compress := range []bool{false, true} {
		orig := netTrace(t, 300<<10, compress)
		bufs := bufferOffsets(t, orig)
		want, _ := eventOffsets(t, orig)
		for _, d := range headerDamage {
			if compress && (d.name == "size half" || d.name == "size plus 8" || d.name == "filled past end") {
				continue // valid values for a compressed buffer: covered by the byte flips
			}
			for i := 1; i < len(bufs)-1; i++ {
				t.Run(fmt.Sprintf("compressed=%v/%s/buffer%d", compress, d.name, i), func(t *testing.T) {
					b := bytes.Clone(orig)
					lo, hi := bufs[i], bufs[i+1]
					damageHeader(b, lo, d.field, d.width, d.val)
					got, in := eventOffsets(t, b)
					is := slices.IndexFunc(in.Issues, func(is etl.Issue) bool {
						return is.Kind == etl.IssueDamagedBuffer && is.Offset == lo && is.Loss
					})
					if is < 0 || in.Complete() {
						t.Fatalf("no damaged-buffer finding at %#x:%s", lo, describe(in))
					}
					if w := outside(want, lo, hi); !slices.Equal(outside(got, lo, hi), w) {
						t.Errorf("events outside the damaged buffer: %d, want %d", len(outside(got, lo, hi)), len(w))
					}
				})
			}
		}
	}
}

// TestDamagedRecordHeader damages record headers in an uncompressed
// NetTrace-like file: each gives a damaged-record loss finding and every
// other record, later ones in the same buffer included, is still read.
func TestDamagedRecordHeader(t *testing.T) {
	orig := netTrace(t, 300<<10, false)
	want, _ := eventOffsets(t, orig)
	damage := []struct {
		name string
		fn   func(r []byte)
	}{
		{"type", func(r []byte) { r[2] = 0x77 }},
		{"marker", func(r []byte) { r[3] = 0 }},
		{"size past end", func(r []byte) { binary.LittleEndian.PutUint16(r, 0xFFF8) }},
		{"size below header", func(r []byte) { binary.LittleEndian.PutUint16(r, 16) }},
		{"zeroed", func(r []byte) { clear(r[:8]) }},
		{"fill", func(r []byte) { copy(r[:8], bytes.Repeat([]byte{0xFF}, 8)) }},
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, d := range damage {
		for range 12 {
			k := 1 + rng.IntN(len(want)-1)
			if want[k] < int64(64<<10) {
				continue // the header buffer
			}
			t.Run(fmt.Sprintf("%s/%#x", d.name, want[k]), func(t *testing.T) {
				b := bytes.Clone(orig)
				d.fn(b[want[k]:])
				got, in := eventOffsets(t, b)
				if i := slices.IndexFunc(in.Issues, func(is etl.Issue) bool {
					return is.Kind == etl.IssueDamagedRecord && is.Offset == want[k] && is.Loss && is.Count > 0
				}); i < 0 {
					t.Fatalf("no damaged-record finding at %#x:%s", want[k], describe(in))
				}
				if w := slices.Delete(slices.Clone(want), k, k+1); !slices.Equal(got, w) {
					t.Errorf("read %d events, want %d (all but the damaged one)", len(got), len(w))
				}
			})
		}
	}
}

// logfileCounter offsets in a file with 8-byte pointers: the logfile
// header record starts at 0x48 + 32.
const (
	lfBase           = etl.BufferHeaderSize + 32
	lfBuffersWritten = lfBase + 0x24
	lfEventsLost     = lfBase + 0x30
	lfBuffersLost    = lfBase + 0x114 // after ReservedFlags (0x110) in a 64-bit TRACE_LOGFILE_HEADER
)

// TestLogfileCounters changes the logfile header's counters: lost events
// and buffers and a BuffersWritten above what the file holds are loss
// findings; a BuffersWritten below it loses nothing when the last buffer
// carries the flush marker, and is a loss finding when it does not.
func TestLogfileCounters(t *testing.T) {
	orig := netTrace(t, 300<<10, false)
	bufs := bufferOffsets(t, orig)
	n := uint32(len(bufs) - 1)
	le := binary.LittleEndian
	if got := le.Uint32(orig[lfBuffersWritten:]); got != n {
		t.Fatalf("fixture BuffersWritten %d, want %d", got, n)
	}
	if le.Uint32(orig[lfBuffersLost-4:]) != uint32(etltest.ClockQPC) {
		t.Fatalf("BuffersLost offset: ReservedFlags not found before %#x", lfBuffersLost)
	}
	last := bufs[len(bufs)-2]
	tests := []struct {
		name string
		fn   func(b []byte)
		kind etl.IssueKind
		loss bool
	}{
		{"events lost", func(b []byte) { le.PutUint32(b[lfEventsLost:], 7) }, etl.IssueLostEvents, true},
		{"buffers lost", func(b []byte) { le.PutUint32(b[lfBuffersLost:], 2) }, etl.IssueLostBuffers, true},
		{"buffers written +1", func(b []byte) { le.PutUint32(b[lfBuffersWritten:], n+1) }, etl.IssueTruncated, true},
		{"buffers written huge", func(b []byte) { le.PutUint32(b[lfBuffersWritten:], 0xFFFFFFFF) }, etl.IssueTruncated, true},
		{"buffers written -1", func(b []byte) { le.PutUint32(b[lfBuffersWritten:], n-1) }, "", false},
		{"buffers written -1, no flush marker", func(b []byte) {
			le.PutUint32(b[lfBuffersWritten:], n-1)
			b[last+0x34] &^= etl.BufferFlagFlushMarker
		}, etl.IssueTruncated, true},
		{"buffer flagged events lost", func(b []byte) { b[bufs[2]+0x34] |= etl.BufferFlagEventsLost }, etl.IssueLostEvents, true},
		{"buffer flagged buffer lost", func(b []byte) { b[bufs[2]+0x34] |= etl.BufferFlagBufferLost }, etl.IssueLostBuffers, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bytes.Clone(orig)
			tt.fn(b)
			ev, in, err := drain(t, b)
			if err != nil {
				t.Fatal(err)
			}
			if in.Complete() == tt.loss {
				t.Errorf("complete %v, want %v:%s", in.Complete(), !tt.loss, describe(in))
			}
			if tt.kind != "" && in.Totals[tt.kind] == 0 {
				t.Errorf("no %s finding:%s", tt.kind, describe(in))
			}
			if full, _, _ := drain(t, orig); ev != full {
				t.Errorf("%d events, want all %d", ev, full)
			}
		})
	}
}

// TestGarbageBuffer overwrites a whole buffer with random bytes and then
// with zeros: reading resumes at the next buffer; the zeroed buffer is a
// fill region that hides a buffer the header counts.
func TestGarbageBuffer(t *testing.T) {
	for _, compress := range []bool{false, true} {
		orig := netTrace(t, 300<<10, compress)
		bufs := bufferOffsets(t, orig)
		want, _ := eventOffsets(t, orig)
		lo, hi := bufs[2], bufs[3]
		for _, fill := range []string{"random", "zero", "ff"} {
			t.Run(fmt.Sprintf("compressed=%v/%s", compress, fill), func(t *testing.T) {
				b := bytes.Clone(orig)
				switch fill {
				case "random":
					rng := rand.New(rand.NewPCG(7, 8))
					for i := lo; i < hi; i++ {
						b[i] = byte(rng.IntN(256))
					}
				case "zero":
					clear(b[lo:hi])
				case "ff":
					copy(b[lo:hi], bytes.Repeat([]byte{0xFF}, int(hi-lo)))
				}
				got, in := eventOffsets(t, b)
				if in.Complete() {
					t.Fatalf("complete:%s", describe(in))
				}
				if !slices.Equal(got, outside(want, lo, hi)) {
					t.Errorf("read %d events, want the %d outside the buffer", len(got), len(outside(want, lo, hi)))
				}
				if fill != "random" && (len(in.Issues) == 0 || in.Issues[0].Kind != etl.IssueFill || in.Issues[0].Offset != lo || in.Issues[0].Count != hi-lo) {
					t.Errorf("want a fill finding for [%#x, %#x):%s", lo, hi, describe(in))
				}
			})
		}
	}
}

// fillTail is an io.ReaderAt of a file followed by fill up to size, without
// holding the fill in memory.
type fillTail struct {
	head []byte
	size int64
	fill byte
}

func (r *fillTail) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && off+int64(n) < r.size {
		o := off + int64(n)
		if o < int64(len(r.head)) {
			n += copy(p[n:], r.head[o:])
			continue
		}
		k := int(min(int64(len(p)-n), r.size-o))
		if r.fill == 0 {
			clear(p[n : n+k])
		} else {
			for i := n; i < n+k; i++ {
				p[i] = r.fill
			}
		}
		n += k
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func readTail(t testing.TB, r *fillTail) (int, etl.Integrity) {
	f, err := etl.NewFile(r, r.size)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, err := range f.Events(etl.ReadOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n, f.Integrity()
}

// TestFillTail: a file followed by a large zero (preallocated, never
// written) or 0xFF tail is read whole, the tail is an informational fill
// finding, and skipping it takes memory speed, not a byte-by-byte search.
// When the header counts buffers the tail hides, the fill is a loss.
func TestFillTail(t *testing.T) {
	head := netTrace(t, 300<<10, false)
	full, _, _ := drain(t, head)
	for _, tt := range []struct {
		name   string
		fill   byte
		size   int64
		damage bool // the last buffer's header zeroed: the tail starts inside garbage
		hides  bool // BuffersWritten counts two more buffers
	}{
		{"zero 256MiB", 0, 256 << 20, false, false},
		{"ff 16MiB", 0xFF, 16 << 20, false, false},
		{"zero 64MiB after damage", 0, 64 << 20, true, false},
		{"zero hides buffers", 0, 16 << 20, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := bytes.Clone(head)
			bufs := bufferOffsets(t, head)
			if tt.damage {
				clear(h[bufs[len(bufs)-2]:][:etl.BufferHeaderSize])
			}
			if tt.hides {
				binary.LittleEndian.PutUint32(h[lfBuffersWritten:], uint32(len(bufs)+1))
			}
			start := time.Now()
			n, in := readTail(t, &fillTail{head: h, size: int64(len(h)) + tt.size, fill: tt.fill})
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("reading took %v", d)
			}
			i := slices.IndexFunc(in.Issues, func(is etl.Issue) bool { return is.Kind == etl.IssueFill })
			if i < 0 || in.Issues[i].Offset != int64(len(h)) || in.Issues[i].Count != tt.size {
				t.Fatalf("want a fill finding at %#x:%s", len(h), describe(in))
			}
			if in.Issues[i].Loss != tt.hides || in.Complete() != (!tt.hides && !tt.damage) {
				t.Errorf("fill loss %v complete %v:%s", in.Issues[i].Loss, in.Complete(), describe(in))
			}
			if !tt.damage && n != full {
				t.Errorf("%d events, want %d", n, full)
			}
		})
	}
}

// BenchmarkFillTail reads a small trace followed by a 2 GiB zero tail (a
// preallocated file that was never filled).
func BenchmarkFillTail(b *testing.B) {
	head := netTrace(b, 300<<10, false)
	r := &fillTail{head: head, size: int64(len(head)) + 2<<30}
	b.SetBytes(r.size)
	for b.Loop() {
		readTail(b, r)
	}
}

// TestCircularWrapped builds a circular NetTrace-like file that wrapped:
// the header buffer first, then a ring of 8 buffer slots that the data
// buffers (64 KiB, 4 CPUs, as netsh writes) went round several times, so
// the newest buffers sit at the front of the ring and the oldest behind
// them (EVENT_TRACE_FILE_MODE_CIRCULAR: "after the file reaches the
// maximum size, the oldest events are replaced with incoming events").
// Reading in time order gives every surviving event in order; the wrap is
// a loss finding (the oldest events are gone).
func TestCircularWrapped(t *testing.T) {
	var m memFile
	s, err := etltest.NewStream(&m, etltest.Options{CPUs: 4, BufferSize: 64 << 10, RingBuffers: 8, MaximumFileSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	start := s.Options().Start
	for i := range 12000 {
		ev := etltest.Event{Provider: webIO, ID: 728, Level: 4, PID: 4321, TID: 77, CPU: i % 4,
			Time: start.Add(time.Duration(i) * time.Millisecond), UserData: make([]byte, 40+i%64)}
		if err := s.Add(&ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b := m.b
	if len(b) != 9*64<<10 {
		t.Fatalf("file of %d bytes, want the header and 8 slots", len(b))
	}
	f, err := etl.NewFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	in := f.Integrity()
	if in.Complete() || in.Totals[etl.IssueWrapped] != 1 {
		t.Fatalf("want a wrapped finding:%s", describe(in))
	}
	if f.Header().LogFileMode&etl.ModeFileCircular == 0 {
		t.Fatal("not a circular file")
	}
	for _, fileOrder := range []bool{false, true} {
		var last int64
		backwards, n := 0, 0
		for ev, err := range f.Events(etl.ReadOptions{FileOrder: fileOrder}) {
			if err != nil {
				t.Fatal(err)
			}
			if n > 0 && ev.Timestamp < last {
				backwards++
			}
			last = ev.Timestamp
			n++
		}
		if !fileOrder && backwards > 0 {
			t.Errorf("time order: %d events go back in time", backwards)
		}
		if fileOrder && backwards == 0 {
			t.Errorf("file order is time order: the fixture did not wrap mid-ring")
		}
		if n < 1000 || n >= 12000 {
			t.Errorf("%d events survive the wrap", n)
		}
	}
	_, in2, _ := drain(t, b)
	if in2.Totals[etl.IssueWrapped] != 1 {
		t.Errorf("wrapped findings %v", in2.Totals)
	}
}
