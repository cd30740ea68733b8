package viewer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/scan"
)

// defaultEvery is how many events lie between two checkpoints. A page read
// re-reads at most this many events before its first row.
const defaultEvery = 512

// bufRef is one buffer of the trace and its place in its CPU's stream.
type bufRef struct {
	info   etl.BufferInfo
	stream int // index into index.streams
	pos    int // position within that stream
}

// streamPos is where one CPU's stream stands at a checkpoint: the buffer
// (position in the stream) of its next record and how many records of
// that buffer came before the checkpoint.
type streamPos struct {
	pos, consumed int32
}

// index is the position index of a trace: the events in the order
// etl.File.Events returns them, numbered from 0, with one checkpoint every
// `every` events. A checkpoint holds, for every CPU stream, where that
// stream stood; reading from a checkpoint builds a virtual file of the
// buffers still needed (vfile) and lets the etl reader merge it exactly as
// it merges the whole file.
type index struct {
	r     io.ReaderAt
	size  int64
	every int

	bufs      []bufRef
	streams   [][]int       // buffer indices (into bufs) per stream, in file order
	fileOrder bool          // the reader does not merge this file by time (see mergesLikeReader)
	listed    chan struct{} // closed once bufs, streams and fileOrder are set

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced whenever count or done change
	states    []streamPos   // len(streams) entries per checkpoint
	times     []int64       // unix nanoseconds of the first event of each checkpoint
	count     int           // events indexed so far
	done      bool
	err       error         // fatal read error (the index stops there)
	integrity etl.Integrity // what the reader found wrong, once done
	nwarn     int           // integrity findings so far
}

// newIndex prepares the index of f; build fills it.
func newIndex(r io.ReaderAt, size int64, every int) *index {
	if every <= 0 {
		every = defaultEvery
	}
	return &index{r: r, size: size, every: every, changed: make(chan struct{}), listed: make(chan struct{})}
}

// listBuffers lists the buffers of f (headers only) and the CPU streams,
// then closes ix.listed.
func (ix *index) listBuffers(f *etl.File) error {
	defer close(ix.listed)
	byCPU := map[uint16]int{}
	for bi, err := range f.Buffers() {
		if err != nil {
			var fe *etl.FormatError
			if !errors.As(err, &fe) {
				return err
			}
			continue // the scan of build reports it as an integrity finding
		}
		s, ok := byCPU[bi.CPU]
		if !ok {
			s = len(ix.streams)
			byCPU[bi.CPU] = s
			ix.streams = append(ix.streams, nil)
		}
		ix.bufs = append(ix.bufs, bufRef{info: bi, stream: s, pos: len(ix.streams[s])})
		ix.streams[s] = append(ix.streams[s], len(ix.bufs)-1)
		if bi.Index != len(ix.bufs)-1 {
			return fmt.Errorf("viewer: buffer index %d listed as %d", bi.Index, len(ix.bufs)-1)
		}
	}
	if wrapped(f) {
		// After the wrap, file order is not time order: the reader takes
		// each CPU's buffers by sequence number (or time when there is
		// none); this mirrors sortBySequence in etl/file.go.
		for s := range ix.streams {
			ix.sortBySequence(ix.streams[s])
			for p, b := range ix.streams[s] {
				ix.bufs[b].pos = p
			}
		}
	}
	if !mergesLikeReader(f.Header(), ix.bufs, len(ix.streams)) {
		// One stream of all buffers in file order.
		ix.fileOrder = true
		ix.streams = [][]int{make([]int, len(ix.bufs))}
		for i := range ix.bufs {
			ix.bufs[i].stream, ix.bufs[i].pos = 0, i
			ix.streams[0][i] = i
		}
	}
	return nil
}

// wrapped reports whether f is a circular file that wrapped.
func wrapped(f *etl.File) bool {
	for _, is := range f.Integrity().Issues {
		if is.Kind == etl.IssueWrapped {
			return true
		}
	}
	return false
}

// sortBySequence orders one stream's buffers by sequence number, or by
// timestamp when the writer left sequence numbers zero, then by offset.
func (ix *index) sortBySequence(stream []int) {
	bySeq := true
	for _, b := range stream {
		if ix.bufs[b].info.Sequence == 0 {
			bySeq = false
		}
	}
	slices.SortStableFunc(stream, func(x, y int) int {
		a, b := &ix.bufs[x].info, &ix.bufs[y].info
		if bySeq && a.Sequence != b.Sequence {
			return cmp.Compare(a.Sequence, b.Sequence)
		}
		if a.Timestamp != b.Timestamp {
			return cmp.Compare(a.Timestamp, b.Timestamp)
		}
		return cmp.Compare(a.Offset, b.Offset)
	})
}

