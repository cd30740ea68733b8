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
// file offset of its first byte (or -1 when the region is decompressed), and
// an error describing a problem. With a non-nil error, records may still
// hold a usable prefix (truncated or partly corrupt buffers).
func (br *bufferReader) load(bi *BufferInfo) (records []byte, base int64, err error) {
	n := int64(bi.Size)
	short := false
	if bi.Offset+n > br.size {
		n = br.size - bi.Offset
		short = true
	}
	if n < BufferHeaderSize {
		return nil, 0, &FormatError{Off: bi.Offset, Msg: "truncated buffer header"}
	}
	if cap(br.raw) < int(n) {
		br.raw = make([]byte, n)
	}
	raw := br.raw[:n]
	if _, rerr := br.r.ReadAt(raw, bi.Offset); rerr != nil && !errors.Is(rerr, io.EOF) {
		return nil, 0, fmt.Errorf("etl: read buffer at offset %#x: %w", bi.Offset, rerr)
	}
	var truncErr error
	if short {
		truncErr = &FormatError{Off: bi.Offset, Msg: fmt.Sprintf("buffer %d truncated: %d of %d bytes present", bi.Index, n, bi.Size)}
	}
	if !bi.Compressed {
		end := BufferHeaderSize + bi.recordsLen()
		if end > len(raw) {
			end = len(raw)
		}
		return raw[BufferHeaderSize:end], bi.Offset + BufferHeaderSize, truncErr
	}
	want := bi.recordsLen()
	if in := len(raw) - BufferHeaderSize; want > maxRatio*in && want > minBufferSize {
		return nil, -1, &FormatError{Off: bi.Offset, Msg: fmt.Sprintf("compressed buffer %d claims %d bytes from %d compressed bytes", bi.Index, want, in)}
	}
	if cap(br.dec) < want {
		br.dec = make([]byte, want)
	}
	dec := br.dec[:want]
	got, derr := lz77.Decompress(dec, raw[BufferHeaderSize:])
	if derr != nil {
		if truncErr != nil {
			return dec[:got], -1, truncErr
		}
		return dec[:got], -1, &FormatError{Off: bi.Offset, Msg: fmt.Sprintf("compressed buffer %d: %v", bi.Index, derr)}
	}
	if got != want {
		return dec[:got], -1, &FormatError{Off: bi.Offset, Msg: fmt.Sprintf("compressed buffer %d decompressed to %d bytes, header says %d", bi.Index, got, want)}
	}
	return dec, -1, truncErr
}

// recordIter walks the records of one buffer.
type recordIter struct {
	bi   *BufferInfo
	p    []byte
	base int64 // file offset of p[0], or -1 for decompressed data
	pos  int
	done bool
}

// next decodes the next record into ev and reports whether it did. A
// record-level problem is returned as err; the iterator then either skips
// that record or, when record boundaries are lost, stops (done).
func (it *recordIter) next(ev *Event) (got bool, err error) {
	p := it.p
	if len(p)-it.pos < 8 {
		it.done = true
		return false, nil
	}
	r := p[it.pos:]
	if binary.LittleEndian.Uint32(r) == 0xFFFFFFFF || binary.LittleEndian.Uint64(r) == 0 {
		it.done = true
		return false, nil
	}
	size, plausible := recordSize(r)
	switch {
	case !plausible:
		err = it.errorf("invalid record header (type %#x, marker %#x); rest of the buffer skipped", r[2], r[3])
	case size < minHeader(r[2]):
		err = it.errorf("record size %d is smaller than its %d-byte header; rest of the buffer skipped", size, minHeader(r[2]))
	case size > len(r):
		err = it.errorf("record size %d runs past the end of the buffer (%d bytes left); rest of the buffer skipped", size, len(r))
	}
	if err != nil {
		it.done = true
		return false, err
	}
	if msg := decodeRecord(ev, r[:size]); msg != "" {
		err = it.errorf("%s; record skipped", msg)
		it.pos += (size + 7) &^ 7
		return false, err
	}
	ev.Offset = it.offset()
	ev.Buffer = it.bi.Index
	ev.CPU = it.bi.CPU
	it.pos += (size + 7) &^ 7
	return true, nil
}

func (it *recordIter) offset() int64 {
	if it.base < 0 {
		return it.bi.Offset
	}
	return it.base + int64(it.pos)
}

func (it *recordIter) errorf(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if it.base < 0 {
		msg = fmt.Sprintf("%s (compressed buffer %d, record at decompressed byte %#x)", msg, it.bi.Index, it.pos)
	} else {
		msg = fmt.Sprintf("%s (buffer %d)", msg, it.bi.Index)
	}
	return &FormatError{Off: it.offset(), Msg: msg}
}
