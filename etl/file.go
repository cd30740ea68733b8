package etl

import (
	"cmp"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"
)

// File is an open ETL file. Its methods read through an io.ReaderAt, so a
// File holds only a few buffers in memory whatever the file's size.
//
// A File is not safe for concurrent iteration; Header and Stats may be
// called at any time.
type File struct {
	r      io.ReaderAt
	size   int64
	closer io.Closer

	hdr     Header
	clk     clock
	maxSize uint32 // largest acceptable buffer size
	// stride is the size of every buffer in an uncompressed file (the
	// logger's buffer size, when the first buffer agrees), else 0.
	stride  uint32
	wrapped bool          // circular file that wrapped: order buffers by sequence
	jumps   map[int64]gap // regions passed over, found by Open (read-only after)

	mu     sync.Mutex
	stats  Stats
	opened Integrity // findings of Open
	best   *pass     // the iteration that read furthest
}

// maxJumps bounds the regions Open remembers; later walks find the others
// again.
const maxJumps = 1 << 12

// Stats counts what an iteration over the file has seen so far.
type Stats struct {
	BytesRead         int64 // size of the file
	BytesDone         int64 // bytes of the buffers read so far (for progress)
	Buffers           int   // buffers read (header buffer included)
	CompressedBuffers int   // of which compressed
	SkippedBuffers    int   // buffers dropped as unreadable
	Records           int   // event records returned
	Warnings          int   // format problems reported (and recovered from)
}

// ReadOptions control Events.
type ReadOptions struct {
	// FileOrder returns records buffer by buffer in file order instead of
	// merging the per-CPU buffer streams by timestamp. It is faster and
	// what counting needs; time order is what people read.
	FileOrder bool
	// OnIssue, when set, is called with each integrity issue the
	// iteration finds that Open had not found (buffers that do not
	// decompress, damaged records), as it finds it. The findings of Open
	// are in File.Integrity right after Open.
	OnIssue func(Issue)
}

// Open opens the ETL file at path and reads its logfile header.
func Open(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("etl: %w", err)
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("etl: %w", err)
	}
	f, err := NewFile(fh, st.Size())
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.closer = fh
	return f, nil
}

// NewFile reads an ETL file of the given size from r. It reads the logfile
// header immediately and returns a *FormatError when there is none.
func NewFile(r io.ReaderAt, size int64) (*File, error) {
	f := &File{r: r, size: size}
	if err := f.readHeader(); err != nil {
		return nil, err
	}
	f.clk = newClock(&f.hdr)
	f.stats.BytesRead = size
	if err := f.inspect(); err != nil {
		return nil, err
	}
	return f, nil
}

// Close closes the underlying file when the File was made by Open.
func (f *File) Close() error {
	if f.closer != nil {
		return f.closer.Close()
	}
	return nil
}

// Header returns the logfile header.
func (f *File) Header() Header { return f.hdr }

// Stats returns the counters of the iterations so far.
func (f *File) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// Size returns the file's size in bytes.
func (f *File) Size() int64 { return f.size }

// Time converts a raw record timestamp to UTC using the file's clock.
func (f *File) Time(raw int64) time.Time { return f.clk.time(raw) }

