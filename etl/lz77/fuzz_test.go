package lz77

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/etlscope/etlscope/internal/sharedtest"
)

func fuzzSeeds(f *testing.F) {
	for _, s := range []string{
		"3f 00 00 00 61 62 63 64 65 66 67 68 69 6a 6b 6c 6d 6e 6f 70 71 72 73 74 75 76 77 78 79 7a",
		"ff ff ff 1f 61 62 63 17 00 0f ff 26 01",
		"ff ff ff 7f 61 07 00 ff 00 07 00 01",
		"ff ff ff 7f 61 07 00 0f ff 15 01",
		"ff ff ff 7f 61 07 00 0f ff 00 00 00 00 01 00",
		"ff ff ff 7f 61 07 00 0f ff 00 00 ff ff ff ff",
		"ff ff ff ff 00 00",
		"ff ff",
	} {
		f.Add(unhex(f, s), uint16(400))
	}
	for _, in := range testInputs() {
		if len(in) > 4096 { // keep seeds small so the fuzzer stays fast
			in = in[:4096]
		}
		f.Add(Compress(in), uint16(len(in)))
	}
}

// FuzzDecompress checks that Decompress never panics, never writes past dst
// and agrees with the byte-at-a-time reference decoder. Run it with a short
// minimisation budget, e.g.
//
//	go test -run='^$' -fuzz=FuzzDecompress -fuzztime=2m -fuzzminimizetime=5s ./etl/lz77
func FuzzDecompress(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, src []byte, size uint16) {
		checkAgainstRef(t, src, int(size))
	})
}

// FuzzRoundTrip checks Decompress(Compress(x)) == x.
func FuzzRoundTrip(f *testing.F) {
	for _, in := range testInputs() {
		f.Add(in[:min(len(in), 4096)])
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		enc := Compress(in)
		dst := make([]byte, len(in))
		n, err := Decompress(dst, enc)
		if err != nil || n != len(in) || !bytes.Equal(dst, in) {
			t.Fatalf("round trip of %d bytes: n=%d err=%v", len(in), n, err)
		}
	})
}

func benchInput(b *testing.B) []byte {
	var parts [][]byte
	for _, in := range testInputs() {
		parts = append(parts, in)
	}
	return bytes.Join(parts, nil)
}

// BenchmarkDecompress measures output throughput on synthetic data (mixed
// literals, short and long matches).
func BenchmarkDecompress(b *testing.B) {
	in := benchInput(b)
	enc := Compress(in)
	dst := make([]byte, len(in))
	b.SetBytes(int64(len(in)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := Decompress(dst, enc); err != nil {
			b.Fatal(err)
		}
	}
}

// decoders are the decoders the benchmarks compare.
var decoders = []struct {
	name string
	fn   func(dst, src []byte) (int, error)
}{
	{"new", Decompress},
	{"old", oldDecompress},
	{"ref", refDecompress},
}

// BenchmarkDecompressETW measures output throughput on the real compressed
// ETW buffers of the sample files (Windows' own encoder), for this decoder
// and the ones it is compared with.
func BenchmarkDecompressETW(b *testing.B) {
	dir := sharedtest.ETLDir(b)
	for _, name := range compressedFiles[:2] {
		bufs, total := realBuffers(b, filepath.Join(dir, name))
		dst := make([]byte, 1<<16)
		for _, d := range decoders {
			b.Run(name+"/"+d.name, func(b *testing.B) {
				b.SetBytes(int64(total))
				for b.Loop() {
					for _, x := range bufs {
						if _, err := d.fn(dst[:x.size], x.src); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
	}
}

// compressedBuffer is one compressed buffer's stream and its decompressed size.
type compressedBuffer struct {
	src  []byte
	size int
}

// realBuffers returns the compressed buffers of a sample file and their
// total decompressed size.
func realBuffers(t testing.TB, path string) ([]compressedBuffer, int) {
	var bufs []compressedBuffer
	total := 0
	for _, eb := range readBuffers(t, path) {
		if eb.compressed {
			bufs = append(bufs, compressedBuffer{eb.raw[bufferHeaderSize:], eb.saved - bufferHeaderSize})
			total += eb.saved - bufferHeaderSize
		}
	}
	return bufs, total
}
