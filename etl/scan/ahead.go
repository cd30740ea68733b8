package scan

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
)

// Read-ahead: one goroutine reads the file (buffer loads, decompression,
// record headers, the merge by time) and decodes and filters the events,
// while the caller's goroutine runs the visitor. A command that does real
// work per event (following TCP streams, writing rows) then takes about
// the longer of the two instead of their sum.
//
// Events cross between the goroutines in batches: the reader copies each
// event, its payload and extended items into a batch and decodes the copy
// there (so that the properties, which alias the payload, live as long as
// the batch). A fixed set of batches circulates and each is bounded in
// events, payload bytes and decoded properties, so memory stays bounded
// whatever the file's size. Issues found by the reader travel in the
// batch with the position of the event they precede, so OnIssue is called
// on the caller's goroutine, in the same order relative to the events as
// without read-ahead; the visitor sees exactly the events, indexes and
// decoded values it would see without it.

// Ahead selects read-ahead for Options.
type Ahead uint8

// Read-ahead modes.
const (
	AheadAuto   Ahead = iota // time order, files of at least minAheadSize, more than one core
	AheadNever               // read on the caller's goroutine
	AheadAlways              // whenever there is more than one core (tests, benchmarks)
)

const (
	// aheadBatches is the number of batches in circulation: one being
	// filled, one being visited, the rest queued.
	aheadBatches = 4
	// aheadArena is the payload bytes a batch holds before it is handed
	// over (an event larger than that gets a batch of its own).
	aheadArena = 256 << 10
	// aheadEvents bounds the events of a batch.
	aheadEvents = 1024
	// aheadProps bounds the decoded properties of a batch (an event may
	// have up to 4096).
	aheadProps = 16 << 10
	// keepProps is the property storage a decoded slot keeps from one
	// batch to the next; an event with more gets fresh storage.
	keepProps = 64
	// minAheadSize is the smallest file read ahead by default: below it
	// the handover costs more than it saves.
	minAheadSize = 4 << 20
)

// ahead reports whether Run reads f ahead with opts.
func ahead(f *etl.File, opts Options) bool {
	if runtime.GOMAXPROCS(0) < 2 {
		return false
	}
	switch opts.Ahead {
	case AheadNever:
		return false
	case AheadAlways:
		return true
	}
	// File order is what counting uses (info): its per-event work is too
	// small to pay for the copy.
	return !opts.FileOrder && f.Size() >= minAheadSize
}

// batch is a run of events copied out of the reader's buffers, with the
// decoded ones.
type batch struct {
	events  []etl.Event // fixed capacity: decoded slots point into it
	ext     []etl.ExtendedItem
	data    []byte           // payload arena: UserData and extended items point into it
	decs    []decode.Decoded // decoded slots, reused with their property storage
	props   int              // decoded properties in decs
	entries []entry          // what the visitor gets, in order
	issues  []aheadIssue
	read    int   // events read when the batch was handed over
	err     error // the error that ended the reading, after the entries
}

// entry is one event for the visitor.
type entry struct {
	ev, dec int // indexes in events and decs (dec -1: not decoded)
	index   int // the event's Index
}

// aheadIssue is an issue found before entries[at] was read.
type aheadIssue struct {
	at int
	is etl.Issue
}

func newBatch(arena int) *batch {
	return &batch{
		events: make([]etl.Event, 0, aheadEvents),
		// ext starts non-nil so that an event with an empty (non-nil)
		// Extended keeps it empty, not nil.
		ext:  make([]etl.ExtendedItem, 0, 16),
		data: make([]byte, 0, arena),
	}
}

func (b *batch) reset() {
	all := b.decs[:cap(b.decs)]
	for i := range all {
		if cap(all[i].Properties) > keepProps {
			all[i].Properties = nil
		}
	}
	b.events, b.ext, b.data, b.decs = b.events[:0], b.ext[:0], b.data[:0], b.decs[:0]
	b.entries, b.issues, b.props, b.read, b.err = b.entries[:0], b.issues[:0], 0, 0, nil
}

// fits reports whether ev can join b without any of its bounds being
// passed (an empty batch takes any event).
func (b *batch) fits(ev *etl.Event) bool {
	if len(b.events) == 0 {
		return true
	}
	if len(b.events) >= aheadEvents || b.props >= aheadProps {
		return false
	}
	return len(b.data)+payloadSize(ev) <= cap(b.data)
}

func payloadSize(ev *etl.Event) int {
	n := len(ev.UserData)
	for _, x := range ev.Extended {
		n += len(x.Data)
	}
	return n
}

// mark is where a batch stood before an event was added.
type mark struct{ events, ext, data int }

