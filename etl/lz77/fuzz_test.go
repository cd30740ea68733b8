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

// BenchmarkDecompressETW measures output throughput on the real compressed
// ETW buffers of a sample file (Windows' own encoder).
func BenchmarkDecompressETW(b *testing.B) {
	dir := sharedtest.ETLDir(b)
	type buf struct {
		src  []byte
		size int
	}
	var bufs []buf
	total := 0
	for _, eb := range readBuffers(b, filepath.Join(dir, compressedFiles[0])) {
		if eb.compressed {
			bufs = append(bufs, buf{eb.raw[bufferHeaderSize:], eb.saved - bufferHeaderSize})
			total += eb.saved - bufferHeaderSize
		}
	}
	dst := make([]byte, 1<<16)
	b.SetBytes(int64(total))
	b.ResetTimer()
	for b.Loop() {
		for _, x := range bufs {
			if _, err := Decompress(dst[:x.size], x.src); err != nil {
				b.Fatal(err)
			}
		}
	}
}
