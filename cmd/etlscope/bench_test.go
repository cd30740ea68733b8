package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/scan"
	"github.com/etlscope/etlscope/internal/nettrace"
)

// Benchmarks of the commands on a generated NetTrace-like file:
//
//	go test -run '^$' -bench . -benchtime 3x ./cmd/etlscope/
//	ETLSCOPE_BENCH_MB=1024 go test -run '^$' -bench . -benchtime 1x ./cmd/etlscope/
//	ETLSCOPE_BENCH_FILE=/tmp/big.etl go test -run '^$' -bench Commands/analyze -cpuprofile cpu.prof ./cmd/etlscope/
//
// ETLSCOPE_BENCH_FILE reads an existing trace (such as gentrace output)
// instead of generating one, so that a profile shows only the command.
//
// They report MB/s, events/s and the benchmark process's peak RSS so far
// (Linux); BenchmarkCommandsProcess (memory_test.go) runs each command as
// a child process and reports its own peak RSS and its time against
// reading the file.

var (
	benchOnce sync.Once
	benchFile string
	benchSize int64
	benchEvts int64
)

func benchTrace(b *testing.B) string {
	benchOnce.Do(func() {
		if p := os.Getenv("ETLSCOPE_BENCH_FILE"); p != "" {
			st, err := os.Stat(p)
			if err != nil {
				b.Fatal(err)
			}
			benchFile, benchSize = p, st.Size()
			benchEvts = countEvents(b, p)
			return
		}
		mb := int64(128)
		if s := os.Getenv("ETLSCOPE_BENCH_MB"); s != "" {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
				mb = n
			}
		}
		dir, err := os.MkdirTemp("", "etlscope-bench")
		if err != nil {
			b.Fatal(err)
		}
		benchFile = filepath.Join(dir, "big.etl")
		fh, err := os.Create(benchFile)
		if err != nil {
			b.Fatal(err)
		}
		st, err := nettrace.Generate(fh, nettrace.GenOptions{Size: mb << 20})
		fh.Close()
		if err != nil {
			b.Fatal(err)
		}
		benchSize, benchEvts = st.Bytes, st.Events
	})
	return benchFile
}

// peakRSS returns the process's peak resident set in MB (0 when unknown).
func peakRSS() float64 {
	fh, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

func BenchmarkCommands(b *testing.B) {
	path := benchTrace(b)
	for _, args := range [][]string{
		{"info"},
		{"events", "-o", "csv"},
		{"events", "-o", "json"},
		{"events"},
		{"events", "-o", "csv", "-f", `description.contains("EnabledProtocols")`},
		{"analyze"},
		{"conversations", "-o", "csv"},
	} {
		b.Run(strings.Join(args, " "), func(b *testing.B) {
			b.SetBytes(benchSize)
			for b.Loop() {
				code := run(append(append([]string(nil), args...), path), &streams{In: bytes.NewReader(nil), Out: io.Discard, Err: io.Discard})
				if code != exitOK && code != exitTLSProblem {
					b.Fatalf("exit %d", code)
				}
			}
			b.ReportMetric(float64(benchEvts)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(peakRSS(), "peak-RSS-MB")
		})
	}
}

// countEvents counts the events of the trace at path (for events/s).
func countEvents(b *testing.B, path string) int64 {
	t, err := scan.Open(path, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer t.Close()
	var n int64
	for _, err := range t.File.Events(etl.ReadOptions{FileOrder: true}) {
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
	return n
}
