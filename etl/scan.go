package etl

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Fill detection. Unused space is 0xFF inside buffers; preallocated or
// never-written file regions read as zeros. Runs of either are skipped by
// comparing whole blocks (bytes.Equal compiles to vector compares), so a
// gigabyte of fill costs about what reading it costs.
const fillBlock = 4096

var (
	zeroBlock [fillBlock]byte
	ffBlock   = bytes.Repeat([]byte{0xFF}, fillBlock)
)

// isFill reports whether c is a fill byte.
func isFill(c byte) bool { return c == 0 || c == 0xFF }

// fillRun returns the length of the run of byte c at the start of b.
func fillRun(b []byte, c byte) int {
	blk := zeroBlock[:]
	word := uint64(0)
	if c == 0xFF {
		blk, word = ffBlock, ^uint64(0)
	}
	n := 0
	for len(b)-n >= fillBlock && bytes.Equal(b[n:n+fillBlock], blk) {
		n += fillBlock
	}
	for len(b)-n >= 8 && binary.LittleEndian.Uint64(b[n:]) == word {
		n += 8
	}
	for n < len(b) && b[n] == c {
		n++
	}
	return n
}

// fillRunBack returns the length of the run of byte c at the end of b.
func fillRunBack(b []byte, c byte) int {
	blk := zeroBlock[:]
	word := uint64(0)
	if c == 0xFF {
		blk, word = ffBlock, ^uint64(0)
	}
	n := len(b)
	for n >= fillBlock && bytes.Equal(b[n-fillBlock:n], blk) {
		n -= fillBlock
	}
	for n >= 8 && binary.LittleEndian.Uint64(b[n-8:]) == word {
		n -= 8
	}
	for n > 0 && b[n-1] == c {
		n--
	}
	return len(b) - n
}

// scanChunk is how much the resynchronisation scans read at a time.
const scanChunk = 1 << 20

// lookahead is how many bytes past a candidate offset plausibleBuffer
// reads: the buffer header and the first record header.
const lookahead = BufferHeaderSize + 8

// fillEnd returns the end of the run of fill byte c that starts at off
// (the first offset not holding c, or the file size).
func (f *File) fillEnd(off int64, c byte, buf []byte) (int64, error) {
	for off < f.size {
		n := min(int64(len(buf)), f.size-off)
		b := buf[:n]
		if _, err := f.r.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("etl: read at offset %#x: %w", off, err)
		}
		k := fillRun(b, c)
		off += int64(k)
		if k < len(b) {
			return off, nil
		}
	}
	return f.size, nil
}

// fillStart returns the start of the run of fill byte c that ends at end,
// not before lo.
func (f *File) fillStart(lo, end int64, c byte, buf []byte) (int64, error) {
	for end > lo {
		n := min(int64(len(buf)), end-lo)
		b := buf[:n]
		if _, err := f.r.ReadAt(b, end-n); err != nil && !errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("etl: read at offset %#x: %w", end-n, err)
		}
		k := fillRunBack(b, c)
		end -= int64(k)
		if k < len(b) {
			return end, nil
		}
	}
	return lo, nil
}

// gap is a region between buffers that the walk passed over.
type gap struct {
	off, next int64 // [off, next); next is the following buffer or the file size
	fill      int64 // start of the fill run that ends the region (next when none is reported)
	problem   string
	short     bool // fewer bytes than a buffer header at the end of the file
	end       bool // no buffer follows
}

// damaged reports whether the region holds more than fill.
func (g *gap) damaged() bool { return g.fill > g.off }

// resync finds the next buffer after an invalid buffer header at off and
// describes the region passed over. problem says what is wrong with the
// header. The work is bounded by the file size: fill is skipped by block
// compares, slots of the logger's buffer size are tried before a byte
// scan, and the byte scan rejects most offsets with a few integer
// compares.
func (f *File) resync(off int64, problem string) (gap, error) {
	g := gap{off: off, problem: problem}
	buf := make([]byte, min(int64(scanChunk), max(f.size-off, lookahead)))
	next, tail, err := f.findBuffer(off, buf)
	if err != nil {
		return g, err
	}
	g.next, g.fill = next, next
	// A run of fill ending the region is reported as fill when it is all
	// of the region or reaches the end of the file. [tail, size) is fill
	// the search has already seen.
	end := min(tail, next)
	if end <= off {
		g.fill = off
		return g, nil
	}
	var c [1]byte
	at := end - 1
	if tail < next {
		at = tail // the run's own byte
	}
	if _, err := f.r.ReadAt(c[:], at); err != nil && !errors.Is(err, io.EOF) {
		return g, fmt.Errorf("etl: read at offset %#x: %w", at, err)
	}
	if !isFill(c[0]) {
		return g, nil
	}
	fs, err := f.fillStart(off, end, c[0], buf)
	if err != nil {
		return g, err
	}
	if fs == off || next == f.size {
		g.fill = fs
	}
	return g, nil
}

