package etl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/etlscope/etlscope/etl/lz77"
)

// BufferHeaderSize is the size of the WMI_BUFFER_HEADER that starts every
// buffer.
const BufferHeaderSize = 0x48

// WMI_BUFFER_HEADER field offsets.
const (
	bhBufferSize    = 0x00
	bhSavedOffset   = 0x04
	bhCurrentOffset = 0x08
	bhTimeStamp     = 0x10
	bhSequence      = 0x18
	bhProcessor     = 0x28 // ProcessorNumber u8 (+ Alignment u8) or ProcessorIndex u16
	bhLoggerID      = 0x2A
	bhState         = 0x2C
	bhOffset        = 0x30 // filled bytes, header included
	bhBufferFlag    = 0x34
	bhBufferType    = 0x36
)

// Buffer flags (ETW_BUFFER_FLAG_*).
const (
	BufferFlagFlushMarker    = 0x0001
	BufferFlagEventsLost     = 0x0002
	BufferFlagBufferLost     = 0x0004
	BufferFlagProcessorIndex = 0x0020
	BufferFlagCompressed     = 0x0040
)

// BufferTypeHeader is the type of the buffer holding the logfile header.
const BufferTypeHeader = 4

// Limits that keep hostile files from driving allocations.
const (
	minBufferSize = 1 << 10
	maxBufferSize = 16 << 20 // ETW allows far less; anything above is corruption
	// maxRatio bounds how much a compressed buffer may claim to expand: ETW
	// records compress a few times, never a thousand, so a larger claim is
	// corruption and is not allocated.
	maxRatio          = 1024
	defaultBufferSize = 1 << 20
)

// BufferInfo describes one buffer of the file, as its header states it.
type BufferInfo struct {
	Index      int   // 0-based, in file order
	Offset     int64 // file offset of the buffer header
	Size       uint32
	SavedSize  uint32 // SavedOffset: uncompressed size of a compressed buffer
	Filled     uint32 // Offset: end of the records of an uncompressed buffer
	Flags      uint16
	Type       uint16
	CPU        uint16
	Timestamp  int64
	Sequence   int64
	Compressed bool
}

// parseBufferHeader decodes a WMI_BUFFER_HEADER. b holds at least
// BufferHeaderSize bytes.
func parseBufferHeader(b []byte, off int64, index int) BufferInfo {
	le := binary.LittleEndian
	bi := BufferInfo{
		Index:     index,
		Offset:    off,
		Size:      le.Uint32(b[bhBufferSize:]),
		SavedSize: le.Uint32(b[bhSavedOffset:]),
		Filled:    le.Uint32(b[bhOffset:]),
		Flags:     le.Uint16(b[bhBufferFlag:]),
		Type:      le.Uint16(b[bhBufferType:]),
		Timestamp: int64(le.Uint64(b[bhTimeStamp:])),
		Sequence:  int64(le.Uint64(b[bhSequence:])),
	}
	bi.Compressed = bi.Flags&BufferFlagCompressed != 0
	if bi.Flags&BufferFlagProcessorIndex != 0 {
		bi.CPU = le.Uint16(b[bhProcessor:])
	} else {
		bi.CPU = uint16(b[bhProcessor])
	}
	return bi
}

// Buffer header problems found by check.
type bufferProblem uint8

const (
	bufferOK bufferProblem = iota
	bufferTooSmall
	bufferTooLarge
	bufferBadFlags
	bufferBadType
	bufferBadSaved
	bufferBadFilled
	bufferWrongSize
)

// check validates a buffer header against the file's limits. It does not
// allocate: the resynchronisation scan calls it at every byte.
func (bi *BufferInfo) check(maxSize uint32) bufferProblem {
	switch {
	case bi.Size < BufferHeaderSize:
		return bufferTooSmall
	case bi.Size > maxSize:
		return bufferTooLarge
	case bi.Flags&^0x7F != 0:
		return bufferBadFlags
	case bi.Type > 8:
		return bufferBadType
	}
	if bi.Compressed {
		if bi.SavedSize < BufferHeaderSize || bi.SavedSize > maxSize {
			return bufferBadSaved
		}
		return bufferOK
	}
	if bi.Filled != 0 && (bi.Filled < BufferHeaderSize || bi.Filled > bi.Size) {
		return bufferBadFilled
	}
	return bufferOK
}