// readHeader reads the first buffer's header and the logfile header record.
func (f *File) readHeader() error {
	var bh [BufferHeaderSize]byte
	if _, err := f.r.ReadAt(bh[:], 0); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return &FormatError{Off: 0, Msg: fmt.Sprintf("file too short for an ETL buffer header (%d bytes)", f.size)}
		}
		return fmt.Errorf("etl: read first buffer: %w", err)
	}
	bi := parseBufferHeader(bh[:], 0, 0)
	if p := bi.check(maxBufferSize); p != bufferOK {
		return &FormatError{Off: 0, Msg: "not an ETL file: first buffer header: " + bi.describe(p, maxBufferSize)}
	}
	if bi.Compressed {
		return &FormatError{Off: bhBufferFlag, Msg: "not an ETL file: the first buffer is compressed"}
	}
	n := int64(bi.Size)
	if n > f.size {
		n = f.size
	}
	buf := make([]byte, n)
	if _, err := f.r.ReadAt(buf, 0); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("etl: read first buffer: %w", err)
	}
	rec := buf[BufferHeaderSize:]
	size, ok := recordSize(rec)
	if !ok || (rec[2] != typeSystem32 && rec[2] != typeSystem64) || size < systemHeaderSize || size > len(rec) {
		return &FormatError{Off: BufferHeaderSize, Msg: "not an ETL file: the first record is not a logfile header"}
	}
	if hook := binary.LittleEndian.Uint16(rec[6:]); hook != 0 {
		return &FormatError{Off: BufferHeaderSize + 6, Msg: "not an ETL file: the first record is not a logfile header", Val: fmt.Sprintf("hook %#04x", hook)}
	}
	h, err := parseLogfileHeader(rec[systemHeaderSize:size], BufferHeaderSize+systemHeaderSize)
	if err != nil {
		return err
	}
	h.StartTimestamp = int64(binary.LittleEndian.Uint64(rec[16:]))
	f.hdr = h
	f.maxSize = h.BufferSize
	if f.maxSize < minBufferSize || f.maxSize > maxBufferSize {
		f.maxSize = defaultBufferSize
	}
	if bi.Size > f.maxSize {
		f.maxSize = bi.Size
	}
	if h.LogFileMode&ModeCompressed == 0 && bi.Size == h.BufferSize {
		f.stride = bi.Size
	}
	return nil
}

// Buffers iterates over the buffer headers in file order. A buffer whose
// header is invalid is reported as a *FormatError and skipped: the
// iteration resumes at the next plausible buffer header. Regions of fill
// between buffers are skipped silently (File.Integrity reports them).
func (f *File) Buffers() iter.Seq2[BufferInfo, error] {
	return func(yield func(BufferInfo, error) bool) {
		err := f.walk(func(bi BufferInfo, g *gap) bool {
			if g == nil {
				return yield(bi, nil)
			}
			if !f.passGap(g) {
				return true
			}
			return yield(BufferInfo{}, g.formatError())
		})
		if err != nil {
			yield(BufferInfo{}, err)
		}
	}
}

// passGap counts a region passed over by an iteration and reports whether
// it is damage (not just fill).
func (f *File) passGap(g *gap) bool {
	damaged := g.damaged()
	f.count(func(s *Stats) {
		s.BytesDone += g.next - g.off
		if damaged {
			s.SkippedBuffers++
			s.Warnings++
		}
	})
	return damaged
}

// formatError describes a damaged region.
func (g *gap) formatError() error {
	if g.short {
		return &FormatError{Off: g.off, Msg: fmt.Sprintf("truncated buffer header (%d bytes at the end of the file)", g.next-g.off)}
	}
	msg := g.problem
	if g.end {
		msg += "; no further buffer found"
	} else {
		msg += fmt.Sprintf("; skipped %d bytes to the next buffer", g.next-g.off)
	}
	return &FormatError{Off: g.off, Msg: msg}
}

// walk visits the buffers of the file in file order: visit gets each
// valid buffer header, or a region passed over (g non-nil). It stops when
// visit returns false and returns only I/O errors.
func (f *File) walk(visit func(bi BufferInfo, g *gap) bool) error {
	var bh [BufferHeaderSize]byte
	index := 0
	for off := int64(0); off < f.size; {
		if f.size-off < BufferHeaderSize {
			g := gap{off: off, next: f.size, fill: f.size, short: true, end: true}
			if allPadding(f.r, off, f.size) {
				g.fill = off
			}
			visit(BufferInfo{}, &g)
			return nil
		}
		if _, err := f.r.ReadAt(bh[:], off); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("etl: read buffer header at offset %#x: %w", off, err)
		}
		bi := parseBufferHeader(bh[:], off, index)
		if p := f.check(&bi); p != bufferOK {
			g, ok := f.jumps[off]
			if !ok {
				max := f.maxSize
				if p == bufferWrongSize {
					max = f.stride
				}
				var err error
				if g, err = f.resync(off, bi.describe(p, max)); err != nil {
					return err
				}
				g.end = g.next >= f.size
				if f.jumps != nil && len(f.jumps) < maxJumps {
					f.jumps[off] = g
				}
			}
			if !visit(BufferInfo{}, &g) {
				return nil
			}
			off = g.next
			continue
		}
		if !visit(bi, nil) {
			return nil
		}
		index++
		off += int64(bi.Size)
	}
	return nil
}

