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

// Run with:
//
//	go test -run '^$' -bench . -benchmem ./etl/
func benchRead(b *testing.B, data []byte, opts etl.ReadOptions) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var events int
	for b.Loop() {
		f, err := etl.NewFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			b.Fatal(err)
		}
		events = 0
		for _, err := range f.Events(opts) {
			if err != nil {
				b.Fatal(err)
			}
			events++
		}
	}
	b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkReadReal reads the largest real sample (uncompressed) and the
// largest compressed one.
func BenchmarkReadReal(b *testing.B) {
	dir := sharedtest.ETLDir(b)
	for _, name := range []string{"dotnet-user-large-win10-19041.etl", "kernel-dotnet-compressed-x64-win8-9200.etl"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name+"/merged", func(b *testing.B) { benchRead(b, data, etl.ReadOptions{}) })
		b.Run(name+"/file-order", func(b *testing.B) { benchRead(b, data, etl.ReadOptions{FileOrder: true}) })
	}
}

// BenchmarkReadGenerated reads a generated 4-CPU trace of ~32 MB, and the
// same events in compressed buffers (compare -cpu 1,2 for decompressing
// ahead on the other core).
func BenchmarkReadGenerated(b *testing.B) {
	data := writeFixture(b, etltest.Options{CPUs: 4}, 400000)
	b.Run("merged", func(b *testing.B) { benchRead(b, data, etl.ReadOptions{}) })
	b.Run("file-order", func(b *testing.B) { benchRead(b, data, etl.ReadOptions{FileOrder: true}) })
	comp := writeFixture(b, etltest.Options{CPUs: 4, Compress: true}, 400000)
	b.Run("compressed/merged", func(b *testing.B) { benchRead(b, comp, etl.ReadOptions{}) })
	b.Run("compressed/file-order", func(b *testing.B) { benchRead(b, comp, etl.ReadOptions{FileOrder: true}) })
}