// describe says what is wrong with a header that failed check.
func (bi *BufferInfo) describe(p bufferProblem, maxSize uint32) string {
	switch p {
	case bufferWrongSize:
		return fmt.Sprintf("buffer size %d differs from the logger's buffer size %d", bi.Size, maxSize)
	case bufferTooSmall:
		return fmt.Sprintf("buffer size %d is smaller than the buffer header", bi.Size)
	case bufferTooLarge:
		return fmt.Sprintf("buffer size %d is larger than the logger's buffer size %d", bi.Size, maxSize)
	case bufferBadFlags:
		return fmt.Sprintf("unknown buffer flags %#x", bi.Flags)
	case bufferBadType:
		return fmt.Sprintf("unknown buffer type %d", bi.Type)
	case bufferBadSaved:
		return fmt.Sprintf("compressed buffer's uncompressed size %d is out of range", bi.SavedSize)
	case bufferBadFilled:
		return fmt.Sprintf("buffer's filled offset %d is outside the buffer (size %d)", bi.Filled, bi.Size)
	}
	return ""
}

// recordsEnd returns how many bytes of records (after the header) the buffer
// holds once decompressed.
func (bi *BufferInfo) recordsLen() int {
	if bi.Compressed {
		return int(bi.SavedSize) - BufferHeaderSize
	}
	end := bi.Filled
	if end == 0 {
		// Not recorded: records run until the 0xFF fill or the end.
		end = bi.Size
	}
	return int(end) - BufferHeaderSize
}

// bufferReader loads buffers into reusable memory.
type bufferReader struct {
	r       io.ReaderAt
	size    int64
	maxSize uint32
	raw     []byte // on-disk bytes of the current buffer
	dec     []byte // decompressed records of the current buffer
}

// load reads the records of buffer bi. It returns the records region, the
// file offset of its first byte (or -1 when the region is decompressed),
// whether the file ends inside the buffer (records then holds what is
// there), and an error: a *FormatError when the buffer does not decompress
// (records may still hold a usable prefix), another error when reading
// failed.
func (br *bufferReader) load(bi *BufferInfo) (records []byte, base int64, short bool, err error) {
	n := int64(bi.Size)
	if bi.Offset+n > br.size {
		n = br.size - bi.Offset
		short = true
	}
	if n < BufferHeaderSize {
		return nil, 0, true, nil
	}
	if cap(br.raw) < int(n) {
		br.raw = make([]byte, n)
	}
	raw := br.raw[:n]
	if _, rerr := br.r.ReadAt(raw, bi.Offset); rerr != nil && !errors.Is(rerr, io.EOF) {
		return nil, 0, short, fmt.Errorf("etl: read buffer at offset %#x: %w", bi.Offset, rerr)
	}
	if !bi.Compressed {
		end := BufferHeaderSize + bi.recordsLen()
		if end > len(raw) {
			end = len(raw)
		}
		return raw[BufferHeaderSize:end], bi.Offset + BufferHeaderSize, short, nil
	}
	want := bi.recordsLen()
	if in := len(raw) - BufferHeaderSize; want > maxRatio*in && want > minBufferSize {
		return nil, -1, short, &FormatError{Off: bi.Offset, Msg: fmt.Sprintf("compressed buffer %d claims %d bytes from %d compressed bytes", bi.Index, want, in)}
	}
	if cap(br.dec) < want {
		br.dec = make([]byte, want)
	}
	dec := br.dec[:want]
	got, derr := lz77.Decompress(dec, raw[BufferHeaderSize:])
	if derr != nil {
		if short {
			return dec[:got], -1, short, nil
		}
		return dec[:got], -1, short, &FormatError{Off: bi.Offset, Msg: fmt.Sprintf("compressed buffer %d: %v; records after decompressed byte %#x lost", bi.Index, derr, got)}
	}
	if got != want {
		return dec[:got], -1, short, &FormatError{Off: bi.Offset, Msg: fmt.Sprintf("compressed buffer %d decompressed to %d bytes, header says %d", bi.Index, got, want)}
	}
	return dec, -1, short, nil
}

