package packet

import (
	"runtime"
	"testing"
	"time"
	"unsafe"
)

// TestSummarySize keeps the folded connection small: it is what a trace
// with 100 000 connections holds per connection.
func TestSummarySize(t *testing.T) {
	if n := unsafe.Sizeof(summary{}); n > 88 {
		t.Errorf("summary is %d bytes, want at most 88", n)
	}
}

// TestSummariesReleased: the summary blocks (mapped outside the Go heap
// on Unix) are released once their tracker is unreachable.
func TestSummariesReleased(t *testing.T) {
	tr := NewTracker()
	for range blockSize + 1 {
		tr.sums.add()
	}
	s := tr.sums
	if len(s.blocks) != 2 {
		t.Fatalf("%d blocks", len(s.blocks))
	}
	s.at(blockSize).pid = 7 // the storage is writable
	done := make(chan struct{})
	s.releases = append(s.releases, func() { close(done) }) // runs after the blocks' own
	tr = nil
	for range 100 {
		runtime.GC()
		select {
		case <-done:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Error("the blocks of an unreachable tracker were not released")
}
