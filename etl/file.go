package etl

import (
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"runtime"
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

	mu    sync.Mutex
	stats Stats
}

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
	return nil
}

// Buffers iterates over the buffer headers in file order. A buffer whose
// header is invalid is reported as a *FormatError and skipped: the
// iteration resumes at the next plausible buffer header.
func (f *File) Buffers() iter.Seq2[BufferInfo, error] {
	return func(yield func(BufferInfo, error) bool) {
		var bh [BufferHeaderSize]byte
		index := 0
		for off := int64(0); off < f.size; {
			if f.size-off < BufferHeaderSize {
				if !allPadding(f.r, off, f.size) {
					yield(BufferInfo{}, &FormatError{Off: off, Msg: fmt.Sprintf("truncated buffer header (%d bytes at the end of the file)", f.size-off)})
				}
				return
			}
			if _, err := f.r.ReadAt(bh[:], off); err != nil && !errors.Is(err, io.EOF) {
				yield(BufferInfo{}, fmt.Errorf("etl: read buffer header at offset %#x: %w", off, err))
				return
			}
			bi := parseBufferHeader(bh[:], off, index)
			if p := bi.check(f.maxSize); p != bufferOK {
				msg := bi.describe(p, f.maxSize)
				next := f.resync(off + 1)
				err := &FormatError{Off: off, Msg: msg + fmt.Sprintf("; skipped %d bytes to the next buffer", next-off)}
				if next >= f.size {
					err.Msg = msg + "; no further buffer found"
				}
				f.count(func(s *Stats) { s.SkippedBuffers++; s.Warnings++ })
				if !yield(BufferInfo{}, err) {
					return
				}
				off = next
				continue
			}
			if !yield(bi, nil) {
				return
			}
			index++
			off += int64(bi.Size)
		}
	}
}

// allPadding reports whether the bytes [off, end) are all zero or all 0xFF
// (trailing fill some writers leave).
func allPadding(r io.ReaderAt, off, end int64) bool {
	b := make([]byte, end-off)
	if _, err := r.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
		return false
	}
	for _, c := range b {
		if c != 0 && c != 0xFF {
			return false
		}
	}
	return true
}

// resyncChunk is how much the resynchronisation scan reads at a time.
const resyncChunk = 256 << 10

// resync returns the offset of the next plausible buffer header at or after
// off, or the file size when there is none. It scans in bounded chunks.
func (f *File) resync(off int64) int64 {
	n := f.size - off
	if n > resyncChunk+BufferHeaderSize+8 {
		n = resyncChunk + BufferHeaderSize + 8
	}
	if n < BufferHeaderSize {
		return f.size
	}
	buf := make([]byte, n)
	for off < f.size {
		n, err := f.r.ReadAt(buf, off)
		if n < BufferHeaderSize {
			return f.size
		}
		for i := 0; i+BufferHeaderSize <= n && i < resyncChunk; i++ {
			if f.plausibleBuffer(buf[i:n], off+int64(i)) {
				return off + int64(i)
			}
		}
		if err != nil {
			return f.size
		}
		off += resyncChunk
	}
	return f.size
}

// plausibleBuffer reports whether b starts with a buffer header that passes
// the strict checks used when looking for the next buffer after corruption.
func (f *File) plausibleBuffer(b []byte, off int64) bool {
	bi := parseBufferHeader(b, off, 0)
	if bi.check(f.maxSize) != bufferOK || bi.Size < BufferHeaderSize+8 {
		return false
	}
	if off+int64(bi.Size) > f.size {
		return false
	}
	if bi.Compressed {
		// The first LZ77 flag word is followed by the first record's
		// literal bytes; check that the header type byte looks right.
		return len(b) >= BufferHeaderSize+8
	}
	if bi.Filled <= BufferHeaderSize+8 {
		return false
	}
	if len(b) < BufferHeaderSize+8 {
		return false
	}
	_, ok := recordSize(b[BufferHeaderSize:])
	return ok
}

func (f *File) count(fn func(*Stats)) {
	f.mu.Lock()
	fn(&f.stats)
	f.mu.Unlock()
}

// Events iterates over the event records of the file. By default records
// come in time order: each CPU's buffers are read in file order and the
// per-CPU streams are merged by timestamp, holding one buffer per CPU in
// memory. With FileOrder they come buffer by buffer.
//
// The *Event is reused: it and its slices are valid until the next
// iteration step (use Event.Clone to keep one). Problems in the file are
// reported as *FormatError values with a nil event and the iteration goes
// on with the next record or buffer; any other error ends it.
func (f *File) Events(opts ReadOptions) iter.Seq2[*Event, error] {
	if opts.FileOrder {
		return f.fileOrder
	}
	return f.merged
}

// parallel reports whether loading buffers ahead on other cores pays:
// compressed files on a machine with more than one core.
func (f *File) parallel() bool {
	return f.hdr.LogFileMode&ModeCompressed != 0 && runtime.GOMAXPROCS(0) > 1
}

// loadResult is a buffer read (and decompressed) ahead of its use.
type loadResult struct {
	bi     BufferInfo
	br     *bufferReader
	recs   []byte
	base   int64
	err    error // load problem; recs may still hold a usable prefix
	hdrErr error // a problem from the buffer headers: no buffer
	ready  chan struct{}
}

