package etl

import (
	"bytes"
	"testing"
)

// TestBatchOversizedEvent: an event larger than a batch's arena (ETW
// records stop at 64 KB, but a file smaller than the arena gets a smaller
// arena) takes an empty batch of its own, whose arena grows; a non-empty
// batch never moves the bytes its events point to.
func TestBatchOversizedEvent(t *testing.T) {
	b := &batch{data: make([]byte, 0, 100), ext: make([]ExtendedItem, 0, 4)}
	small := &Event{ID: 1, UserData: bytes.Repeat([]byte{1}, 60)}
	big := &Event{ID: 2, UserData: bytes.Repeat([]byte{2}, 300), Extended: []ExtendedItem{{Type: 5, Data: []byte{9, 9}}}}
	if !b.fits(small) {
		t.Fatal("an empty batch must take any event")
	}
	b.add(small)
	if b.fits(big) {
		t.Fatal("a non-empty batch took an event larger than its free arena")
	}
	first := b.events[0].UserData
	b.reset()
	if !b.fits(big) {
		t.Fatal("an empty batch must take any event")
	}
	b.add(big)
	got := b.events[0]
	if !bytes.Equal(got.UserData, big.UserData) || len(got.Extended) != 1 || !bytes.Equal(got.Extended[0].Data, []byte{9, 9}) {
		t.Fatalf("oversized event not copied whole: %d bytes, %v", len(got.UserData), got.Extended)
	}
	if &got.UserData[0] == &big.UserData[0] {
		t.Fatal("the event's bytes were not copied")
	}
	if !bytes.Equal(first, bytes.Repeat([]byte{1}, 60)) {
		t.Fatal("an earlier event's bytes changed")
	}
}
