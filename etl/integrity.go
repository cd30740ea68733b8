package etl

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// IssueKind names a kind of integrity finding.
type IssueKind string

// Kinds of integrity findings.
const (
	// IssueTruncated: the file ends inside a buffer, holds fewer buffers
	// than the logfile header's BuffersWritten says, or was not closed
	// by a stopped session.
	IssueTruncated IssueKind = "truncated"
	// IssueDamagedBuffer: an invalid buffer header or a buffer that does
	// not decompress; Offset is the buffer's offset.
	IssueDamagedBuffer IssueKind = "damaged_buffer"
	// IssueSkippedBytes: bytes passed over while looking for the next
	// buffer; Count is the number of bytes.
	IssueSkippedBytes IssueKind = "skipped_bytes"
	// IssueDamagedRecord: an invalid record inside a buffer; reading goes
	// on at the next valid record. Count is the number of bytes skipped.
	IssueDamagedRecord IssueKind = "damaged_record"
	// IssueLostEvents: TRACE_LOGFILE_HEADER.EventsLost (Count events) or a
	// buffer flagged ETW_BUFFER_FLAG_EVENTS_LOST.
	IssueLostEvents IssueKind = "lost_events"
	// IssueLostBuffers: TRACE_LOGFILE_HEADER.BuffersLost (Count buffers)
	// or a buffer flagged ETW_BUFFER_FLAG_BUFFER_LOST.
	IssueLostBuffers IssueKind = "lost_buffers"
	// IssueWrapped: a circular file that wrapped; its oldest events were
	// overwritten.
	IssueWrapped IssueKind = "wrapped"
	// IssueFill: a region of zero or 0xFF fill (Offset, Count bytes).
	// Informational (Loss false) unless it hides buffers the logfile
	// header says were written.
	IssueFill IssueKind = "fill"
)

// MaxIssues bounds the issues an Integrity keeps. Totals count every
// issue.
const MaxIssues = 100

// Issue is one integrity finding.
type Issue struct {
	Kind    IssueKind `json:"kind"`
	Offset  int64     `json:"offset"`          // file byte offset, -1 when not tied to a place
	Count   int64     `json:"count,omitempty"` // bytes, events or buffers, by kind
	Loss    bool      `json:"loss"`            // data that was written is missing or unreadable
	Message string    `json:"message"`         // what was found, naming the offset in hex
}

// Integrity is what a File knows about the completeness of its data: the
// findings of Open (logfile header counters, buffer headers, truncation,
// wrap, fill) and those of the iterations so far (undecompressable
// buffers, damaged records).
type Integrity struct {
	Issues      []Issue             `json:"issues"`                 // in the order found, at most MaxIssues
	Omitted     int                 `json:"omitted,omitempty"`      // issues beyond MaxIssues
	LossOmitted int                 `json:"loss_omitted,omitempty"` // of which with Loss
	Totals      map[IssueKind]int64 `json:"totals,omitempty"`       // per kind: sum of Count, or 1 for an issue without one; never capped
}

// Complete reports whether no finding says data was lost.
func (in Integrity) Complete() bool {
	if in.LossOmitted > 0 {
		return false
	}
	for _, is := range in.Issues {
		if is.Loss {
			return false
		}
	}
	return true
}

// Add records an issue, keeping at most MaxIssues (Totals count them all).
func (in *Integrity) Add(is Issue) {
	if in.Totals == nil {
		in.Totals = map[IssueKind]int64{}
	}
	n := is.Count
	if n <= 0 {
		n = 1
	}
	in.Totals[is.Kind] += n
	if len(in.Issues) >= MaxIssues {
		in.Omitted++
		if is.Loss {
			in.LossOmitted++
		}
		return
	}
	in.Issues = append(in.Issues, is)
}

// merge appends the findings of o to in.
func (in *Integrity) merge(o *Integrity) {
	for _, is := range o.Issues {
		if len(in.Issues) < MaxIssues {
			in.Issues = append(in.Issues, is)
			continue
		}
		in.Omitted++
		if is.Loss {
			in.LossOmitted++
		}
	}
	in.Omitted += o.Omitted
	in.LossOmitted += o.LossOmitted
	if len(o.Totals) > 0 && in.Totals == nil {
		in.Totals = map[IssueKind]int64{}
	}
	for k, v := range o.Totals {
		in.Totals[k] += v
	}
}

// clone returns a deep copy.
func (in *Integrity) clone() Integrity {
	c := *in
	c.Issues = slices.Clone(in.Issues)
	if c.Issues == nil {
		c.Issues = []Issue{}
	}
	c.Totals = maps.Clone(in.Totals)
	return c
}

