package etltest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"
)

// Writer collects records in memory and lays them out as an ETL file when
// asked for the bytes. Records may be added in any order: they are sorted by
// timestamp (stable, so records with equal times keep the order they were
// added in) and then distributed over their CPUs' buffers.
//
// Add methods do not return errors; the first problem (CPU out of range, a
// record too large) is reported by Bytes, WriteTo and WriteFile.
type Writer struct {
	o    Options
	clk  clock
	recs []record
	err  error
}

// NewWriter returns a Writer for a session described by opts. Invalid
// options are reported by Bytes.
func NewWriter(opts Options) *Writer {
	o, err := opts.normalized()
	w := &Writer{o: o, err: err}
	if err == nil {
		w.clk = newClock(o)
	}
	return w
}

// Options returns the writer's options with defaults filled in.
func (w *Writer) Options() Options { return w.o }

// Len returns the number of records added so far.
func (w *Writer) Len() int { return len(w.recs) }

func (w *Writer) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// Add adds one EVENT_HEADER record.
func (w *Writer) Add(ev Event) {
	if w.err != nil {
		return
	}
	raw := w.clk.raw(ev.Time)
	data, err := encodeEvent(nil, &ev, raw, w.o.PointerSize)
	w.push(ev.CPU, raw, ev.Time, data, err)
}

// AddClassic adds one classic EVENT_TRACE_HEADER record.
func (w *Writer) AddClassic(ev ClassicEvent) {
	if w.err != nil {
		return
	}
	raw := w.clk.raw(ev.Time)
	data, err := encodeClassic(nil, &ev, raw, w.o.PointerSize)
	w.push(ev.CPU, raw, ev.Time, data, err)
}

// AddSystem adds one kernel (SYSTEM / compact / PERFINFO) record.
func (w *Writer) AddSystem(ev SystemEvent) {
	if w.err != nil {
		return
	}
	raw := w.clk.raw(ev.Time)
	data, err := encodeSystem(nil, &ev, raw, w.o.PointerSize)
	w.push(ev.CPU, raw, ev.Time, data, err)
}

func (w *Writer) push(cpu int, raw int64, when time.Time, data []byte, err error) {
	if err != nil {
		w.fail(err)
		return
	}
	if err := checkCPU(cpu, w.o.CPUs); err != nil {
		w.fail(err)
		return
	}
	if when.IsZero() {
		when = w.o.Start
	}
	w.recs = append(w.recs, record{cpu: cpu, raw: raw, when: when, data: data})
}

// Bytes returns the complete file.
func (w *Writer) Bytes() ([]byte, error) {
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteTo writes the complete file to dst. The header buffer, which records
// the final buffer count and end time, is built last, so the whole file is
// assembled in memory first.
func (w *Writer) WriteTo(dst io.Writer) (int64, error) {
	if w.err != nil {
		return 0, w.err
	}
	var mem memFile
	enc, err := newEncoder(w.o, &mem)
	if err != nil {
		return 0, err
	}
	recs := slices.Clone(w.recs)
	slices.SortStableFunc(recs, func(a, b record) int {
		switch {
		case a.raw < b.raw:
			return -1
		case a.raw > b.raw:
			return 1
		}
		return 0
	})
	for _, r := range recs {
		if err := enc.add(r); err != nil {
			return 0, err
		}
	}
	hdr, err := enc.finish()
	if err != nil {
		return 0, err
	}
	copy(mem.b, hdr)
	n, err := dst.Write(mem.b)
	if err != nil {
		return int64(n), fmt.Errorf("etltest: %w", err)
	}
	return int64(n), nil
}

// WriteFile writes the file to path. It refuses to overwrite an existing
// file.
func (w *Writer) WriteFile(path string) error {
	b, err := w.Bytes()
	if err != nil {
		return err
	}
	return writeNewFile(path, b)
}

func writeNewFile(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("etltest: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("etltest: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("etltest: closing %s: %w", path, err)
	}
	return nil
}

// memFile is an in-memory io.Writer and io.WriterAt.
type memFile struct{ b []byte }

func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	if end := int(off) + len(p); end > len(m.b) {
		m.b = append(m.b, make([]byte, end-len(m.b))...)
	}
	return copy(m.b[off:], p), nil
}

func (m *memFile) Write(p []byte) (int, error) {
	m.b = append(m.b, p...)
	return len(p), nil
}

var errFinished = errors.New("etltest: stream already closed")
