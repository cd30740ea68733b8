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
	"sync/atomic"
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

	// walked is what Open's walk found, buffer headers and regions passed
	// over, in file order: iterations replay it instead of reading every
	// buffer header again (a pread each). nil when the file has more than
	// maxWalked buffers; iterations then walk the file themselves.
	walked []walkStep

	mu      sync.Mutex
	stats   Stats        // under mu, except Records
	records atomic.Int64 // Stats.Records
	opened  Integrity    // findings of Open
	best    *pass        // the iteration that read furthest
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
	// Prefetch says whether compressed buffers are decompressed ahead on
	// other cores; the default decides by file size and cores.
	Prefetch Prefetch
	// NoTimes leaves Event.Time zero: a reader that does not look at
	// times (counting events) need not convert each timestamp. Timestamp
	// is set either way.
	NoTimes bool
}

// Prefetch selects decompress-ahead for ReadOptions.
type Prefetch uint8

// Prefetch modes.
const (
	PrefetchAuto   Prefetch = iota // compressed files of at least minParallelSize, more than one core
	PrefetchNever                  // decompress every buffer inline
	PrefetchAlways                 // whenever the file is compressed and there is more than one core (tests, benchmarks)
)

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
	st := f.stats
	st.Records = int(f.records.Load())
	return st
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
		err := f.steps(func(bi BufferInfo, g *gap) bool {
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

// walkStep is one step of a walk: a buffer, or a region passed over.
type walkStep struct {
	bi BufferInfo
	g  *gap
}

// maxWalked bounds the steps of Open's walk that are kept (56 bytes
// each: 14 MB for 256 Ki buffers, a 16 GB file of 64 KB buffers).
const maxWalked = 1 << 18

// record keeps one step of Open's walk.
func (f *File) record(bi BufferInfo, g *gap) {
	if f.walked == nil {
		return
	}
	if len(f.walked) >= maxWalked {
		f.walked = nil
		return
	}
	st := walkStep{bi: bi}
	if g != nil {
		gc := *g
		st = walkStep{g: &gc}
	}
	f.walked = append(f.walked, st)
}

// steps visits the buffers and regions of the file in file order, like
// walk, from what Open recorded when it could keep it.
func (f *File) steps(visit func(bi BufferInfo, g *gap) bool) error {
	if f.walked == nil {
		return f.walk(visit)
	}
	for i := range f.walked {
		st := &f.walked[i]
		if st.g != nil {
			g := *st.g // visitors may keep or change their copy
			if !visit(BufferInfo{}, &g) {
				return nil
			}
			continue
		}
		if !visit(st.bi, nil) {
			return nil
		}
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
		defer f.flushRecords(p)
		if opts.FileOrder {
			f.fileOrder(p, yield)
			return
		}
		f.merged(p, yield)
	}
}

// parallel reports whether to load buffers ahead on other cores:
// compressed files of at least minParallelSize on a machine with more than
// one core. Reading never waits for the other cores and helpers are used
// only while that pays (see prefetcher), so when the other cores are busy
// it costs little more than reading on one core.
func (f *File) parallel(p *pass) bool {
	if f.hdr.LogFileMode&ModeCompressed == 0 || runtime.GOMAXPROCS(0) < 2 {
		return false
	}
	switch p.prefetch {
	case PrefetchNever:
		return false
	case PrefetchAlways:
		return true
	}
	return f.size >= minParallelSize
}

// minParallelSize is the smallest compressed file read with helpers. The
// pacer needs a few epochs of pacerEpoch buffers to learn whether helpers
// pay; on a smaller file starting them only costs: `info` on the 4.8 MB
// compressed kernel sample took 1.5x its single-core time with them
// (measured 2026-11-30 on the 2-core machine class).
const minParallelSize = 64 << 20

func (f *File) fileOrder(p *pass, yield func(*Event, error) bool) {
	if f.parallel(p) {
		f.fileOrderParallel(p, yield)
		return
	}
	br := &bufferReader{r: f.r, size: f.size, maxSize: f.maxSize}
	ev := &Event{}
	stop := false
	err := f.steps(func(bi BufferInfo, g *gap) bool {
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

// fileOrderParallel is fileOrder with buffers loaded ahead by helper
// goroutines on the other cores: the next pf.ahead buffers are announced
// to them, and each is taken from them when done or loaded here (see
// prefetcher.take), in file order. The buffer headers are walked here too,
// so nothing the reader needs next depends on another thread.
func (f *File) fileOrderParallel(p *pass, yield func(*Event, error) bool) {
	pf := f.newPrefetcher()
	defer pf.close()
	var walkErr error
	next, stop := iter.Pull2(func(visit func(BufferInfo, *gap) bool) {
		walkErr = f.steps(visit)
	})
	defer stop()
	type item struct {
		job *loadJob
		gap *gap // a region passed over: no buffer
	}
	queue := make([]item, 0, pf.ahead)
	later := make([]*loadJob, 0, pf.ahead)
	ev := &Event{}
	for more := true; ; {
		for more && len(queue) < pf.ahead {
			bi, g, ok := next()
			switch {
			case !ok:
				more = false
			case g != nil:
				gc := *g
				queue = append(queue, item{gap: &gc})
			default:
				queue = append(queue, item{job: pf.announce(bi)})
			}
		}
		if len(queue) == 0 {
			break
		}
		it := queue[0]
		queue = append(queue[:0], queue[1:]...)
		if it.gap != nil {
			f.passGap(it.gap)
			continue
		}
		later = later[:0]
		for _, q := range queue {
			later = append(later, q.job)
		}
		recs, base, short, err, br := pf.take(it.job, later)
		r, ok := f.startRecords(p, &it.job.bi, recs, base, short, err, yield)
		if !ok || !f.emitRecords(p, r, ev, yield) {
			return
		}
		pf.release(br)
	}
	if walkErr != nil {
		yield(nil, walkErr)
	}
}

// startRecords counts a loaded buffer, records its load problem and
// returns an iterator over its records. The returned bool is false when
// the iteration must stop (an I/O error, passed to yield).
func (f *File) startRecords(p *pass, bi *BufferInfo, recs []byte, base int64, short bool, err error, yield func(*Event, error) bool) (*recordIter, bool) {
	f.flushRecords(p)
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
			f.finishIn(p, ev)
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
	f.complete(ev, true)
	f.records.Add(1)
}

// complete sets what a record header leaves to the file: the pointer
// size of message records and, with times, the absolute time.
func (f *File) complete(ev *Event, times bool) {
	if ev.PointerSize == 0 {
		ev.PointerSize = f.hdr.PointerSize
	}
	if times {
		ev.Time = f.clk.time(ev.Timestamp)
	}
}

// finishIn is finish for iteration p, which counts its records itself
// and adds them to Stats once per buffer (flushRecords), not once per
// record.
func (f *File) finishIn(p *pass, ev *Event) {
	f.complete(ev, !p.noTimes)
	p.records++
}

// flushRecords adds the records iteration p counted to Stats.Records.
func (f *File) flushRecords(p *pass) {
	if p.records > 0 {
		f.records.Add(p.records)
		p.records = 0
	}
}

// maxIndex bounds the number of buffers indexed for merging; beyond it the
// merge falls back to file order.
const maxIndex = 1 << 22

// memoryBudget bounds the buffer memory of the merge: one buffer per CPU.
const memoryBudget = 256 << 20

// cpuStream is one CPU's sequence of buffers during the merge.
type cpuStream struct {
	bufs  []BufferInfo
	next  int           // next buffer to load
	br    *bufferReader // holds the current buffer
	pf    *prefetcher   // nil unless buffers are loaded ahead
	ahead *loadJob      // the next buffer, offered to the prefetcher
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
	err := f.steps(func(bi BufferInfo, g *gap) bool {
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
	var pf *prefetcher
	if f.parallel(p) {
		pf = f.newPrefetcher()
		defer pf.close()
	}
	h := make(streamHeap, 0, len(order))
	for _, s := range order {
		s.br = &bufferReader{r: f.r, size: f.size, maxSize: f.maxSize}
		s.pf = pf
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
		f.finishIn(p, &s.ev)
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
				s.pf.release(s.br) // its buffer is done
				recs, base, short, err, br := s.pf.take(s.ahead, nil)
				s.ahead = nil
				s.br = br
				it, c = f.startRecords(p, bi, recs, base, short, err, yield)
			} else {
				recs, base, short, err := s.br.load(bi)
				it, c = f.startRecords(p, bi, recs, base, short, err, yield)
			}
			if !c {
				return false, false
			}
			if s.pf != nil && s.next < len(s.bufs) {
				s.ahead = s.pf.announce(s.bufs[s.next])
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