// pass collects the findings of one iteration (Events). Iterations find
// the same problems again, so File.Integrity reports the findings of the
// pass that got furthest rather than adding passes up.
type pass struct {
	found    Integrity
	progress int64 // bytes of buffers loaded
	onIssue  func(Issue)
	prefetch Prefetch
	records  int64 // records yielded and not yet added to File.records
	noTimes  bool  // ReadOptions.NoTimes
}

// Integrity returns a copy of the findings so far: those of Open, which
// cover the logfile header counters (EventsLost, BuffersLost), buffer
// headers and flags, truncation, a wrapped circular file and fill regions,
// plus those of the iteration over Events that read furthest (buffers that
// do not decompress, damaged records).
func (f *File) Integrity() Integrity {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.opened.clone()
	if f.best != nil {
		out.merge(&f.best.found)
	}
	return out
}

// OpenIntegrity returns a copy of the findings of Open alone: what the
// logfile header and the buffer headers say. A reader that collects the
// findings of its own iteration (OnIssue) adds them to it.
func (f *File) OpenIntegrity() Integrity {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.opened.clone()
}

// startPass begins the findings of a new iteration.
func (f *File) startPass(opts ReadOptions) *pass {
	return &pass{onIssue: opts.OnIssue, prefetch: opts.Prefetch, noTimes: opts.NoTimes}
}

// report records an issue found by iteration p and passes it to the
// iteration's callback.
func (f *File) report(p *pass, is Issue) {
	f.mu.Lock()
	p.found.Add(is)
	f.stats.Warnings++
	f.promote(p)
	f.mu.Unlock()
	if p.onIssue != nil {
		p.onIssue(is)
	}
}

// advanced notes that iteration p has loaded n more bytes of buffers.
func (f *File) advanced(p *pass, n int64) {
	f.mu.Lock()
	p.progress += n
	f.promote(p)
	f.mu.Unlock()
}

// promote makes p the pass reported by Integrity when it got at least as
// far as the best one. f.mu is held.
func (f *File) promote(p *pass) {
	if f.best == nil || f.best == p || p.progress >= f.best.progress {
		f.best = p
	}
}

