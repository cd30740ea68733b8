package report

import (
	"strings"
	"time"

	"github.com/mattn/go-runewidth"
)

// DefaultWidth is the width of terminal tables when the output is not a
// terminal and $COLUMNS is not set.
const DefaultWidth = 80

// Options control how the human-readable formats render.
type Options struct {
	// Width is the width terminal tables must fit in; 0 means DefaultWidth.
	Width int
	// Wide prints every column and every cell in full, whatever the width.
	Wide bool
	// Loc is the time zone times are shown in; nil means UTC.
	Loc *time.Location
}

func (o Options) width() int {
	if o.Width <= 0 {
		return DefaultWidth
	}
	return o.Width
}

// TimeLayout is the one time format of etlscope's tables: RFC 3339 with
// the trace's 100 ns resolution ("2024-03-12T09:30:00.0160000Z"; an offset
// instead of Z in another time zone).
const TimeLayout = "2006-01-02T15:04:05.0000000Z07:00"

// FormatTime renders t in TimeLayout, in UTC unless loc is set; the zero
// time is "".
func FormatTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format(TimeLayout)
}

// colSep separates the columns of a terminal table.
const colSep = "  "

// minCellWidth is the narrowest a column is shortened to (its header and
// natural width permitting).
const minCellWidth = 16

// Shape says which columns of a terminal table matter least and which
// must not be shortened.
type Shape struct {
	// Drop names the columns left out first when the table does not fit,
	// least important first.
	Drop []string
	// Fixed names the columns never shortened (times, ids).
	Fixed []string
	// Last names the columns shortened only when the others are at their
	// minimum (an event's description).
	Last []string
	// Wrap continues long cells on the next lines instead of shortening
	// them with "…" (for short tables whose every word matters).
	Wrap bool
}

func has(names []string, s string) bool {
	for _, n := range names {
		if strings.EqualFold(n, s) {
			return true
		}
	}
	return false
}

// fitColumns decides the columns of a terminal table of the given natural
// widths: which to show (keep) and how wide (widths). Columns in Drop go
// first, in that order, while the table does not fit; then the
// widest columns that are not Fixed are shortened, down to their minimum.
func fitColumns(headers []string, natural []int, sh Shape, o Options) (keep []bool, widths []int) {
	n := len(headers)
	keep = make([]bool, n)
	widths = append([]int(nil), natural...)
	mins := make([]int, n)
	for i := range keep {
		keep[i] = true
		mins[i] = min(natural[i], max(textWidth(headers[i]), minCellWidth))
		if has(sh.Fixed, headers[i]) {
			mins[i] = natural[i]
		}
	}
	if o.Wide {
		return keep, widths
	}
	total := func(ws []int) int {
		t, cols := 0, 0
		for i, w := range ws {
			if keep[i] {
				t += w
				cols++
			}
		}
		return t + len(colSep)*max(cols-1, 0)
	}
	limit := o.width()
	for _, name := range sh.Drop {
		if total(widths) <= limit {
			break
		}
		for i, h := range headers {
			if strings.EqualFold(h, name) && keep[i] {
				keep[i] = false
			}
		}
	}
	for total(widths) > limit {
		widest := -1
		for pass := 0; pass < 2 && widest < 0; pass++ {
			for i := range widths {
				if has(sh.Last, headers[i]) != (pass == 1) {
					continue
				}
				if keep[i] && widths[i] > mins[i] && (widest < 0 || widths[i] > widths[widest]) {
					widest = i
				}
			}
		}
		if widest < 0 {
			break // everything at its minimum: let it overflow
		}
		widths[widest]--
	}
	return keep, widths
}

// isASCII reports whether s is plain ASCII (one column per byte).
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// textWidth is the width of s in terminal columns; plain ASCII, the
// common case, is measured without decoding runes.
func textWidth(s string) int {
	if isASCII(s) {
		return len(s)
	}
	return runewidth.StringWidth(s)
}

// cellLine puts a cell on one line: newlines, tabs and other control
// characters (an escape sequence in a trace must not drive the terminal)
// become spaces.
func cellLine(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return strings.Map(func(r rune) rune {
				if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
					return ' '
				}
				return r
			}, strings.ReplaceAll(s, "\r\n", " "))
		}
	}
	return s
}

// fitCell shortens s to width w with an ellipsis and pads it to w (unless
// last, which is not padded).
func fitCell(s string, w int, last, wide bool) string {
	sw := textWidth(s)
	if sw > w && !wide {
		if isASCII(s) {
			s = s[:max(w-1, 0)] + "…"
		} else {
			s = runewidth.Truncate(s, w, "…")
		}
		sw = textWidth(s)
	}
	if last || sw >= w {
		return s
	}
	return s + strings.Repeat(" ", w-sw)
}

// wrapCell splits s into lines of at most w columns, at spaces where it
// can.
func wrapCell(s string, w int) []string {
	if w <= 0 || runewidth.StringWidth(s) <= w {
		return []string{s}
	}
	var lines []string
	var cur strings.Builder
	curW := 0
	flush := func() {
		lines = append(lines, strings.TrimRight(cur.String(), " "))
		cur.Reset()
		curW = 0
	}
	for _, word := range strings.SplitAfter(s, " ") {
		ww := runewidth.StringWidth(word)
		if curW > 0 && curW+runewidth.StringWidth(strings.TrimRight(word, " ")) > w {
			flush()
		}
		for ww > w { // a word longer than the column: split it
			head := runewidth.Truncate(word, w, "")
			if head == "" {
				break
			}
			if curW > 0 {
				flush()
			}
			lines = append(lines, head)
			word = word[len(head):]
			ww = runewidth.StringWidth(word)
		}
		if curW == 0 {
			word = strings.TrimLeft(word, " ")
			ww = runewidth.StringWidth(word)
		}
		cur.WriteString(word)
		curW += ww
	}
	if cur.Len() > 0 || len(lines) == 0 {
		flush()
	}
	return lines
}
