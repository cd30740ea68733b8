package etl_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/internal/etltest"
	"github.com/etlscope/etlscope/internal/sharedtest"
)

// FuzzFile feeds arbitrary bytes to the reader: no panic, only
// *FormatError problems, bounded memory. Seeds are small generated traces
// (the real samples may not be copied into the project) plus the corpus in
// testdata/fuzz/FuzzFile.
func FuzzFile(f *testing.F) {
	f.Add(writeFixture(f, etltest.Options{CPUs: 2, BufferSize: 1024}, 20))
	f.Add(writeFixture(f, etltest.Options{CPUs: 2, BufferSize: 1024, PointerSize: 4}, 20))
	f.Add(writeFixture(f, etltest.Options{CPUs: 3, BufferSize: 1024, Compress: true}, 30))
	// A circular file that wrapped (the ring of 3 slots went round).
	f.Add(writeFixture(f, etltest.Options{CPUs: 2, BufferSize: 1024, RingBuffers: 3}, 60))
	// The small real samples, read from ../shared at run time (they may not
	// be copied into the project).
	if dir := sharedtest.Dir(); dir != "" {
		for _, name := range []string{"tiny-32bit-compressed-win10-10586.etl", "tracelogging-primitive-types-win10-19043.etl", "lxcore-win10-19041.etl", "selfdescribing-compressed-win11-22000.etl"} {
			if b, err := os.ReadFile(filepath.Join(dir, "testdata", "etl", name)); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		drain(t, b)
	})
}

// FuzzBuffer fuzzes one data buffer after an intact header buffer, so the
// fuzzer spends its effort on buffer headers, decompression and records.
func FuzzBuffer(f *testing.F) {
	for _, opts := range []etltest.Options{{CPUs: 1, BufferSize: 1024}, {CPUs: 1, BufferSize: 1024, Compress: true}} {
		b := writeFixture(f, opts, 12)
		hb := headerBufferLen(b)
		f.Add(b[:hb], b[hb:])
	}
	f.Fuzz(func(t *testing.T, head, buf []byte) {
		if headerBufferLen(head) != len(head) {
			return
		}
		drain(t, append(bytes.Clone(head), buf...))
	})
}

// headerBufferLen returns the size of the first buffer of b, or -1.
func headerBufferLen(b []byte) int {
	if len(b) < etl.BufferHeaderSize {
		return -1
	}
	n := int(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
	if n > len(b) {
		return -1
	}
	return n
}
