package packet

import (
	"testing"
	"unsafe"
)

// TestSummarySize keeps the folded connection small: it is what a trace
// with 100 000 connections holds per connection.
func TestSummarySize(t *testing.T) {
	if n := unsafe.Sizeof(summary{}); n > 88 {
		t.Errorf("summary is %d bytes, want at most 88", n)
	}
}