// allPadding reports whether the bytes [off, end) are all zero or all 0xFF
// (trailing fill some writers leave). end-off is small.
func allPadding(r io.ReaderAt, off, end int64) bool {
	b := make([]byte, end-off)
	if _, err := r.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
		return false
	}
	return len(b) > 0 && isFill(b[0]) && fillRun(b, b[0]) == len(b)
}

func (f *File) count(fn func(*Stats)) {
	f.mu.Lock()
	fn(&f.stats)
	f.mu.Unlock()
}

// Events iterates over the event records of the file. By default records
// come in time order: each CPU's buffers are read in order (file order,
// or buffer sequence in a circular file that wrapped) and the per-CPU
// streams are merged by timestamp, holding one buffer per CPU in memory.
// With FileOrder they come buffer by buffer in file order.
//
// The *Event is reused: it and its slices are valid until the next
// iteration step (use Event.Clone to keep one). The error is non-nil only
// for a problem that ends the iteration (reading the file failed); damage
// in the file is recovered from and recorded as an integrity Issue (see
// File.Integrity and ReadOptions.OnIssue).
func (f *File) Events(opts ReadOptions) iter.Seq2[*Event, error] {
	return func(yield func(*Event, error) bool) {
		p := f.startPass(opts)
		if opts.FileOrder {
			f.fileOrder(p, yield)
			return
		}
		f.merged(p, yield)
	}
}

// parallel reports whether loading buffers ahead on other cores pays:
// compressed files on a machine with more than one core.
func (f *File) parallel() bool {
	return f.hdr.LogFileMode&ModeCompressed != 0 && runtime.GOMAXPROCS(0) > 1
}

// loadResult is a buffer read (and decompressed) ahead of its use.
type loadResult struct {
	bi    BufferInfo
	br    *bufferReader
	recs  []byte
	base  int64
	short bool  // the file ends inside the buffer
	err   error // load problem; recs may still hold a usable prefix
	gap   *gap  // a region passed over: no buffer
	ready chan struct{}
}

func (f *File) startLoad(br *bufferReader, bi BufferInfo) *loadResult {
	r := &loadResult{bi: bi, br: br, ready: make(chan struct{})}
	go func() {
		r.recs, r.base, r.short, r.err = br.load(&r.bi)
		close(r.ready)
	}()
	return r
}

func (f *File) fileOrder(p *pass, yield func(*Event, error) bool) {
	if f.parallel() {
		f.fileOrderParallel(p, yield)
		return
	}
	br := &bufferReader{r: f.r, size: f.size, maxSize: f.maxSize}
	ev := &Event{}
	stop := false
	err := f.walk(func(bi BufferInfo, g *gap) bool {
		if g != nil {
			f.passGap(g)
			return true
		}
		recs, base, short, err := br.load(&bi)
		it, ok := f.startRecords(p, &bi, recs, base, short, err, yield)
		if !ok || !f.emitRecords(p, it, ev, yield) {
			stop = true
			return false
		}
		return true
	})
	if err != nil && !stop {
		yield(nil, err)
	}
}

