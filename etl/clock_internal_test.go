package etl

import (
	"testing"
	"time"
)

// TestClockValidRange: the clock's integer range test keeps exactly the
// times validTime keeps (years 1601-9999), at and around both bounds.
func TestClockValidRange(t *testing.T) {
	c := clock{kind: ClockSystem}
	// (minTime100 itself is FILETIME 0, which the clock reads as "no
	// time" whatever the range.)
	for _, t100 := range []int64{minTime100 - 1, minTime100 + 1, 0, maxTime100 - 1, maxTime100, maxTime100 + 1} {
		raw := t100 + filetimeEpochDelta
		want := validTime(time.Unix(t100/1e7, (t100%1e7)*100).UTC())
		if got := c.time(raw); !got.Equal(want) {
			t.Errorf("t100 %d: clock %v, validTime %v", t100, got, want)
		}
	}
}
