package tick

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestEvery: fn runs until stop, final runs once after the last fn, and
// nothing runs after stop returns; fn returning false ends the loop
// without final.
func TestEvery(t *testing.T) {
	var n, after atomic.Int32
	finals := 0
	stop := Every(time.Millisecond, func() bool { n.Add(1); return true }, func() { finals++ })
	for n.Load() < 3 {
		time.Sleep(time.Millisecond)
	}
	stop()
	seen := n.Load()
	time.Sleep(10 * time.Millisecond)
	if n.Load() != seen || finals != 1 {
		t.Errorf("after stop: %d calls (were %d), %d finals", n.Load(), seen, finals)
	}

	finals = 0
	stop = Every(time.Millisecond, func() bool { after.Add(1); return false }, func() { finals++ })
	for after.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond)
	stop()
	if after.Load() != 1 || finals != 0 {
		t.Errorf("fn that ended the loop: %d calls, %d finals", after.Load(), finals)
	}
}