// recordIter walks the records of one buffer.
type recordIter struct {
	bi    *BufferInfo
	p     []byte
	base  int64 // file offset of p[0], or -1 for decompressed data
	pos   int
	short bool // p is cut (truncated or undecompressable buffer, already reported): a record running past its end is not damage
	done  bool
}

// next decodes the next record into ev and reports whether it did. A
// damaged record is returned as an issue; the iterator then goes on at the
// next plausible record (8-byte aligned, with a valid header that a
// valid header or the end of the records follows), or stops when there is
// none.
func (it *recordIter) next(ev *Event) (got bool, iss *Issue) {
	p := it.p
	if len(p)-it.pos < 8 {
		it.done = true
		return false, nil
	}
	r := p[it.pos:]
	if isFill(r[0]) && fillRun(r, r[0]) == len(r) {
		// The unused rest of the buffer.
		it.done = true
		return false, nil
	}
	size, plausible := recordSize(r)
	var msg string
	switch {
	case !plausible && (binary.LittleEndian.Uint32(r) == 0xFFFFFFFF || binary.LittleEndian.Uint64(r) == 0):
		msg = "fill inside the records"
	case !plausible:
		msg = fmt.Sprintf("invalid record header (type %#x, marker %#x)", r[2], r[3])
	case size < minHeader(r[2]):
		msg = fmt.Sprintf("record size %d is smaller than its %d-byte header", size, minHeader(r[2]))
	case size > len(r):
		if it.short {
			// The record is cut with the buffer: already reported.
			it.done = true
			return false, nil
		}
		msg = fmt.Sprintf("record size %d runs past the end of the buffer (%d bytes left)", size, len(r))
	}
	if msg != "" {
		return false, it.resync(msg)
	}
	if m := decodeRecord(ev, r[:size]); m != "" {
		n := (size + 7) &^ 7
		iss := it.issue(n, "%s; record of %d bytes skipped", m, size)
		it.pos += n
		return false, iss
	}
	ev.Offset = it.offset()
	ev.Buffer = it.bi.Index
	ev.CPU = it.bi.CPU
	it.pos += (size + 7) &^ 7
	return true, nil
}

// resync skips a damaged record: it moves to the next plausible record
// and returns the issue naming what was skipped.
func (it *recordIter) resync(msg string) *Issue {
	from := it.pos
	next := len(it.p)
	for q := from + 8; q+8 <= len(it.p); q += 8 {
		if it.plausibleAt(q) {
			next = q
			break
		}
	}
	iss := it.issue(next-from, "%s", msg)
	if next == len(it.p) {
		iss.Message += fmt.Sprintf("; no valid record after it: the remaining %d bytes of the buffer skipped", next-from)
	} else {
		iss.Message += fmt.Sprintf("; %d bytes skipped to the next valid record", next-from)
	}
	it.pos = next
	if next >= len(it.p) {
		it.done = true
	}
	return iss
}

// plausibleAt reports whether a valid record starts at q and is followed
// by another valid record header, fill or the end of the records.
func (it *recordIter) plausibleAt(q int) bool {
	r := it.p[q:]
	size, ok := recordSize(r)
	if !ok || size < minHeader(r[2]) || size > len(r) {
		return false
	}
	n := (size + 7) &^ 7
	if n >= len(r)-8 {
		return true
	}
	rest := r[n:]
	if w := binary.LittleEndian.Uint64(rest); w == 0 || w == ^uint64(0) {
		return true
	}
	size2, ok := recordSize(rest)
	return ok && size2 >= minHeader(rest[2]) && size2 <= len(rest)
}

func (it *recordIter) offset() int64 {
	if it.base < 0 {
		return it.bi.Offset
	}
	return it.base + int64(it.pos)
}

// issue describes a damaged record at the current position; count is the
// number of bytes skipped.
func (it *recordIter) issue(count int, format string, args ...any) *Issue {
	msg := fmt.Sprintf(format, args...)
	off := it.offset()
	if it.base < 0 {
		msg = fmt.Sprintf("damaged record in compressed buffer %d at %#x, decompressed byte %#x: %s", it.bi.Index, off, it.pos, msg)
	} else {
		msg = fmt.Sprintf("damaged record at %#x (buffer %d at %#x): %s", off, it.bi.Index, it.bi.Offset, msg)
	}
	return &Issue{Kind: IssueDamagedRecord, Offset: off, Count: int64(count), Loss: true, Message: msg}
}
