package etl_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/internal/etltest"
)

// readWithProcs reads b with GOMAXPROCS set to procs (1: every buffer
// decompressed inline; more: helpers decompress ahead) and renders events
// and integrity issues as text.
func readWithProcs(t *testing.T, b []byte, procs int, fileOrder bool) (events, warnings string) {
	t.Helper()
	old := runtime.GOMAXPROCS(procs)
	defer runtime.GOMAXPROCS(old)
	evs, warns, _ := readAll(t, b, etl.ReadOptions{FileOrder: fileOrder, Prefetch: etl.PrefetchAlways})
	var e, w strings.Builder
	for _, ev := range evs {
		fmt.Fprintf(&e, "%d/%d/%d/%x\n", ev.Timestamp, ev.CPU, ev.ID, ev.UserData)
	}
	for _, err := range warns {
		fmt.Fprintln(&w, err)
	}
	return e.String(), w.String()
}

// TestParallelDamagedBuffers: with compressed buffers damaged (a corrupt
// match offset, a stream longer than its header says), reading ahead
// on other cores gives the same events and the same integrity issues, with the same
// byte offsets, as reading on one core.
func TestParallelDamagedBuffers(t *testing.T) {
	good := writeFixture(t, etltest.Options{CPUs: 4, BufferSize: 4096, Compress: true}, 3000)
	var offs []int64
	f, err := etl.NewFile(bytes.NewReader(good), int64(len(good)))
	if err != nil {
		t.Fatal(err)
	}
	for bi, err := range f.Buffers() {
		if err != nil {
			t.Fatal(err)
		}
		if bi.Compressed {
			offs = append(offs, bi.Offset)
		}
	}
	if len(offs) < 10 {
		t.Fatalf("only %d compressed buffers", len(offs))
	}
	damaged := bytes.Clone(good)
	// A match token right after the first flag word and literal run that
	// points before the start of the output: all-ones flags, token 0xFFFF.
	copy(damaged[offs[3]+etl.BufferHeaderSize:], []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})
	// A buffer whose header claims 16 decompressed bytes fewer than its
	// stream holds (Wnode.SavedOffset, uint32 at 0x04): the records up to
	// there are read, and the rest is reported.
	sv := damaged[offs[7]+4:]
	binary.LittleEndian.PutUint32(sv, binary.LittleEndian.Uint32(sv)-16)
	for _, fileOrder := range []bool{true, false} {
		e1, w1 := readWithProcs(t, damaged, 1, fileOrder)
		e4, w4 := readWithProcs(t, damaged, 4, fileOrder)
		if w1 == "" {
			t.Fatalf("file order %v: the damage went unnoticed", fileOrder)
		}
		if e1 != e4 || w1 != w4 {
			t.Errorf("file order %v: one core and four cores differ:\nwarnings one:\n%s\nfour:\n%s", fileOrder, w1, w4)
		}
	}
}

// TestParallelEarlyStop: a reader that stops early leaves no helper
// goroutine behind.
func TestParallelEarlyStop(t *testing.T) {
	b := writeFixture(t, etltest.Options{CPUs: 4, BufferSize: 4096, Compress: true}, 3000)
	old := runtime.GOMAXPROCS(4)
	defer runtime.GOMAXPROCS(old)
	before := runtime.NumGoroutine()
	for _, fileOrder := range []bool{true, false} {
		f, err := etl.NewFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, err := range f.Events(etl.ReadOptions{FileOrder: fileOrder, Prefetch: etl.PrefetchAlways}) {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == 100 {
				break
			}
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after stopping early, %d before", n, before)
	}
}