// order waits until the buffers are listed and reports whether the file is
// read in file order (see mergesLikeReader).
func (ix *index) order(ctx context.Context) (fileOrder bool, err error) {
	select {
	case <-ix.listed:
		return ix.fileOrder, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// mergesLikeReader reports whether etl.File.Events merges this file's CPU
// streams by time. The reader falls back to file order when the merge would
// index more than 1<<22 buffers or hold more than 256 MiB of buffers (one
// per CPU, at the header's buffer size, or 1 MiB when that is out of
// range); these limits mirror etl/file.go.
func mergesLikeReader(h etl.Header, bufs []bufRef, cpus int) bool {
	maxSize := int64(h.BufferSize)
	if maxSize < 1<<10 || maxSize > 16<<20 {
		maxSize = 1 << 20
	}
	if len(bufs) > 0 && int64(bufs[0].info.Size) > maxSize {
		maxSize = int64(bufs[0].info.Size)
	}
	return len(bufs) <= 1<<22 && int64(cpus)*maxSize <= 256<<20
}

// publishLocked wakes the waiters; ix.mu is held.
func (ix *index) publishLocked() {
	close(ix.changed)
	ix.changed = make(chan struct{})
}

// build reads every event once through the read pipeline (without
// decoding), records the checkpoints and calls observe for each event. It
// returns when the file is read, ctx is done or a fatal read error happens
// (kept in ix.err); what the reader found wrong with the file is kept in
// ix.integrity.
func (ix *index) build(ctx context.Context, f *etl.File, observe func(*etl.Event)) {
	if err := ix.listBuffers(f); err != nil {
		ix.mu.Lock()
		ix.done, ix.err = true, err
		ix.publishLocked()
		ix.mu.Unlock()
		return
	}
	state := make([]streamPos, len(ix.streams))
	opts := scan.Options{
		FileOrder: ix.fileOrder,
		Decode:    func(*etl.Event) bool { return false },
		OnIssue: func(is etl.Issue) {
			ix.mu.Lock()
			ix.nwarn++
			ix.mu.Unlock()
		},
	}
	res, err := scan.Run(ctx, f, opts, func(e *scan.Event) error {
		ev, n := e.Event, e.Index
		if ev.Buffer < 0 || ev.Buffer >= len(ix.bufs) {
			return fmt.Errorf("viewer: event at offset %#x from unlisted buffer %d", ev.Offset, ev.Buffer)
		}
		if n%ix.every == 0 {
			ix.mu.Lock()
			ix.states = append(ix.states, state...)
			ix.times = append(ix.times, ev.Time.UnixNano())
			ix.count = n
			ix.publishLocked()
			ix.mu.Unlock()
		}
		b := &ix.bufs[ev.Buffer]
		st := &state[b.stream]
		if int(st.pos) != b.pos {
			st.pos, st.consumed = int32(b.pos), 0
		}
		st.consumed++
		if observe != nil {
			observe(ev)
		}
		return nil
	})
	ix.mu.Lock()
	if res != nil {
		ix.count = res.Events
		ix.integrity = res.Integrity
	}
	ix.done = true
	ix.err = err
	ix.publishLocked()
	ix.mu.Unlock()
}

// progress returns the number of events indexed, whether the index is
// complete, the fatal error if any, and the number of integrity findings
// so far.
func (ix *index) progress() (count int, done bool, err error, nwarn int) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.count, ix.done, ix.err, ix.nwarn
}

// wait blocks until at least n events are indexed or the index is done.
// It returns the count and done state then.
func (ix *index) wait(ctx context.Context, n int) (int, bool, error) {
	for {
		ix.mu.Lock()
		count, done, ch := ix.count, ix.done, ix.changed
		ix.mu.Unlock()
		if count >= n || done {
			return count, done, nil
		}
		select {
		case <-ctx.Done():
			return count, done, ctx.Err()
		case <-ch:
		}
	}
}

// checkpoint returns the state of checkpoint k (a copy).
func (ix *index) checkpoint(k int) ([]streamPos, bool) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	s := len(ix.streams)
	if k < 0 || (k+1)*s > len(ix.states) || k >= len(ix.times) {
		return nil, false
	}
	return append([]streamPos(nil), ix.states[k*s:(k+1)*s]...), true
}

