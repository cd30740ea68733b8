package scan

import (
	"bytes"
	"testing"

	"github.com/etlscope/etlscope/etl"
)

// TestBatchBounds: an event larger than a batch's arena (ETW records stop
// at 64 KB, but a file smaller than the arena gets a smaller arena) takes
// an empty batch of its own, whose arena grows; a non-empty batch never
// moves the bytes its events point to; a batch stops taking events at its
// event and property bounds; a dropped event gives its room back.
func TestBatchBounds(t *testing.T) {
	b := newBatch(100)
	small := &etl.Event{ID: 1, UserData: bytes.Repeat([]byte{1}, 60)}
	big := &etl.Event{ID: 2, UserData: bytes.Repeat([]byte{2}, 300), Extended: []etl.ExtendedItem{{Type: 5, Data: []byte{9, 9}}}}
	if !b.fits(small) {
		t.Fatal("an empty batch must take any event")
	}
	c, _ := b.add(small)
	if b.fits(big) {
		t.Fatal("a non-empty batch took an event larger than its free arena")
	}
	first := c.UserData
	_, m := b.add(&etl.Event{ID: 3, UserData: []byte{3, 3}})
	b.drop(m)
	if len(b.events) != 1 || len(b.data) != 60 {
		t.Fatalf("drop left %d events, %d bytes", len(b.events), len(b.data))
	}
	b.reset()
	if !b.fits(big) {
		t.Fatal("an empty batch must take any event")
	}
	got, _ := b.add(big)
	if !bytes.Equal(got.UserData, big.UserData) || len(got.Extended) != 1 || !bytes.Equal(got.Extended[0].Data, []byte{9, 9}) {
		t.Fatalf("oversized event not copied whole: %d bytes, %v", len(got.UserData), got.Extended)
	}
	if &got.UserData[0] == &big.UserData[0] {
		t.Fatal("the event's bytes were not copied")
	}
	if !bytes.Equal(first, bytes.Repeat([]byte{1}, 60)) {
		t.Fatal("an earlier event's bytes changed")
	}

	b = newBatch(1 << 20)
	tiny := &etl.Event{ID: 4}
	for range aheadEvents {
		if !b.fits(tiny) {
			t.Fatalf("full after %d events", len(b.events))
		}
		b.add(tiny)
	}
	if b.fits(tiny) {
		t.Error("took more than aheadEvents events")
	}
	b.reset()
	b.add(tiny)
	b.props = aheadProps
	if b.fits(tiny) {
		t.Error("took events beyond aheadProps decoded properties")
	}
	if cap(b.events) != aheadEvents {
		t.Errorf("events grew to %d: decoded slots would point into a stale copy", cap(b.events))
	}
}
