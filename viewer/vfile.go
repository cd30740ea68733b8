package viewer

import (
	"errors"
	"io"
	"sort"
)

// segment maps virtual bytes [virt, virt+n) to real bytes [real, real+n)
// of the trace; real < 0 reads as zeros (the missing tail of a truncated
// last buffer).
type segment struct {
	virt, real, n int64
}

// vfile is a virtual ETL file made of some of the buffers of a real one,
// in an order the caller chooses. The etl package reads it like any file,
// so a page of events can be re-read starting in the middle of a trace
// without an API for seeking the reader.
type vfile struct {
	r    io.ReaderAt
	segs []segment
	size int64
}

func (v *vfile) add(real, n int64) {
	v.segs = append(v.segs, segment{virt: v.size, real: real, n: n})
	v.size += n
}

func (v *vfile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("viewer: negative offset")
	}
	if off >= v.size {
		return 0, io.EOF
	}
	i := sort.Search(len(v.segs), func(i int) bool { return v.segs[i].virt+v.segs[i].n > off })
	n := 0
	for n < len(p) && i < len(v.segs) {
		s := v.segs[i]
		within := off - s.virt
		k := min(int64(len(p)-n), s.n-within)
		if s.real < 0 {
			clear(p[n : n+int(k)])
		} else {
			m, err := v.r.ReadAt(p[n:n+int(k)], s.real+within)
			if int64(m) < k {
				if err == nil || errors.Is(err, io.EOF) {
					err = io.ErrUnexpectedEOF
				}
				return n + m, err
			}
		}
		n += int(k)
		off += k
		i++
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// realOffset maps a virtual offset back to the trace.
func (v *vfile) realOffset(off int64) int64 {
	i := sort.Search(len(v.segs), func(i int) bool { return v.segs[i].virt+v.segs[i].n > off })
	if i >= len(v.segs) || v.segs[i].real < 0 {
		return off
	}
	return v.segs[i].real + off - v.segs[i].virt
}