// add copies ev into b and returns the copy. The arena never moves once
// events point into it: fits keeps a non-empty batch within its
// capacity, and an empty batch too small for ev gets a larger arena
// first.
func (b *batch) add(ev *etl.Event) (*etl.Event, mark) {
	m := mark{len(b.events), len(b.ext), len(b.data)}
	if n := payloadSize(ev); len(b.events) == 0 && n > cap(b.data) {
		b.data = make([]byte, 0, n)
	}
	b.events = append(b.events, *ev)
	c := &b.events[len(b.events)-1]
	c.UserData = b.copy(ev.UserData)
	if ev.Extended != nil {
		start := len(b.ext)
		for _, x := range ev.Extended {
			b.ext = append(b.ext, etl.ExtendedItem{Type: x.Type, Data: b.copy(x.Data)})
		}
		c.Extended = b.ext[start:len(b.ext):len(b.ext)]
	}
	return c, m
}

// drop takes back the event added at m (the filter did not keep it).
func (b *batch) drop(m mark) {
	b.events, b.ext, b.data = b.events[:m.events], b.ext[:m.ext], b.data[:m.data]
}

// copy appends p to the arena and returns the copy (nil stays nil).
func (b *batch) copy(p []byte) []byte {
	if p == nil {
		return nil
	}
	s := len(b.data)
	b.data = append(b.data, p...)
	return b.data[s:len(b.data):len(b.data)]
}

// slot returns the next decoded slot.
func (b *batch) slot() *decode.Decoded {
	if len(b.decs) < cap(b.decs) {
		b.decs = b.decs[:len(b.decs)+1]
	} else {
		b.decs = append(b.decs, decode.Decoded{})
	}
	return &b.decs[len(b.decs)-1]
}

// runAhead is Run's loop with the reading, decoding and filtering on
// another goroutine.
func runAhead(ctx context.Context, f *etl.File, opts Options, dec *decoder, res *Result, visit func(*Event) error) error {
	free := make(chan *batch, aheadBatches)
	full := make(chan *batch, aheadBatches)
	stop := make(chan struct{})
	done := make(chan struct{})
	arena := int64(aheadArena)
	if f.Size() < arena {
		arena = max(f.Size(), 1)
	}
	for range aheadBatches {
		free <- newBatch(int(arena))
	}
	go func() {
		defer close(done)
		defer close(full)
		read(f, opts, dec, free, full, stop)
	}()
	defer func() {
		close(stop)
		<-done
	}()
	e := &Event{}
	for b := range full {
		if err := ctx.Err(); err != nil {
			return err
		}
		k := 0
		for i, en := range b.entries {
			for ; k < len(b.issues) && b.issues[k].at <= i; k++ {
				if opts.OnIssue != nil {
					opts.OnIssue(b.issues[k].is)
				}
			}
			e.Event, e.Decoded, e.Index = &b.events[en.ev], nil, en.index
			if en.dec >= 0 {
				e.Decoded = &b.decs[en.dec]
			}
			res.Events = en.index + 1
			res.Visited++
			if err := visit(e); err != nil {
				if errors.Is(err, ErrStop) {
					res.Integrity.Add(stopped(e.Event))
					return nil
				}
				return err
			}
			if i%1024 == 1023 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
		}
		for ; k < len(b.issues); k++ {
			if opts.OnIssue != nil {
				opts.OnIssue(b.issues[k].is)
			}
		}
		res.Events = b.read
		if b.err != nil {
			return b.err
		}
		b.reset()
		free <- b
	}
	return nil
}

// read is the reading goroutine of runAhead: it fills batches from free
// and hands them over on full until the file ends or stop closes.
func read(f *etl.File, opts Options, dec *decoder, free <-chan *batch, full chan<- *batch, stop <-chan struct{}) {
	var cur *batch
	select {
	case cur = <-free:
	case <-stop:
		return
	}
	// send hands cur over and takes an empty batch; false when the
	// caller stopped.
	send := func() bool {
		select {
		case full <- cur:
		case <-stop:
			return false
		}
		select {
		case cur = <-free:
			return true
		case <-stop:
			return false
		}
	}
	onIssue := func(is etl.Issue) { cur.issues = append(cur.issues, aheadIssue{at: len(cur.entries), is: is}) }
	n := 0
	for ev, err := range f.Events(opts.readOptions(onIssue)) {
		if err != nil {
			cur.err = err
			break
		}
		index := n
		n++
		if !cur.fits(ev) {
			cur.read = index
			if !send() {
				return
			}
		}
		c, m := cur.add(ev)
		di := -1
		if dec.selects(c) {
			d := cur.slot()
			if !dec.decode(c, d) {
				cur.decs = cur.decs[:len(cur.decs)-1]
				cur.drop(m)
				continue
			}
			cur.props += len(d.Properties)
			di = len(cur.decs) - 1
		}
		cur.entries = append(cur.entries, entry{ev: len(cur.events) - 1, dec: di, index: index})
	}
	cur.read = n
	select {
	case full <- cur:
	case <-stop:
	}
}

// stopped is the finding of a scan that a visitor ended early at ev.
func stopped(ev *etl.Event) etl.Issue {
	return etl.Issue{Kind: IssueStopped, Offset: ev.Offset,
		Message: fmt.Sprintf("reading stopped early (limit reached) after the record at offset %#x: the rest of the file was not read or checked", ev.Offset)}
}