// checkpointAtTime returns the last checkpoint whose first event is before
// t (unix nanoseconds), or 0.
func (ix *index) checkpointAtTime(t int64) int {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	lo, hi := 0, len(ix.times) // first checkpoint with time >= t
	for lo < hi {
		m := (lo + hi) / 2
		if ix.times[m] < t {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return max(lo-1, 0)
}

// skipAll marks a virtual buffer whose records were all read before.
const skipAll = -1

// open returns a reader positioned at checkpoint k: an etl.File over a
// virtual file of the buffers still needed, and per virtual buffer the real
// buffer and how many of its records to skip.
func (ix *index) open(k int) (*etl.File, *vfile, []int, []int, error) {
	cp, ok := ix.checkpoint(k)
	if !ok {
		return nil, nil, nil, nil, fmt.Errorf("viewer: no checkpoint %d", k)
	}
	if len(ix.bufs) == 0 {
		return nil, nil, nil, nil, errors.New("viewer: no buffers")
	}
	v := &vfile{r: ix.r}
	var real, skip []int
	placed := make([]bool, len(ix.bufs))
	put := func(b, sk int) {
		info := ix.bufs[b].info
		n := int64(info.Size)
		if info.Offset+n > ix.size {
			// A truncated last buffer: zeros stand for the missing tail
			// (the reader ends the buffer's records there, as it does at
			// the end of the real file).
			have := max(ix.size-info.Offset, 0)
			v.add(info.Offset, have)
			v.add(-1, n-have)
		} else {
			v.add(info.Offset, n)
		}
		real = append(real, b)
		skip = append(skip, sk)
		placed[b] = true
	}
	// The first buffer holds the logfile header, so it always comes first.
	// When its stream has moved past it, all its records are skipped.
	s0 := ix.bufs[0].stream
	if p := cp[s0].pos; int(p) < len(ix.streams[s0]) && ix.streams[s0][p] == 0 {
		put(0, int(cp[s0].consumed))
	} else {
		put(0, skipAll)
	}
	// Then each stream's current buffer, in the order the streams first
	// appear in the file: the reader breaks timestamp ties by that order.
	for s, st := range cp {
		if int(st.pos) >= len(ix.streams[s]) {
			continue
		}
		b := ix.streams[s][st.pos]
		if !placed[b] {
			put(b, int(st.consumed))
		}
	}
	// Then the rest of each stream, in the stream's order (file order, or
	// sequence order in a wrapped circular file).
	for s, st := range cp {
		for p := int(st.pos) + 1; p < len(ix.streams[s]); p++ {
			if b := ix.streams[s][p]; !placed[b] {
				put(b, 0)
			}
		}
	}
	f, err := etl.NewFile(v, v.size)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("viewer: reopen at checkpoint %d: %w", k, err)
	}
	return f, v, real, skip, nil
}

// read calls fn for the events from number `from` on, in order, until fn
// returns false, ctx is done or the trace ends. The *etl.Event is reused
// (as with etl.File.Events); its Offset and Buffer are those of the real
// file. from must be at most the number of events indexed.
func (ix *index) read(ctx context.Context, from int, fn func(i int, ev *etl.Event) bool) error {
	if from < 0 {
		return fmt.Errorf("viewer: negative event index %d", from)
	}
	k := from / ix.every
	f, v, real, skip, err := ix.open(k)
	if err != nil {
		return err
	}
	i := k * ix.every
	steps := 0
	for ev, err := range f.Events(etl.ReadOptions{FileOrder: ix.fileOrder}) {
		if err != nil {
			var fe *etl.FormatError
			if errors.As(err, &fe) {
				continue // reported once by the index build
			}
			return err
		}
		if steps++; steps%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		vb := ev.Buffer
		if vb < 0 || vb >= len(real) {
			return fmt.Errorf("viewer: virtual buffer %d out of range", vb)
		}
		switch {
		case skip[vb] == skipAll:
			continue
		case skip[vb] > 0:
			skip[vb]--
			continue
		}
		ev.Offset = v.realOffset(ev.Offset)
		ev.Buffer = real[vb]
		if i >= from && !fn(i, ev) {
			return nil
		}
		i++
	}
	return nil
}