// findBuffer returns the offset of the next plausible buffer after off, or
// the file size, and where a fill run reaching the end of the file starts
// when the search saw one (else next).
func (f *File) findBuffer(off int64, buf []byte) (next, tail int64, err error) {
	var c [1]byte
	if _, err := f.r.ReadAt(c[:], off); err != nil && !errors.Is(err, io.EOF) {
		return 0, 0, fmt.Errorf("etl: read at offset %#x: %w", off, err)
	}
	from, limit := off+1, f.size
	if isFill(c[0]) {
		end, err := f.fillEnd(off, c[0], buf)
		if err != nil {
			return 0, 0, err
		}
		if end >= f.size {
			return f.size, off, nil
		}
		// A buffer header's size field may start with up to three zero
		// bytes that belong to the run.
		from = max(off+1, end-3)
		if end-off >= BufferHeaderSize {
			for cand := from; cand <= end; cand++ {
				ok, err := f.plausibleAt(cand)
				if err != nil {
					return 0, 0, err
				}
				if ok {
					return cand, f.size, nil
				}
			}
		}
	}
	// Uncompressed files keep every buffer at a multiple of the logger's
	// buffer size: try the following slots first, skipping slots that
	// lie in a fill run.
	if s := int64(f.stride); s > 0 {
		b := buf[:lookahead]
		for cand := (off/s + 1) * s; cand+lookahead <= f.size; cand += s {
			if _, err := f.r.ReadAt(b, cand); err != nil && !errors.Is(err, io.EOF) {
				return 0, 0, fmt.Errorf("etl: read at offset %#x: %w", cand, err)
			}
			if f.plausibleBuffer(b, cand) {
				ok, err := f.confirm(b, cand)
				if err != nil {
					return 0, 0, err
				}
				b = buf[:lookahead]
				if ok {
					return cand, f.size, nil
				}
			}
			if !isFill(b[0]) || fillRun(b, b[0]) != len(b) {
				continue
			}
			end, err := f.fillEnd(cand, b[0], buf)
			if err != nil {
				return 0, 0, err
			}
			b = buf[:lookahead]
			if end >= f.size {
				// Fill from cand to the end: only offsets before it
				// can still start a buffer.
				limit = cand
				break
			}
			// The last slot that starts inside the run (a header's
			// leading zero bytes may belong to it) is tried next.
			cand = max(cand, (end-3)/s*s-s)
		}
	}
	next, err = f.scanBytes(from, limit, buf)
	if err != nil {
		return 0, 0, err
	}
	if next == f.size && limit < f.size {
		return next, limit, nil
	}
	return next, f.size, nil
}

// plausibleAt reads and checks a candidate buffer header at off.
func (f *File) plausibleAt(off int64) (bool, error) {
	if off+lookahead > f.size {
		return false, nil
	}
	b := make([]byte, lookahead)
	if _, err := f.r.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("etl: read at offset %#x: %w", off, err)
	}
	if !f.plausibleBuffer(b, off) {
		return false, nil
	}
	return f.confirm(b, off)
}

// confirm checks what follows a plausible buffer header b at off: the end
// of the file, fill, or another plausible buffer header. Two headers in a
// row are very unlikely by chance (a compressed buffer read a few bytes
// off passes the single-header checks, for one).
func (f *File) confirm(b []byte, off int64) (bool, error) {
	next := off + int64(binary.LittleEndian.Uint32(b[bhBufferSize:]))
	if next+lookahead > f.size {
		return true, nil
	}
	var nb [lookahead]byte
	if _, err := f.r.ReadAt(nb[:], next); err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("etl: read at offset %#x: %w", next, err)
	}
	if w := binary.LittleEndian.Uint64(nb[:]); w == 0 || w == ^uint64(0) {
		return true, nil
	}
	return f.plausibleBuffer(nb[:], next), nil
}

// scanBytes looks for a plausible buffer header at every offset in
// [off, limit), skipping fill runs by blocks. It returns the file size when
// there is none.
func (f *File) scanBytes(off, limit int64, buf []byte) (int64, error) {
	le := binary.LittleEndian
	lo, hi := uint32(BufferHeaderSize+8), f.maxSize
	for off < limit && off+lookahead <= f.size {
		n, err := f.r.ReadAt(buf, off)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("etl: read at offset %#x: %w", off, err)
		}
		b := buf[:n]
		// Candidates whose lookahead lies in this chunk.
		last := min(len(b)-lookahead, int(min(limit-off-1, int64(len(b)))))
		i := 0
		for i <= last {
			c := b[i]
			if isFill(c) {
				if k := fillRun(b[i:], c); k >= 64 {
					// The run may swallow the leading zero bytes of a
					// buffer header's size field.
					i += k - 3
					continue
				}
			}
			if size := le.Uint32(b[i:]); size < lo || size > hi ||
				le.Uint16(b[i+bhBufferFlag:])&^0x7F != 0 || le.Uint16(b[i+bhBufferType:]) > 8 {
				i++
				continue
			}
			if f.plausibleBuffer(b[i:], off+int64(i)) {
				ok, err := f.confirm(b[i:], off+int64(i))
				if err != nil {
					return 0, err
				}
				if ok {
					return off + int64(i), nil
				}
			}
			i++
		}
		if n < len(buf) {
			break
		}
		off += int64(max(i, 1))
	}
	return f.size, nil
}

// plausibleBuffer reports whether b starts with a buffer header that passes
// the strict checks used when looking for the next buffer after corruption.
func (f *File) plausibleBuffer(b []byte, off int64) bool {
	if len(b) < lookahead {
		return false
	}
	bi := parseBufferHeader(b, off, 0)
	if f.check(&bi) != bufferOK || bi.Size < BufferHeaderSize+8 {
		return false
	}
	if n := f.hdr.NumberOfProcessors; n > 0 && uint32(bi.CPU) >= n && bi.Type != BufferTypeHeader {
		return false
	}
	if off+int64(bi.Size) > f.size {
		return false
	}
	if bi.Compressed {
		return true
	}
	if bi.Filled <= BufferHeaderSize+8 {
		return false
	}
	_, ok := recordSize(b[BufferHeaderSize:])
	return ok
}

// check validates a buffer header against the file: the limits of
// BufferInfo.check and, in an uncompressed file, the logger's buffer size,
// which every buffer of such a file has.
func (f *File) check(bi *BufferInfo) bufferProblem {
	if p := bi.check(f.maxSize); p != bufferOK {
		return p
	}
	if f.stride > 0 && bi.Size != f.stride {
		return bufferWrongSize
	}
	return bufferOK
}