// fileOrderParallel is fileOrder with buffers decompressed ahead by as
// many goroutines as there are cores, delivered in file order. Memory
// stays bounded: at most workers+1 buffers are held.
func (f *File) fileOrderParallel(p *pass, yield func(*Event, error) bool) {
	workers := runtime.GOMAXPROCS(0)
	done := make(chan struct{})
	defer close(done)
	queue := make(chan *loadResult, workers)
	pool := make(chan *bufferReader, workers+1)
	for i := 0; i < workers+1; i++ {
		pool <- &bufferReader{r: f.r, size: f.size, maxSize: f.maxSize}
	}
	go func() {
		defer close(queue)
		err := f.walk(func(bi BufferInfo, g *gap) bool {
			var r *loadResult
			if g != nil {
				r = &loadResult{gap: g, ready: make(chan struct{})}
				close(r.ready)
			} else {
				select {
				case br := <-pool:
					r = f.startLoad(br, bi)
				case <-done:
					return false
				}
			}
			select {
			case queue <- r:
				return true
			case <-done:
				return false
			}
		})
		if err != nil {
			r := &loadResult{err: err, ready: make(chan struct{})}
			close(r.ready)
			select {
			case queue <- r:
			case <-done:
			}
		}
	}()
	ev := &Event{}
	for r := range queue {
		<-r.ready
		if r.gap != nil {
			f.passGap(r.gap)
			continue
		}
		if r.br == nil {
			yield(nil, r.err)
			return
		}
		it, ok := f.startRecords(p, &r.bi, r.recs, r.base, r.short, r.err, yield)
		if !ok || !f.emitRecords(p, it, ev, yield) {
			return
		}
		pool <- r.br
	}
}

// startRecords counts a loaded buffer, records its load problem and
// returns an iterator over its records. The returned bool is false when
// the iteration must stop (an I/O error, passed to yield).
func (f *File) startRecords(p *pass, bi *BufferInfo, recs []byte, base int64, short bool, err error, yield func(*Event, error) bool) (*recordIter, bool) {
	f.count(func(s *Stats) {
		s.Buffers++
		s.BytesDone += int64(bi.Size)
		if bi.Compressed {
			s.CompressedBuffers++
		}
		if short {
			// Found by Open; counted again by each iteration.
			s.Warnings++
		}
	})
	f.advanced(p, int64(bi.Size))
	if err != nil {
		var fe *FormatError
		if !errors.As(err, &fe) {
			yield(nil, err)
			return &recordIter{done: true}, false
		}
		if !short {
			f.report(p, Issue{Kind: IssueDamagedBuffer, Offset: bi.Offset, Loss: true, Message: fe.Error()})
		}
	}
	return &recordIter{bi: bi, p: recs, base: base, short: short || err != nil}, true
}

// emitRecords yields every record of an open buffer; false when the
// iteration must stop.
func (f *File) emitRecords(p *pass, it *recordIter, ev *Event, yield func(*Event, error) bool) bool {
	for !it.done {
		got, iss := it.next(ev)
		if iss != nil {
			f.report(p, *iss)
		}
		if got {
			f.finish(ev)
			if !yield(ev, nil) {
				return false
			}
		}
	}
	return true
}

// finish completes an event after decoding: absolute time, pointer size of
// message records, counters.
func (f *File) finish(ev *Event) {
	if ev.PointerSize == 0 {
		ev.PointerSize = f.hdr.PointerSize
	}
	ev.Time = f.clk.time(ev.Timestamp)
	f.count(func(s *Stats) { s.Records++ })
}

// maxIndex bounds the number of buffers indexed for merging; beyond it the
// merge falls back to file order.
const maxIndex = 1 << 22

// memoryBudget bounds the buffer memory of the merge: one buffer per CPU.
const memoryBudget = 256 << 20

// cpuStream is one CPU's sequence of buffers during the merge.
type cpuStream struct {
	bufs  []BufferInfo
	next  int // next buffer to load
	br    bufferReader
	br2   bufferReader // the other reader, for the buffer loaded ahead
	ahead *loadResult  // the next buffer, loading in the background
	it    *recordIter
	ev    Event
	seq   int // tie-breaker: order of first appearance
}

type streamHeap []*cpuStream

