package etl

import (
	"runtime"
)

// Read-ahead: one goroutine reads the file (buffer headers, buffer loads,
// decompression, record headers, the merge by time) while the caller's
// goroutine handles the events. A command that does real work per event
// (decoding, following TCP streams, writing rows) then takes about the
// longer of the two instead of their sum.
//
// Events cross between the goroutines in batches: the reader copies each
// event, its payload and extended items into a batch, and a fixed set of
// batches circulates, so memory stays bounded (aheadBatches ×
// aheadArena, plus one oversized event at most per batch) whatever the
// file's size. Issues found by the reader travel in the batch with the
// position of the event they precede, so ReadOptions.OnIssue is called on
// the caller's goroutine, in the same order relative to the events as
// without read-ahead.

// Ahead selects read-ahead for ReadOptions.
type Ahead uint8

// Read-ahead modes.
const (
	AheadAuto   Ahead = iota // time order, files of at least minAheadSize, more than one core
	AheadNever               // read on the caller's goroutine
	AheadAlways              // whenever there is more than one core (tests, benchmarks)
)

const (
	// aheadBatches is the number of batches in circulation: one being
	// filled, one being handled, the rest queued.
	aheadBatches = 4
	// aheadArena is the payload bytes a batch holds before it is handed
	// over (an event larger than that gets a batch of its own).
	aheadArena = 512 << 10
	// aheadEvents bounds the events of a batch.
	aheadEvents = 2048
	// minAheadSize is the smallest file read ahead by default: below it
	// the handover costs more than it saves.
	minAheadSize = 4 << 20
)

// ahead reports whether an iteration with opts reads ahead.
func (f *File) ahead(opts ReadOptions) bool {
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
	return !opts.FileOrder && f.size >= minAheadSize
}

// batch is a run of events copied out of their buffers.
type batch struct {
	events []Event
	ext    []ExtendedItem
	data   []byte // payload arena: UserData and extended items point into it
	issues []aheadIssue
	err    error // the error that ended the reading, after the events
}

// aheadIssue is an issue found before events[at] was read.
type aheadIssue struct {
	at int
	is Issue
}

func (b *batch) reset() {
	b.events, b.ext, b.data, b.issues, b.err = b.events[:0], b.ext[:0], b.data[:0], b.issues[:0], nil
}

// fits reports whether ev can join b without b's arena growing (an empty
// batch takes any event).
func (b *batch) fits(ev *Event) bool {
	if len(b.events) == 0 {
		return true
	}
	if len(b.events) >= aheadEvents {
		return false
	}
	n := len(ev.UserData)
	for _, x := range ev.Extended {
		n += len(x.Data)
	}
	return len(b.data)+n <= cap(b.data)
}

// add copies ev into b. The arena never moves once events point into
// it: fits keeps a non-empty batch within its capacity, and an empty
// batch too small for ev gets a larger arena first.
func (b *batch) add(ev *Event) {
	n := len(ev.UserData)
	for _, x := range ev.Extended {
		n += len(x.Data)
	}
	if len(b.events) == 0 && n > cap(b.data) {
		b.data = make([]byte, 0, n)
	}
	b.events = append(b.events, *ev)
	c := &b.events[len(b.events)-1]
	c.UserData = b.copy(ev.UserData)
	if ev.Extended != nil {
		start := len(b.ext)
		for _, x := range ev.Extended {
			b.ext = append(b.ext, ExtendedItem{Type: x.Type, Data: b.copy(x.Data)})
		}
		c.Extended = b.ext[start:len(b.ext):len(b.ext)]
	}
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

// readAhead runs read (the iteration without read-ahead) on another
// goroutine and yields its events from batches.
func (f *File) readAhead(opts ReadOptions, read func(*pass, func(*Event, error) bool)) func(yield func(*Event, error) bool) {
	return func(yield func(*Event, error) bool) {
		free := make(chan *batch, aheadBatches)
		full := make(chan *batch, aheadBatches)
		stop := make(chan struct{})
		done := make(chan struct{})
		arena := int64(aheadArena)
		if f.size < arena {
			arena = f.size
		}
		for range aheadBatches {
			// ext starts non-nil so that an event with an empty
			// (non-nil) Extended keeps it empty, not nil.
			free <- &batch{data: make([]byte, 0, arena), ext: make([]ExtendedItem, 0, 16)}
		}
		inner := opts
		var cur *batch
		inner.OnIssue = func(is Issue) { cur.issues = append(cur.issues, aheadIssue{at: len(cur.events), is: is}) }
		p := f.startPass(inner)
		go func() {
			defer close(done)
			defer close(full)
			cur = <-free
			// send hands cur over and takes an empty batch; false when
			// the caller stopped.
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
			read(p, func(ev *Event, err error) bool {
				if err != nil {
					cur.err = err
					return false
				}
				if !cur.fits(ev) && !send() {
					return false
				}
				cur.add(ev)
				return true
			})
			select {
			case full <- cur:
			case <-stop:
			}
		}()
		defer func() {
			close(stop)
			<-done
		}()
		for b := range full {
			k := 0
			for i := range b.events {
				for ; k < len(b.issues) && b.issues[k].at <= i; k++ {
					if opts.OnIssue != nil {
						opts.OnIssue(b.issues[k].is)
					}
				}
				if !yield(&b.events[i], nil) {
					return
				}
			}
			for ; k < len(b.issues); k++ {
				if opts.OnIssue != nil {
					opts.OnIssue(b.issues[k].is)
				}
			}
			if b.err != nil {
				yield(nil, b.err)
				return
			}
			b.reset()
			free <- b
		}
	}
}
