package etltest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf16"

	"github.com/etlscope/etlscope/etl/lz77"
)

// WMI_BUFFER_HEADER values.
const (
	BufferFlagFlushMarker = 0x0001 // ETW_BUFFER_FLAG_FLUSH_MARKER
	BufferFlagEventsLost  = 0x0002
	BufferFlagBufferLost  = 0x0004
	BufferFlagProcIndex   = 0x0020 // ETW_BUFFER_FLAG_PROC_INDEX
	BufferFlagCompressed  = 0x0040 // ETW_BUFFER_FLAG_COMPRESSED

	BufferTypeGeneric = 0
	BufferTypeHeader  = 4

	// BufferStateFlushed is the ETW_BUFFER_STATE every sample buffer has
	// (in compressed files also read as COMPRESSION_FORMAT_XPRESS).
	BufferStateFlushed = 3
)

// Logfile header facts.
const (
	logfileHeader64Size = 0x118
	logfileHeader32Size = 0x110
	timeZoneInfoSize    = 172
	timerResolution     = 156250
	// hookHeaderExt50 is the EventTrace record that follows the logfile
	// header in live Windows 10+ files; its 48-byte payload is zero in every
	// sample.
	hookHeaderExt50     = 0x0050
	headerExt50DataSize = 48
)

// cpuBuffer is the buffer being filled for one CPU.
type cpuBuffer struct {
	data    []byte // BufferSize bytes; records start at BufferHeaderSize
	fill    int    // bytes used, header included
	seq     int64  // SequenceNumber, assigned when the buffer gets its first record
	lastRaw int64
	used    bool
}

// encoder lays records out in per-CPU buffers and writes full buffers to
// out. It is shared by Writer (in memory) and Stream.
type encoder struct {
	o   Options
	clk clock
	out io.Writer

	cpus    []cpuBuffer
	nextSeq int64
	written uint32 // buffers written, header buffer included
	offset  int64
	maxTime time.Time
	events  int64
	scratch []byte
	header  []byte // header buffer as last written
	err     error
}

func newEncoder(o Options, out io.Writer) (*encoder, error) {
	o, err := o.normalized()
	if err != nil {
		return nil, err
	}
	e := &encoder{o: o, clk: newClock(o), out: out, nextSeq: 1, maxTime: o.Start}
	e.cpus = make([]cpuBuffer, o.CPUs)
	e.written = 1 // the header buffer itself
	hdr, err := e.headerBuffer()
	if err != nil {
		return nil, err
	}
	if err := e.write(hdr); err != nil {
		return nil, err
	}
	e.header = hdr
	return e, nil
}

func (e *encoder) write(b []byte) error {
	if ring := e.o.RingBuffers; ring > 0 && e.written > 0 {
		// Circular file: data buffer k (0-based) goes to ring slot k mod
		// RingBuffers after the header buffer.
		wa, ok := e.out.(io.WriterAt)
		if !ok {
			return errors.New("etltest: a circular file (RingBuffers) needs an io.WriterAt destination")
		}
		slot := int64(e.written-1) % int64(ring)
		off := int64(e.o.BufferSize) * (1 + slot)
		n, err := wa.WriteAt(b, off)
		e.offset = max(e.offset, off+int64(n))
		if err != nil {
			return fmt.Errorf("etltest: writing buffer %d: %w", e.written, err)
		}
		return nil
	}
	n, err := e.out.Write(b)
	e.offset += int64(n)
	if err != nil {
		return fmt.Errorf("etltest: writing buffer %d: %w", e.written, err)
	}
	return nil
}

// add places one encoded record.
func (e *encoder) add(r record) error {
	if e.err != nil {
		return e.err
	}
	if err := checkCPU(r.cpu, e.o.CPUs); err != nil {
		return err
	}
	need := align8(len(r.data))
	if BufferHeaderSize+need > int(e.o.BufferSize) {
		return fmt.Errorf("etltest: %d-byte record does not fit a %d-byte buffer", len(r.data), e.o.BufferSize)
	}
	b := &e.cpus[r.cpu]
	if b.used && r.raw < b.lastRaw {
		return fmt.Errorf("etltest: CPU %d: record at %v is older than the previous one (records of one CPU must come in time order)", r.cpu, r.when)
	}
	if b.used && b.fill+need > int(e.o.BufferSize) {
		// Like ETW: the failed reservation shows up in CurrentOffset.
		if err := e.flush(r.cpu, b.fill+need, r.raw, false); err != nil {
			e.err = err
			return err
		}
	}
	if !b.used {
		if b.data == nil {
			b.data = make([]byte, e.o.BufferSize)
		}
		b.used = true
		b.fill = BufferHeaderSize
		b.seq = e.nextSeq
		e.nextSeq++
	}
	copy(b.data[b.fill:], r.data)
	clear(b.data[b.fill+len(r.data) : b.fill+need])
	b.fill += need
	b.lastRaw = r.raw
	if r.when.After(e.maxTime) {
		e.maxTime = r.when
	}
	e.events++
	return nil
}