func (h streamHeap) Len() int { return len(h) }
func (h streamHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.ev.Timestamp != b.ev.Timestamp {
		return a.ev.Timestamp < b.ev.Timestamp
	}
	return a.seq < b.seq
}
func (h streamHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *streamHeap) Push(x any)   { *h = append(*h, x.(*cpuStream)) }
func (h *streamHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (f *File) merged(p *pass, yield func(*Event, error) bool) {
	// Index pass: buffer headers only. It does not count: the merge
	// pass (or the file-order fallback) counts what it reads.
	byCPU := map[uint16]*cpuStream{}
	var order []*cpuStream
	total := 0
	tooBig := false
	var gaps []gap
	err := f.walk(func(bi BufferInfo, g *gap) bool {
		if g != nil {
			if len(gaps) < maxJumps {
				gaps = append(gaps, *g)
				return true
			}
			tooBig = true
			return false
		}
		s := byCPU[bi.CPU]
		if s == nil {
			s = &cpuStream{seq: len(order)}
			byCPU[bi.CPU] = s
			order = append(order, s)
		}
		s.bufs = append(s.bufs, bi)
		total++
		if total > maxIndex || int64(len(order))*int64(f.maxSize) > memoryBudget {
			tooBig = true
			return false
		}
		return true
	})
	if err != nil {
		yield(nil, err)
		return
	}
	if tooBig {
		f.fileOrder(p, yield)
		return
	}
	// The walk's regions are counted here, once.
	for i := range gaps {
		f.passGap(&gaps[i])
	}
	if f.wrapped {
		// After the wrap, file order is not time order: each CPU's
		// buffers go by sequence number (or time when there is none).
		for _, s := range order {
			sortBySequence(s.bufs)
		}
	}
	h := make(streamHeap, 0, len(order))
	for _, s := range order {
		s.br = bufferReader{r: f.r, size: f.size, maxSize: f.maxSize}
		s.br2 = s.br
		ok, cont := f.advance(p, s, yield)
		if !cont {
			return
		}
		if ok {
			h = append(h, s)
		}
	}
	heap.Init(&h)
	for len(h) > 0 {
		s := h[0]
		f.finish(&s.ev)
		if !yield(&s.ev, nil) {
			return
		}
		ok, cont := f.advance(p, s, yield)
		if !cont {
			return
		}
		if ok {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
}

// sortBySequence orders one CPU's buffers by SequenceNumber, or by
// timestamp when the writer left sequence numbers zero.
func sortBySequence(bufs []BufferInfo) {
	bySeq := true
	for i := range bufs {
		if bufs[i].Sequence == 0 {
			bySeq = false
			break
		}
	}
	slices.SortStableFunc(bufs, func(a, b BufferInfo) int {
		if bySeq && a.Sequence != b.Sequence {
			return cmp.Compare(a.Sequence, b.Sequence)
		}
		if a.Timestamp != b.Timestamp {
			return cmp.Compare(a.Timestamp, b.Timestamp)
		}
		return cmp.Compare(a.Offset, b.Offset)
	})
}

// advance moves stream s to its next record, loading buffers as needed. ok
// reports whether s has a current record; cont is false when the caller
// must stop.
func (f *File) advance(p *pass, s *cpuStream, yield func(*Event, error) bool) (ok, cont bool) {
	for {
		if s.it == nil || s.it.done {
			if s.next >= len(s.bufs) {
				return false, true
			}
			bi := &s.bufs[s.next]
			s.next++
			var it *recordIter
			var c bool
			if s.ahead != nil {
				<-s.ahead.ready
				r := s.ahead
				s.ahead = nil
				s.br, s.br2 = s.br2, s.br // r used br2: it becomes current
				it, c = f.startRecords(p, bi, r.recs, r.base, r.short, r.err, yield)
			} else {
				recs, base, short, err := s.br.load(bi)
				it, c = f.startRecords(p, bi, recs, base, short, err, yield)
			}
			if !c {
				return false, false
			}
			if f.parallel() && s.next < len(s.bufs) {
				s.ahead = f.startLoad(&s.br2, s.bufs[s.next])
			}
			s.it = it
			continue
		}
		got, iss := s.it.next(&s.ev)
		if iss != nil {
			f.report(p, *iss)
		}
		if got {
			return true, true
		}
	}
}
