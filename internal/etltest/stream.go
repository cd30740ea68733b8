package etltest

import (
	"fmt"
	"io"
	"time"
)

// Stream writes an ETL file incrementally: each buffer goes to the
// destination as soon as it is full, so memory stays at one buffer per CPU
// however large the file gets (the benchmark generator writes 1 GB this
// way).
//
// Records of one CPU must be added in time order (Add reports an error
// otherwise); records of different CPUs may interleave freely, as in a real
// session.
//
// The header buffer, written first, can only be completed when the stream is
// closed (buffer count, end time). If the destination is an io.WriterAt
// (an *os.File is), Close rewrites it in place; otherwise the header keeps
// BuffersWritten 1 and EndTime = StartTime, like a file whose session never
// stopped cleanly.
type Stream struct {
	enc    *encoder
	dst    io.Writer
	clk    clock
	ptr    int
	data   []byte // scratch record
	closed bool
}

// NewStream starts a file on dst and writes its header buffer.
func NewStream(dst io.Writer, opts Options) (*Stream, error) {
	enc, err := newEncoder(opts, dst)
	if err != nil {
		return nil, err
	}
	return &Stream{enc: enc, dst: dst, clk: enc.clk, ptr: enc.o.PointerSize}, nil
}

// Options returns the stream's options with defaults filled in.
func (s *Stream) Options() Options { return s.enc.o }

// Events returns the number of records added so far.
func (s *Stream) Events() int64 { return s.enc.events }

// Offset returns the number of bytes written to the destination so far.
func (s *Stream) Offset() int64 { return s.enc.offset }

// Add adds one EVENT_HEADER record.
func (s *Stream) Add(ev *Event) error {
	if s.closed {
		return errFinished
	}
	raw := s.clk.raw(ev.Time)
	var err error
	s.data, err = encodeEvent(s.data[:0], ev, raw, s.ptr)
	if err != nil {
		return err
	}
	return s.enc.add(record{cpu: ev.CPU, raw: raw, when: s.when(ev.Time), data: s.data})
}

// AddClassic adds one classic EVENT_TRACE_HEADER record.
func (s *Stream) AddClassic(ev *ClassicEvent) error {
	if s.closed {
		return errFinished
	}
	raw := s.clk.raw(ev.Time)
	var err error
	s.data, err = encodeClassic(s.data[:0], ev, raw, s.ptr)
	if err != nil {
		return err
	}
	return s.enc.add(record{cpu: ev.CPU, raw: raw, when: s.when(ev.Time), data: s.data})
}

// AddSystem adds one kernel record.
func (s *Stream) AddSystem(ev *SystemEvent) error {
	if s.closed {
		return errFinished
	}
	raw := s.clk.raw(ev.Time)
	var err error
	s.data, err = encodeSystem(s.data[:0], ev, raw, s.ptr)
	if err != nil {
		return err
	}
	return s.enc.add(record{cpu: ev.CPU, raw: raw, when: s.when(ev.Time), data: s.data})
}

func (s *Stream) when(t time.Time) time.Time {
	if t.IsZero() {
		return s.enc.o.Start
	}
	return t
}

// Close flushes the remaining buffers and completes the header buffer if
// the destination allows it (see Stream). It does not close dst.
func (s *Stream) Close() error {
	if s.closed {
		return errFinished
	}
	s.closed = true
	hdr, err := s.enc.finish()
	if err != nil {
		return err
	}
	if wa, ok := s.dst.(io.WriterAt); ok {
		if _, err := wa.WriteAt(hdr, 0); err != nil {
			return fmt.Errorf("etltest: rewriting the header buffer: %w", err)
		}
	}
	return nil
}