// flush writes CPU cpu's buffer. current is the CurrentOffset to record,
// raw the flush timestamp.
func (e *encoder) flush(cpu, current int, raw int64, last bool) error {
	b := &e.cpus[cpu]
	if !b.used {
		return nil
	}
	flags := uint16(BufferFlagProcIndex)
	if last {
		flags |= BufferFlagFlushMarker
	}
	for i := b.fill; i < len(b.data); i++ {
		b.data[i] = 0xFF
	}
	out := b.data
	size := int(e.o.BufferSize)
	if e.o.Compress {
		c := lz77.Compress(b.data[BufferHeaderSize:b.fill])
		if len(c) < b.fill-BufferHeaderSize {
			flags |= BufferFlagCompressed
			size = BufferHeaderSize + len(c)
			e.scratch = append(append(e.scratch[:0], b.data[:BufferHeaderSize]...), c...)
			out = e.scratch
		}
	}
	putBufferHeader(out, bufferHeader{
		size:    uint32(size),
		saved:   uint32(b.fill),
		current: uint32(current),
		raw:     raw,
		seq:     b.seq,
		cpu:     uint16(cpu),
		logger:  e.o.LoggerID,
		state:   BufferStateFlushed,
		filled:  uint32(b.fill),
		flags:   flags,
		typ:     BufferTypeGeneric,
	})
	if err := e.write(out); err != nil {
		return err
	}
	e.written++
	b.used = false
	b.fill = 0
	return nil
}

// finish flushes every CPU buffer and returns the final header buffer.
func (e *encoder) finish() ([]byte, error) {
	if e.err != nil {
		return nil, e.err
	}
	end := e.maxTime
	if e.o.End.After(end) {
		end = e.o.End
	}
	endRaw := e.clk.raw(end)
	last := -1
	for i := range e.cpus {
		if e.cpus[i].used {
			last = i
		}
	}
	for i := range e.cpus {
		if !e.cpus[i].used {
			continue
		}
		b := &e.cpus[i]
		raw := max(endRaw, b.lastRaw)
		if err := e.flush(i, int(e.o.BufferSize)+b.fill, raw, i == last); err != nil {
			e.err = err
			return nil, err
		}
		endRaw++
	}
	e.maxTime = end
	hdr, err := e.headerBuffer()
	if err != nil {
		return nil, err
	}
	e.header = hdr
	e.err = errors.New("etltest: writer already finished")
	return hdr, nil
}

type bufferHeader struct {
	size, saved, current uint32
	raw                  int64
	seq                  int64
	cpu, logger          uint16
	state, filled        uint32
	flags, typ           uint16
}

func putBufferHeader(b []byte, h bufferHeader) {
	le := binary.LittleEndian
	le.PutUint32(b[0x00:], h.size)
	le.PutUint32(b[0x04:], h.saved)
	le.PutUint32(b[0x08:], h.current)
	le.PutUint32(b[0x0C:], 0) // ReferenceCount
	le.PutUint64(b[0x10:], uint64(h.raw))
	le.PutUint64(b[0x18:], uint64(h.seq))
	le.PutUint64(b[0x20:], 0) // ClockType:3 / Frequency:61, zero in live files
	le.PutUint16(b[0x28:], h.cpu)
	le.PutUint16(b[0x2A:], h.logger)
	le.PutUint32(b[0x2C:], h.state)
	le.PutUint32(b[0x30:], h.filled)
	le.PutUint16(b[0x34:], h.flags)
	le.PutUint16(b[0x36:], h.typ)
	clear(b[0x38:0x48])
}

