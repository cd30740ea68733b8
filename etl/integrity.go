package etl

// IssueKind names a kind of integrity finding.
type IssueKind string

// Integrity finding kinds.
const (
	IssueTruncated     IssueKind = "truncated"      // the file ends before its last buffer, or holds fewer buffers than the header says were written
	IssueDamagedBuffer IssueKind = "damaged_buffer" // an invalid buffer header or an undecompressable buffer
	IssueSkippedBytes  IssueKind = "skipped_bytes"  // bytes passed over while resynchronising
	IssueDamagedRecord IssueKind = "damaged_record" // an invalid record inside a buffer, resynchronised at the next valid one
	IssueLostEvents    IssueKind = "lost_events"    // events ETW could not write (header EventsLost, buffer flags)
	IssueLostBuffers   IssueKind = "lost_buffers"   // buffers ETW could not write (header BuffersLost, buffer flags)
	IssueWrapped       IssueKind = "wrapped"        // a circular file that wrapped: the oldest events were overwritten
	IssueFill          IssueKind = "fill"           // a region of zero or 0xFF fill
)

// Issue is one integrity finding.
type Issue struct {
	Kind    IssueKind `json:"kind"`
	Offset  int64     `json:"offset"` // file byte offset, -1 when not tied to a place
	Count   int64     `json:"count,omitempty"`
	Loss    bool      `json:"loss"` // data that was written is missing or unreadable
	Message string    `json:"message"`
}

// MaxIssues bounds the issues an Integrity keeps; Totals counts them all.
const MaxIssues = 100

// Integrity is what the reader found wrong with a file.
type Integrity struct {
	Issues  []Issue             `json:"issues"`
	Omitted int                 `json:"omitted,omitempty"`
	Totals  map[IssueKind]int64 `json:"totals,omitempty"`
}

// Complete reports whether no issue lost data.
func (in *Integrity) Complete() bool {
	for _, is := range in.Issues {
		if is.Loss {
			return false
		}
	}
	return in.Omitted == 0 || !in.anyLossOmitted()
}

// anyLossOmitted is conservative: omitted issues are not kept, so a file
// with more issues than MaxIssues counts as incomplete when any kept issue
// lost data (checked above) or when Totals holds a loss kind.
func (in *Integrity) anyLossOmitted() bool {
	for k, n := range in.Totals {
		if n > 0 && k != IssueFill {
			return true
		}
	}
	return false
}

// Add records an issue, keeping at most MaxIssues.
func (in *Integrity) Add(is Issue) {
	if in.Totals == nil {
		in.Totals = map[IssueKind]int64{}
	}
	n := is.Count
	if n == 0 {
		n = 1
	}
	in.Totals[is.Kind] += n
	if len(in.Issues) < MaxIssues {
		in.Issues = append(in.Issues, is)
	} else {
		in.Omitted++
	}
}
