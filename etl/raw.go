package etl

import (
	"errors"
	"iter"
)

// RawBuffer is one buffer of a file as stored, for tools that write a
// modified copy of a trace (etlscope redact): its header bytes and its
// records region, decompressed.
type RawBuffer struct {
	Info    BufferInfo
	Header  [BufferHeaderSize]byte // the WMI_BUFFER_HEADER as on disk
	Records []byte                 // the records (decompressed); reused by the next buffer
	// Problem is a recovered format problem of the buffer (truncated,
	// corrupt compressed data); Records then holds the usable prefix.
	Problem error
	short   bool // Records is cut (truncated or undecompressable buffer)
}

// RawRecord is one record of a RawBuffer.
type RawRecord struct {
	// Event is the decoded record; its UserData and extended item data
	// alias RawBuffer.Records, so changing them changes the buffer. Nil for
	// a record that could not be decoded (Err says why).
	Event *Event
	Pos   int // offset of the record in RawBuffer.Records
	Size  int // size of the record, 8-byte aligned, within Records
	Err   error
}

// RawBuffers iterates over the buffers in file order. Buffers whose header
// is invalid are reported as *FormatError and skipped, as by Events; an
// I/O error ends the iteration. The yielded buffer is reused.
func (f *File) RawBuffers() iter.Seq2[*RawBuffer, error] {
	return func(yield func(*RawBuffer, error) bool) {
		br := &bufferReader{r: f.r, size: f.size, maxSize: f.maxSize}
		rb := &RawBuffer{}
		for bi, err := range f.Buffers() {
			if err != nil {
				var fe *FormatError
				if !yield(nil, err) || !errors.As(err, &fe) {
					return
				}
				continue
			}
			recs, _, short, lerr := br.load(&bi)
			var fe *FormatError
			if lerr != nil && !errors.As(lerr, &fe) {
				yield(nil, lerr)
				return
			}
			rb.Info = bi
			copy(rb.Header[:], br.raw[:BufferHeaderSize])
			rb.Records = recs
			rb.Problem = lerr
			rb.short = short
			f.count(func(s *Stats) {
				s.Buffers++
				s.BytesDone += int64(bi.Size)
				if bi.Compressed {
					s.CompressedBuffers++
				}
			})
			if !yield(rb, nil) {
				return
			}
		}
	}
}

// RawRecords iterates over the records of rb in order, up to the fill
// that ends them. A damaged record is yielded with Err and a nil Event;
// Size is then the number of bytes the reader skipped.
func (f *File) RawRecords(rb *RawBuffer) iter.Seq[RawRecord] {
	return func(yield func(RawRecord) bool) {
		base := int64(-1)
		if !rb.Info.Compressed {
			base = rb.Info.Offset + BufferHeaderSize
		}
		info := rb.Info
		it := &recordIter{bi: &info, p: rb.Records, base: base, short: rb.short}
		for !it.done {
			pos := it.pos
			ev := &Event{}
			got, iss := it.next(ev)
			size := it.pos - pos
			if got {
				f.finish(ev)
				if !yield(RawRecord{Event: ev, Pos: pos, Size: size}) {
					return
				}
				continue
			}
			if iss != nil && !yield(RawRecord{Pos: pos, Size: size, Err: &FormatError{Off: iss.Offset, Msg: iss.Message}}) {
				return
			}
		}
	}
}