// headerBuffer builds the first buffer with the logfile header as of now.
func (e *encoder) headerBuffer() ([]byte, error) {
	o := e.o
	rec := e.logfileHeaderRecord()
	ext := make([]byte, 0, SystemHeaderSize+headerExt50DataSize)
	ext, _ = encodeSystem(ext, &SystemEvent{
		HookID: hookHeaderExt50, PID: o.ControllerPID, TID: o.ControllerTID,
		UserData: make([]byte, headerExt50DataSize),
	}, e.clk.raw0, o.PointerSize)
	filled := BufferHeaderSize + align8(len(rec)) + align8(len(ext))
	if filled > int(o.BufferSize) {
		return nil, fmt.Errorf("etltest: logger and file names too long for a %d-byte buffer", o.BufferSize)
	}
	size := int(o.BufferSize)
	h := bufferHeader{
		saved: uint32(filled), current: uint32(filled), logger: o.LoggerID,
		state: BufferStateFlushed, filled: uint32(filled),
		flags: BufferFlagProcIndex | BufferFlagFlushMarker, typ: BufferTypeHeader,
	}
	if o.Compress {
		// Compressed samples cut the header buffer to a multiple of 512
		// bytes, leave CurrentOffset 0 and set only the flush marker.
		size = (filled + 511) &^ 511
		h.current = 0
		h.flags = BufferFlagFlushMarker
	}
	h.size = uint32(size)
	buf := make([]byte, size)
	putBufferHeader(buf, h)
	p := BufferHeaderSize
	copy(buf[p:], rec)
	p += align8(len(rec))
	copy(buf[p:], ext)
	for i := filled; i < size; i++ {
		buf[i] = 0xFF
	}
	return buf, nil
}

// logfileHeaderRecord encodes the SYSTEM_TRACE_HEADER + TRACE_LOGFILE_HEADER
// record.
func (e *encoder) logfileHeaderRecord() []byte {
	o := e.o
	le := binary.LittleEndian
	p := NewPayload(o.PointerSize)
	sub, subMinor := uint8(1), uint8(5) // live Windows 10+ files
	if o.Compress {
		sub, subMinor = 2, 0 // compressed (relogged) samples
	}
	p.U32(o.BufferSize)
	p.U8(o.OSMajor).U8(o.OSMinor).U8(sub).U8(subMinor)
	p.U32(o.Build)
	p.U32(uint32(o.CPUs))
	p.U64(uint64(FileTime(e.maxTime)))
	p.U32(timerResolution)
	p.U32(o.MaximumFileSize)
	p.U32(o.LogFileMode)
	p.U32(e.written)
	p.U32(1) // StartBuffers
	p.U32(uint32(o.PointerSize))
	p.U32(o.EventsLost)
	p.U32(o.CPUSpeedMHz)
	// LoggerName / LogFileName pointers: live Windows 10+ files hold 10 and
	// 7 here (not pointers any more), relogged and compressed ones 0.
	if o.Compress {
		p.Ptr(0).Ptr(0)
	} else {
		p.Ptr(10).Ptr(7)
	}
	// TIME_ZONE_INFORMATION.
	p.I32(o.TimeZoneBias)
	p.Raw(wchar32(o.TimeZoneName))
	p.Raw(make([]byte, 16)) // StandardDate
	p.I32(0)                // StandardBias
	p.Raw(wchar32(o.TimeZoneName))
	p.Raw(make([]byte, 16)) // DaylightDate
	p.I32(0)                // DaylightBias
	for p.Len()%8 != 0 {
		p.U8(0)
	}
	p.I64(FileTime(o.Start.Add(-o.Uptime))) // BootTime
	freq := o.PerfFreq
	p.I64(freq)
	p.I64(FileTime(o.Start))
	p.U32(uint32(o.ClockType)) // ReservedFlags
	p.U32(o.BuffersLost)
	p.UTF16Z(o.LoggerName)
	p.UTF16Z(o.LogFileName)
	body := p.Bytes()

	typ := byte(HeaderSystem64)
	if o.PointerSize == 4 {
		typ = HeaderSystem32
	}
	rec := make([]byte, 0, SystemHeaderSize+len(body))
	rec = le.AppendUint16(rec, 2)
	rec = append(rec, typ, MarkerFlags)
	rec = le.AppendUint16(rec, uint16(SystemHeaderSize+len(body)))
	rec = le.AppendUint16(rec, 0) // HookId: EventTrace header
	rec = le.AppendUint32(rec, o.ControllerTID)
	rec = le.AppendUint32(rec, o.ControllerPID)
	rec = le.AppendUint64(rec, uint64(e.clk.raw0))
	rec = le.AppendUint64(rec, 0) // KernelTime, UserTime
	return append(rec, body...)
}

// wchar32 encodes s as a WCHAR[32] array (truncated to 31 characters,
// NUL-padded).
func wchar32(s string) []byte {
	u := utf16.Encode([]rune(s))
	if len(u) > 31 {
		u = u[:31]
	}
	b := make([]byte, 64)
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}
