package lz77_test

import (
	"bytes"
	"testing"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/lz77"
	"github.com/etlscope/etlscope/internal/nettrace"
)

// generatedStreams returns the compressed streams (and their decompressed
// sizes) of a NetTrace-like file of about mb MB written by the gentrace
// generator with compressed buffers. Its buffers hold the DNS, TCPIP, WebIO
// and packet events of TLS connections, compressed by this package's
// Compress, so their shape is the encoder's, not Windows' (the real samples
// cover that, see TestRealETLBuffers).
func generatedStreams(t testing.TB, mb int64) (streams [][]byte, sizes []int) {
	t.Helper()
	var file bytes.Buffer
	if _, err := nettrace.Generate(&file, nettrace.GenOptions{Size: mb << 20, Compress: true}); err != nil {
		t.Fatal(err)
	}
	return fileStreams(t, file.Bytes())
}

// fileStreams returns the compressed streams of an ETL file and their
// decompressed sizes, found with the etl package's buffer walk.
func fileStreams(t testing.TB, data []byte) (streams [][]byte, sizes []int) {
	t.Helper()
	f, err := etl.NewFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for bi, err := range f.Buffers() {
		if err != nil {
			t.Fatal(err)
		}
		if bi.Compressed {
			streams = append(streams, data[bi.Offset+etl.BufferHeaderSize:bi.Offset+int64(bi.Size)])
			sizes = append(sizes, int(bi.SavedSize)-etl.BufferHeaderSize)
		}
	}
	if len(streams) == 0 {
		t.Fatal("no compressed buffer")
	}
	return streams, sizes
}

// TestGeneratedBuffers decodes every compressed buffer of a generated
// NetTrace with Decompress, the reference decoder and the previous one, into
// a destination of exactly the decompressed size and into a larger one.
func TestGeneratedBuffers(t *testing.T) {
	streams, sizes := generatedStreams(t, 2)
	for i, src := range streams {
		want := make([]byte, sizes[i])
		if n, err := lz77.RefDecompress(want, src); err != nil || n != sizes[i] {
			t.Fatalf("buffer %d: reference decoder: %d of %d bytes, %v", i, n, sizes[i], err)
		}
		for _, size := range []int{sizes[i], 1 << 16} {
			lz77.CheckAgainst(t, src, size)
			got := make([]byte, size)
			if n, err := lz77.OldDecompress(got, src); err != nil || !bytes.Equal(got[:n], want) {
				t.Fatalf("buffer %d: previous decoder differs: %v", i, err)
			}
		}
	}
}