// inspect walks the buffer headers once at Open and records what they and
// the logfile header say about the file's completeness.
func (f *File) inspect() error {
	h := &f.hdr
	f.jumps = map[int64]gap{}
	var in Integrity
	// The logfile header's own counters are not tied to a place in the
	// file (Offset -1).
	if h.EventsLost > 0 {
		in.Add(Issue{Kind: IssueLostEvents, Offset: -1, Count: int64(h.EventsLost), Loss: true,
			Message: fmt.Sprintf("ETW lost %d events while tracing (logfile header)", h.EventsLost)})
	}
	if h.BuffersLost > 0 {
		in.Add(Issue{Kind: IssueLostBuffers, Offset: -1, Count: int64(h.BuffersLost), Loss: true,
			Message: fmt.Sprintf("ETW lost %d buffers while tracing (logfile header)", h.BuffersLost)})
	}

	circular := h.LogFileMode&ModeFileCircular != 0
	type cpuState struct{ seq, ts int64 }
	cpus := map[uint16]cpuState{}
	var (
		found     int64 // buffers, the header buffer and damaged ones included
		fills     []int // indexes of fill issues in in.Issues (Loss decided at the end)
		lastFlush bool
		wrapAt    = int64(-1)
		minSeq    = int64(-1)
		minSeqOff int64
		zeroSeq   bool
		midFill   []bool
	)
	f.walked = make([]walkStep, 0, min(maxWalked, f.size/int64(max(f.hdr.BufferSize, minBufferSize))+4))
	err := f.walk(func(bi BufferInfo, g *gap) bool {
		f.record(bi, g)
		if g != nil {
			switch {
			case g.short && g.damaged():
				in.Add(Issue{Kind: IssueTruncated, Offset: g.off, Loss: true,
					Message: fmt.Sprintf("the file ends at %#x with %d bytes, too few for a buffer header", f.size, g.next-g.off)})
				return true
			case g.damaged():
				found += f.slots(g.fill - g.off)
				in.Add(Issue{Kind: IssueDamagedBuffer, Offset: g.off, Loss: true,
					Message: fmt.Sprintf("invalid buffer header at %#x: %s", g.off, g.problem)})
				msg := fmt.Sprintf("skipped %d bytes from %#x to the next buffer at %#x", g.fill-g.off, g.off, g.fill)
				if g.end && g.fill == g.next {
					msg = fmt.Sprintf("skipped %d bytes from %#x to the end of the file: no further buffer found", g.fill-g.off, g.off)
				}
				in.Add(Issue{Kind: IssueSkippedBytes, Offset: g.off, Count: g.fill - g.off, Loss: true, Message: msg})
			}
			if g.fill < g.next {
				fills = append(fills, len(in.Issues))
				midFill = append(midFill, !g.end)
				where := fmt.Sprintf("up to the next buffer at %#x", g.next)
				if g.end {
					where = "up to the end of the file"
				}
				in.Add(Issue{Kind: IssueFill, Offset: g.fill, Count: g.next - g.fill,
					Message: fmt.Sprintf("%d bytes of fill at %#x %s", g.next-g.fill, g.fill, where)})
			}
			return true
		}
		found++
		lastFlush = bi.Flags&BufferFlagFlushMarker != 0
		if end := bi.Offset + int64(bi.Size); end > f.size {
			in.Add(Issue{Kind: IssueTruncated, Offset: bi.Offset, Loss: true,
				Message: fmt.Sprintf("the file ends inside buffer %d at %#x: %d of its %d bytes are present", bi.Index, bi.Offset, f.size-bi.Offset, bi.Size)})
		}
		if bi.Index == 0 {
			return true
		}
		if bi.Flags&BufferFlagEventsLost != 0 {
			in.Add(Issue{Kind: IssueLostEvents, Offset: bi.Offset, Loss: true,
				Message: fmt.Sprintf("buffer %d at %#x is flagged: events were lost before it", bi.Index, bi.Offset)})
		}
		if bi.Flags&BufferFlagBufferLost != 0 {
			in.Add(Issue{Kind: IssueLostBuffers, Offset: bi.Offset, Loss: true,
				Message: fmt.Sprintf("buffer %d at %#x is flagged: buffers were lost before it", bi.Index, bi.Offset)})
		}
		if bi.Sequence == 0 {
			zeroSeq = true
		} else if minSeq < 0 || bi.Sequence < minSeq {
			minSeq, minSeqOff = bi.Sequence, bi.Offset
		}
		if prev, ok := cpus[bi.CPU]; ok && wrapAt < 0 {
			older := bi.Timestamp < prev.ts
			if bi.Sequence != 0 && prev.seq != 0 {
				older = bi.Sequence < prev.seq
			}
			if older {
				wrapAt = bi.Offset
			}
		}
		cpus[bi.CPU] = cpuState{seq: bi.Sequence, ts: bi.Timestamp}
		return true
	})
	if err != nil {
		return err
	}

	bw := int64(h.BuffersWritten)
	f.wrapped = circular && (wrapAt >= 0 || bw > found && minSeq > 1 && !zeroSeq)
	missing := false
	switch {
	case f.wrapped:
		if wrapAt < 0 {
			wrapAt = minSeqOff
		}
		in.Add(Issue{Kind: IssueWrapped, Offset: wrapAt, Loss: true,
			Message: fmt.Sprintf("the circular file wrapped: its oldest events were overwritten; the oldest buffer left is at %#x", wrapAt)})
	case bw > found:
		missing = true
		in.Add(Issue{Kind: IssueTruncated, Offset: f.size, Loss: true,
			Message: fmt.Sprintf("the logfile header says %d buffers were written but the file (%#x bytes) holds %d: %d missing", bw, f.size, found, bw-found)})
	case bw > 0 && bw < found && !lastFlush:
		in.Add(Issue{Kind: IssueTruncated, Offset: f.size, Loss: true,
			Message: fmt.Sprintf("the logfile header counts %d buffers, the file holds %d and its last buffer has no flush marker: the session was not stopped when the file was copied, or the file is cut at %#x", bw, found, f.size)})
	}
	for i, k := range fills {
		if !missing && (!midFill[i] || bw == found) {
			continue
		}
		if k >= len(in.Issues) {
			in.LossOmitted++
			continue
		}
		in.Issues[k].Loss = true
		in.Issues[k].Message += ": it hides buffers the logfile header counts"
	}
	f.opened = in
	return nil
}

// slots estimates how many buffers a damaged region of n bytes held.
func (f *File) slots(n int64) int64 {
	if f.stride == 0 {
		return 1
	}
	return max(1, (n+int64(f.stride)/2)/int64(f.stride))
}

// KindNames lists the kinds of the issues in words ("truncated", "lost
// events"), each once, in the order found; with lossOnly only the kinds of
// issues that lost data.
func (in *Integrity) KindNames(lossOnly bool) []string {
	var names []string
	seen := map[IssueKind]bool{}
	for _, is := range in.Issues {
		if (is.Loss || !lossOnly) && !seen[is.Kind] {
			seen[is.Kind] = true
			names = append(names, strings.ReplaceAll(string(is.Kind), "_", " "))
		}
	}
	return names
}
