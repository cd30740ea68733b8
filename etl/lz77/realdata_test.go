package lz77

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/etlscope/etlscope/internal/sharedtest"
)

const bufferHeaderSize = 72 // WMI_BUFFER_HEADER

// compressedFiles are the sample files holding compressed buffers.
var compressedFiles = []string{
	"kernel-dotnet-compressed-x64-win8-9200.etl",
	"kernel-dotnet-compressed-x86-win8-9200.etl",
	"selfdescribing-compressed-win11-22000.etl",
	"tiny-32bit-compressed-win10-10586.etl",
}

// etlBuffer is one buffer of a sample file, as far as this test needs it.
type etlBuffer struct {
	fileOff    int
	compressed bool
	raw        []byte // whole buffer, header included, as stored in the file
	saved      int    // Wnode.SavedOffset
	offset     int    // Offset
}

func readBuffers(t testing.TB, path string) []etlBuffer {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bufs, err := splitBuffers(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return bufs
}

// splitBuffers cuts an ETL file into its buffers (BufferSize at 0x00 is the
// on-disk size of each, see the package documentation).
func splitBuffers(b []byte) ([]etlBuffer, error) {
	var bufs []etlBuffer
	for off := 0; off+bufferHeaderSize <= len(b); {
		h := b[off:]
		size := int(binary.LittleEndian.Uint32(h[0x00:]))
		if size < bufferHeaderSize || size > len(h) {
			return nil, fmt.Errorf("buffer at %#x: bad BufferSize %d", off, size)
		}
		bufs = append(bufs, etlBuffer{
			fileOff:    off,
			compressed: binary.LittleEndian.Uint16(h[0x34:])&0x40 != 0,
			raw:        h[:size],
			saved:      int(binary.LittleEndian.Uint32(h[0x04:])),
			offset:     int(binary.LittleEndian.Uint32(h[0x30:])),
		})
		off += size
	}
	return bufs, nil
}

// countRecords walks the 8-byte aligned event records of a buffer payload
// and reports how many there are, or -1 if a record header is implausible.
func countRecords(p []byte) int {
	n := 0
	for off := 0; off+8 <= len(p); n++ {
		if !plausibleRecord(p[off:]) {
			return -1
		}
		var size int
		switch p[off+2] {
		case 0x01, 0x02, 0x03, 0x04, 0x10, 0x11: // SYSTEM, COMPACT, PERFINFO (32/64): size at 4
			size = int(binary.LittleEndian.Uint16(p[off+4:]))
		default: // FULL_HEADER, INSTANCE, EVENT_HEADER (32/64): size at 0
			size = int(binary.LittleEndian.Uint16(p[off:]))
		}
		if size == 0 {
			return -1
		}
		off += (size + 7) &^ 7
	}
	return n
}

// plausibleRecord reports whether p starts with an ETW record marker: flags
// byte TRACE_HEADER_FLAG|TRACE_HEADER_EVENT_TRACE and a known header type.
func plausibleRecord(p []byte) bool {
	if len(p) < 8 || p[3]&0xC0 != 0xC0 {
		return false
	}
	switch p[2] {
	case 0x01, 0x02, 0x03, 0x04, 0x0A, 0x0B, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15:
		return true
	}
	return false
}

// expected reads the events and compressed_buffers columns of EXPECTED.tsv.
func expected(t testing.TB, dir string) map[string][2]int {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "EXPECTED.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string][2]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var col map[string]int
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if col == nil {
			col = map[string]int{}
			for i, c := range fields {
				col[c] = i
			}
			continue
		}
		ev, err1 := strconv.Atoi(fields[col["events"]])
		cb, err2 := strconv.Atoi(fields[col["compressed_buffers"]])
		if err1 != nil || err2 != nil {
			t.Fatalf("EXPECTED.tsv line %q: %v %v", sc.Text(), err1, err2)
		}
		m[fields[0]] = [2]int{ev, cb}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestRealETLBuffers decompresses every compressed buffer of the sample
// files: each must decode without error to exactly SavedOffset-72 bytes of
// well-formed records, and the record and compressed-buffer counts must match
// the independent parser's EXPECTED.tsv.
func TestRealETLBuffers(t *testing.T) {
	dir := sharedtest.ETLDir(t)
	want := expected(t, dir)
	dst := make([]byte, 1<<16)
	for _, name := range compressedFiles {
		t.Run(name, func(t *testing.T) {
			records, compressed := 0, 0
			for _, b := range readBuffers(t, filepath.Join(dir, name)) {
				var payload []byte
				if !b.compressed {
					payload = b.raw[bufferHeaderSize:b.offset]
				} else {
					compressed++
					size := b.saved - bufferHeaderSize
					if b.offset != b.saved || size <= 0 || size > len(dst) {
						t.Fatalf("buffer at %#x: SavedOffset %d, Offset %d", b.fileOff, b.saved, b.offset)
					}
					src := b.raw[bufferHeaderSize:]
					n, err := Decompress(dst[:size], src)
					if err != nil {
						t.Fatalf("buffer at %#x: %v", b.fileOff, err)
					}
					// Both older decoders must agree byte for byte, also
					// with a destination that leaves the fast loop no
					// room (exact size) and one with plenty.
					sameAsOracles(t, src, dst[:n], size)
					sameAsOracles(t, src, dst[:n], len(dst))
					if n != size {
						t.Fatalf("buffer at %#x: decompressed %d bytes, SavedOffset-72 = %d", b.fileOff, n, size)
					}
					if !plausibleRecord(dst) {
						t.Fatalf("buffer at %#x: output starts with %x, not a record header", b.fileOff, dst[:8])
					}
					payload = dst[:n]
				}
				c := countRecords(payload)
				if c < 0 {
					t.Fatalf("buffer at %#x: malformed record sequence", b.fileOff)
				}
				records += c
			}
			if w := want[name]; records != w[0] || compressed != w[1] {
				t.Errorf("records %d, compressed buffers %d; EXPECTED.tsv says %d, %d", records, compressed, w[0], w[1])
			}
		})
	}
}

// TestRealRoundTrip re-encodes real decompressed buffers with Compress.
func TestRealRoundTrip(t *testing.T) {
	dir := sharedtest.ETLDir(t)
	dst := make([]byte, 1<<16)
	back := make([]byte, 1<<16)
	checked := 0
	for _, b := range readBuffers(t, filepath.Join(dir, compressedFiles[0])) {
		if !b.compressed || checked == 20 {
			continue
		}
		n, err := Decompress(dst, b.raw[bufferHeaderSize:])
		if err != nil {
			t.Fatal(err)
		}
		enc := Compress(dst[:n])
		m, err := Decompress(back, enc)
		if err != nil || !bytes.Equal(back[:m], dst[:n]) {
			t.Fatalf("buffer at %#x: round trip failed: %v", b.fileOff, err)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no compressed buffers found")
	}
}

// sameAsOracles decodes src into a destination of dstSize bytes with the
// reference (byte-at-a-time) and the previous decoder and with Decompress,
// and fails unless all three give want.
func sameAsOracles(t testing.TB, src, want []byte, dstSize int) {
	t.Helper()
	for _, d := range []struct {
		name string
		fn   func(dst, src []byte) (int, error)
	}{{"Decompress", Decompress}, {"reference", refDecompress}, {"old", oldDecompress}} {
		got := make([]byte, dstSize)
		n, err := d.fn(got, src)
		if err != nil || !bytes.Equal(got[:n], want) {
			t.Fatalf("%s decoder: %d bytes, err %v; differs from the %d bytes expected", d.name, n, err, len(want))
		}
	}
}