func (f *File) startLoad(br *bufferReader, bi BufferInfo) *loadResult {
	r := &loadResult{bi: bi, br: br, ready: make(chan struct{})}
	go func() {
		r.recs, r.base, r.err = br.load(&r.bi)
		close(r.ready)
	}()
	return r
}

func (f *File) fileOrder(yield func(*Event, error) bool) {
	if f.parallel() {
		f.fileOrderParallel(yield)
		return
	}
	br := &bufferReader{r: f.r, size: f.size, maxSize: f.maxSize}
	ev := &Event{}
	for bi, err := range f.Buffers() {
		if err != nil {
			if !passOn(err, yield) {
				return
			}
			continue
		}
		if !f.emitBuffer(br, &bi, ev, yield) {
			return
		}
	}
}

// fileOrderParallel is fileOrder with buffers decompressed ahead by as
// many goroutines as there are cores, delivered in file order. Memory
// stays bounded: at most workers+1 buffers are held.
func (f *File) fileOrderParallel(yield func(*Event, error) bool) {
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
		for bi, err := range f.Buffers() {
			var r *loadResult
			if err != nil {
				r = &loadResult{hdrErr: err, ready: make(chan struct{})}
				close(r.ready)
			} else {
				select {
				case br := <-pool:
					r = f.startLoad(br, bi)
				case <-done:
					return
				}
			}
			select {
			case queue <- r:
			case <-done:
				return
			}
			var fe *FormatError
			if err != nil && !errors.As(err, &fe) {
				return
			}
		}
	}()
	ev := &Event{}
	for r := range queue {
		<-r.ready
		if r.hdrErr != nil {
			if !passOn(r.hdrErr, yield) {
				return
			}
			continue
		}
		it, ok := f.startRecords(&r.bi, r.recs, r.base, r.err, yield)
		if !ok || !f.emitRecords(it, ev, yield) {
			return
		}
		pool <- r.br
	}
}

// passOn yields a buffer-level error and reports whether the iteration
// can go on (format problems are recovered from, I/O errors are not).
func passOn(err error, yield func(*Event, error) bool) bool {
	if !yield(nil, err) {
		return false
	}
	var fe *FormatError
	return errors.As(err, &fe)
}

// emitBuffer yields every record of one buffer. It returns false when the
// iteration must stop.
func (f *File) emitBuffer(br *bufferReader, bi *BufferInfo, ev *Event, yield func(*Event, error) bool) bool {
	it, ok := f.open(br, bi, yield)
	return ok && f.emitRecords(it, ev, yield)
}

// open loads a buffer and returns an iterator over its records. Load
// problems are yielded; the returned bool is false when the caller must
// stop.
func (f *File) open(br *bufferReader, bi *BufferInfo, yield func(*Event, error) bool) (*recordIter, bool) {
	recs, base, err := br.load(bi)
	return f.startRecords(bi, recs, base, err, yield)
}

// startRecords counts a loaded buffer, passes on its load error and
// returns an iterator over its records.
func (f *File) startRecords(bi *BufferInfo, recs []byte, base int64, err error, yield func(*Event, error) bool) (*recordIter, bool) {
	f.count(func(s *Stats) {
		s.Buffers++
		s.BytesDone += int64(bi.Size)
		if bi.Compressed {
			s.CompressedBuffers++
		}
	})
	if err != nil {
		var fe *FormatError
		if !errors.As(err, &fe) {
			yield(nil, err)
			return &recordIter{done: true}, false
		}
		f.count(func(s *Stats) { s.Warnings++ })
		if !yield(nil, err) {
			return &recordIter{done: true}, false
		}
	}
	return &recordIter{bi: bi, p: recs, base: base}, true
}

// emitRecords yields every record of an open buffer; false when the
// iteration must stop.
func (f *File) emitRecords(it *recordIter, ev *Event, yield func(*Event, error) bool) bool {
	for !it.done {
		got, err := it.next(ev)
		if err != nil {
			f.count(func(s *Stats) { s.Warnings++ })
			if !yield(nil, err) {
				return false
			}
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

func (f *File) merged(yield func(*Event, error) bool) {
	// Index pass: buffer headers only.
	byCPU := map[uint16]*cpuStream{}
	var order []*cpuStream
	total := 0
	for bi, err := range f.Buffers() {
		if err != nil {
			if !passOn(err, yield) {
				return
			}
			continue
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
			f.fileOrder(yield)
			return
		}
	}
	// The index pass counted skipped buffers; the merge pass must not
	// count them again.
	h := make(streamHeap, 0, len(order))
	for _, s := range order {
		s.br = bufferReader{r: f.r, size: f.size, maxSize: f.maxSize}
		s.br2 = s.br
		ok, cont := f.advance(s, yield)
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
		ok, cont := f.advance(s, yield)
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

// advance moves stream s to its next record, loading buffers as needed. ok
// reports whether s has a current record; cont is false when the caller
// must stop.
func (f *File) advance(s *cpuStream, yield func(*Event, error) bool) (ok, cont bool) {
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
				it, c = f.startRecords(bi, r.recs, r.base, r.err, yield)
			} else {
				it, c = f.open(&s.br, bi, yield)
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
		got, err := s.it.next(&s.ev)
		if err != nil {
			f.count(func(st *Stats) { st.Warnings++ })
			if !yield(nil, err) {
				return false, false
			}
		}
		if got {
			return true, true
		}
	}
}
