package etl_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/internal/etltest"
	"github.com/etlscope/etlscope/internal/sharedtest"
)

// drain reads every event in both orders and returns the number of events
// and the integrity record of the file. It fails the test on a panic (by
// not recovering), on an open error that is not a *FormatError, on any
// iteration error (damage is recorded as issues, not yielded), when the
// two orders disagree on the number of events, and on issues that do not
// name a plausible place.
func drain(t testing.TB, b []byte) (events int, in etl.Integrity, openErr error) {
	t.Helper()
	counts := [2]int{}
	for i, fileOrder := range []bool{false, true} {
		f, err := etl.NewFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			var fe *etl.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("NewFile: %v is not a *FormatError", err)
			}
			return 0, etl.Integrity{}, err
		}
		var seen []etl.Issue
		for ev, err := range f.Events(etl.ReadOptions{FileOrder: fileOrder, OnIssue: func(is etl.Issue) { seen = append(seen, is) }}) {
			if err != nil {
				t.Fatalf("file order %v: iteration error %v", fileOrder, err)
			}
			_ = ev.Time
			counts[i]++
		}
		got := f.Integrity()
		for _, is := range got.Issues {
			if is.Offset < -1 || is.Offset > int64(len(b)) || is.Offset >= 0 && !strings.Contains(is.Message, "0x") || is.Kind == "" {
				t.Fatalf("issue without a plausible place: %+v", is)
			}
		}
		if len(seen) > len(got.Issues)+got.Omitted {
			t.Fatalf("OnIssue saw %d issues, Integrity holds %d", len(seen), len(got.Issues))
		}
		if !fileOrder {
			in = got
		}
	}
	if counts[0] != counts[1] {
		t.Fatalf("merged order read %d events, file order %d", counts[0], counts[1])
	}
	return counts[0], in, nil
}

// hasLoss returns the first issue with Loss, or nil.
func hasLoss(in etl.Integrity) *etl.Issue {
	for i := range in.Issues {
		if in.Issues[i].Loss {
			return &in.Issues[i]
		}
	}
	return nil
}

func realSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedtest.ETLDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTruncated cuts files at many points: inside the first buffer (an
// error), mid-buffer and mid-header later on (a partial result with a
// warning).
func TestTruncated(t *testing.T) {
	for _, name := range []string{"kernel-win10-19041.etl", "kernel-dotnet-compressed-x86-win8-9200.etl"} {
		t.Run(name, func(t *testing.T) {
			b := realSample(t, name)
			full, _, _ := drain(t, b)
			for _, cut := range []int{0, 10, 0x48, 0x60, 0x300, 70000, len(b) / 3, len(b)/2 + 13, len(b) - 100, len(b) - 1} {
				ev, in, err := drain(t, b[:cut])
				if cut <= 0x60 && err == nil {
					t.Errorf("cut at %d: no error", cut)
				}
				if err != nil {
					continue
				}
				// The last buffer's records may all lie before the cut.
				if ev > full || (ev == full && cut < len(b)/2) {
					t.Errorf("cut at %d: %d events of %d", cut, ev, full)
				}
				if in.Complete() || in.Totals[etl.IssueTruncated] == 0 {
					t.Errorf("cut at %d: no truncation finding: %+v", cut, in.Issues)
				}
			}
		})
	}
}

// TestZeroedBuffer zeroes one buffer header in the middle of a file: the
// reader reports it with its offset and recovers at the next buffer.
func TestZeroedBuffer(t *testing.T) {
	for _, name := range []string{"kernel-win10-19041.etl", "kernel-dotnet-compressed-x64-win8-9200.etl"} {
		t.Run(name, func(t *testing.T) {
			b := bytes.Clone(realSample(t, name))
			full, _, _ := drain(t, b)
			// Find the 10th buffer.
			off := 0
			for i := 0; i < 10; i++ {
				off += int(binary.LittleEndian.Uint32(b[off:]))
			}
			clear(b[off : off+etl.BufferHeaderSize])
			f, err := etl.NewFile(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, err := range f.Events(etl.ReadOptions{FileOrder: true}) {
				if err != nil {
					t.Fatal(err)
				}
				n++
			}
			in := f.Integrity()
			if len(in.Issues) == 0 || in.Issues[0].Kind != etl.IssueDamagedBuffer || in.Issues[0].Offset != int64(off) ||
				!in.Issues[0].Loss || !strings.Contains(in.Issues[0].Message, "0x"+strconvHex(off)) {
				t.Fatalf("issues %+v, want a damaged buffer at offset %#x first", in.Issues, off)
			}
			if n >= full || n < full*8/10 {
				t.Errorf("%d of %d events after losing one buffer", n, full)
			}
			if st := f.Stats(); st.SkippedBuffers != 1 {
				t.Errorf("skipped buffers %d, want 1", st.SkippedBuffers)
			}
		})
	}
}

func strconvHex(n int) string {
	const digits = "0123456789abcdef"
	if n == 0 {
		return "0"
	}
	var s []byte
	for ; n > 0; n /= 16 {
		s = append([]byte{digits[n%16]}, s...)
	}
	return string(s)
}

// TestByteFlips flips random bytes in real and generated files: never a
// panic, never a non-format error, bounded memory.
func TestByteFlips(t *testing.T) {
	inputs := map[string][]byte{
		"generated":            writeFixture(t, etltest.Options{CPUs: 3, BufferSize: 2048}, 300),
		"generated-compressed": writeFixture(t, etltest.Options{CPUs: 2, BufferSize: 2048, Compress: true}, 300),
	}
	if sharedtest.Dir() != "" {
		inputs["tiny-32bit"] = realSample(t, "tiny-32bit-compressed-win10-10586.etl")
		inputs["tracelogging"] = realSample(t, "tracelogging-primitive-types-win10-19043.etl")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	iterations := 300
	if testing.Short() {
		iterations = 50
	}
	var ms runtime.MemStats
	for name, orig := range inputs {
		t.Run(name, func(t *testing.T) {
			for i := 0; i < iterations; i++ {
				b := bytes.Clone(orig)
				for j := 0; j < 1+rng.IntN(8); j++ {
					k := rng.IntN(len(b))
					b[k] ^= byte(1 + rng.IntN(255))
				}
				drain(t, b)
			}
		})
	}
	runtime.ReadMemStats(&ms)
	if ms.HeapAlloc > 512<<20 {
		t.Errorf("heap grew to %d MB", ms.HeapAlloc>>20)
	}
}

// TestHostileSizes makes buffer headers claim huge sizes: the reader must
// neither allocate them nor trust them.
func TestHostileSizes(t *testing.T) {
	orig := writeFixture(t, etltest.Options{CPUs: 2, BufferSize: 4096}, 50)
	tests := []struct {
		name  string
		field int
		val   uint32
	}{
		{"buffer size", 0x00, 0xFFFFFFF0},
		{"saved offset compressed", 0x04, 0x7FFFFFFF},
		{"filled offset", 0x30, 0xFFFFFF00},
		{"flags", 0x34, 0xFFFF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bytes.Clone(orig)
			binary.LittleEndian.PutUint32(b[4096+tt.field:], tt.val)
			if tt.name == "saved offset compressed" {
				binary.LittleEndian.PutUint16(b[4096+0x34:], etl.BufferFlagCompressed)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			drain(t, b)
			runtime.ReadMemStats(&after)
			if d := after.TotalAlloc - before.TotalAlloc; d > 64<<20 {
				t.Errorf("allocated %d MB reading a %d-byte file", d>>20, len(b))
			}
			ev, in, err := drain(t, b)
			if err != nil || in.Complete() || ev == 0 {
				t.Errorf("events %d issues %+v err %v: want a partial result with a loss finding", ev, in.Issues, err)
			}
		})
	}
}
