package report

import (
	"bytes"
	"time"
	"unicode"
	"unicode/utf8"
)

// Writers of long listings (events) build each row in one reused buffer
// and escape it per format by appending, without a string per cell: at a
// few million rows the allocations and the reflection of encoding/json
// and encoding/csv cost more than reading the trace. The escapers write
// exactly what the standard encoders write for the same text.

// Row is one row of cells built in a reused buffer: Start returns the
// buffer to append a cell to, End records the cell appended.
//
//	r.Reset()
//	r.End(strconv.AppendInt(r.Start(), 42, 10))
//	r.AddString("text")
type Row struct {
	buf  []byte
	ends []int
}

// Reset empties the row, keeping its memory.
func (r *Row) Reset() { r.buf, r.ends = r.buf[:0], r.ends[:0] }

// Start returns the row's buffer; append the next cell to it and pass the
// result to End.
func (r *Row) Start() []byte { return r.buf }

// End records everything appended to the buffer Start returned as the next
// cell.
func (r *Row) End(b []byte) { r.buf, r.ends = b, append(r.ends, len(b)) }

// AddString adds a cell.
func (r *Row) AddString(s string) { r.End(append(r.buf, s...)) }

// Len is the number of cells.
func (r *Row) Len() int { return len(r.ends) }

// Cell returns cell i, valid until the row changes.
func (r *Row) Cell(i int) []byte {
	start := 0
	if i > 0 {
		start = r.ends[i-1]
	}
	return r.buf[start:r.ends[i]]
}

// Strings returns the cells as strings.
func (r *Row) Strings() []string {
	cells := make([]string, r.Len())
	for i := range cells {
		cells[i] = string(r.Cell(i))
	}
	return cells
}

// cellOrEmpty returns cell i, or nothing past the last cell (missing cells
// render empty, as in Write).
func (r *Row) cellOrEmpty(i int) []byte {
	if i < r.Len() {
		return r.Cell(i)
	}
	return nil
}

// rowAppender is a RowWriter that writes Rows without strings.
type rowAppender interface {
	WriteRow(r *Row) error
}

// WriteRow writes r with w: without a string per cell when w comes from
// NewTableWriter, else as w.Write(r.Strings()).
func WriteRow(w RowWriter, r *Row) error {
	if a, ok := w.(rowAppender); ok {
		return a.WriteRow(r)
	}
	return w.Write(r.Strings())
}

// appendTime appends t as FormatTime renders it.
func appendTime(dst []byte, t time.Time, loc *time.Location) []byte {
	if t.IsZero() {
		return dst
	}
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).AppendFormat(dst, TimeLayout)
}

// TimeAppender appends times as FormatTime renders them in Loc (nil:
// UTC), formatting the date and the zone only when the second changes:
// events come in time order, many to a second.
type TimeAppender struct {
	Loc  *time.Location
	sec  int64
	last []byte // the last second's text, whose fraction head and tail surround
	head int    // the end of "2006-01-02T15:04:05."
	ok   bool
}

// Append appends t as FormatTime(t, a.Loc) renders it.
func (a *TimeAppender) Append(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return dst
	}
	if sec := t.Unix(); !a.ok || sec != a.sec {
		a.last = appendTime(a.last[:0], t, a.Loc)
		a.head = bytes.IndexByte(a.last, '.') + 1
		if a.head == 0 || a.head+7 > len(a.last) {
			a.ok = false
			return append(dst, a.last...)
		}
		a.sec, a.ok = sec, true
	}
	dst = append(dst, a.last[:a.head]...)
	f := t.Nanosecond() / 100
	for div := 1000000; div > 0; div /= 10 {
		dst = append(dst, byte('0'+f/div%10))
	}
	return append(dst, a.last[a.head+7:]...)
}

const hexDigits = "0123456789abcdef"

// jsonSafe marks the ASCII bytes encoding/json copies into a string
// unescaped when it does not escape HTML: printable ASCII but '"' and '\'.
var jsonSafe = func() (safe [utf8.RuneSelf]bool) {
	for b := ' '; b < utf8.RuneSelf; b++ {
		safe[b] = b != '"' && b != '\\'
	}
	return safe
}()

// AppendJSONString appends s as a JSON string exactly as encoding/json
// writes it with SetEscapeHTML(false): '"' and '\' escaped, control
// characters as \b \f \n \r \t or \u00XX, invalid UTF-8 as \ufffd, U+2028
// and U+2029 as \u2028 and \u2029; '<', '>' and '&' stay readable.
func AppendJSONString[S ~string | ~[]byte](dst []byte, s S) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if jsonSafe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		c, size := decodeRune(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case c == '\u2028' || c == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(append(dst, s[start:]...), '"')
}

func decodeRune[S ~string | ~[]byte](s S) (rune, int) {
	var b [utf8.UTFMax]byte
	n := copy(b[:], s)
	return utf8.DecodeRune(b[:n])
}

// AppendCSVField appends s as one field of encoding/csv's Writer with its
// defaults (comma ',', LF line ends): quoted, with quotes doubled, when it
// holds a comma, a quote, CR or LF, starts with a space character or is
// `\.`; as it is otherwise.
func AppendCSVField[S ~string | ~[]byte](dst []byte, s S) []byte {
	if !csvNeedsQuotes(s) {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			dst = append(dst, s[start:i+1]...)
			dst = append(dst, '"')
			start = i + 1
		}
	}
	return append(append(dst, s[start:]...), '"')
}

func csvNeedsQuotes[S ~string | ~[]byte](s S) bool {
	if len(s) == 0 {
		return false
	}
	if len(s) == 2 && s[0] == '\\' && s[1] == '.' {
		return true
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\n', '\r', '"', ',':
			return true
		}
	}
	if s[0] < utf8.RuneSelf {
		return s[0] == ' ' || s[0] == '\t' || s[0] == '\v' || s[0] == '\f'
	}
	r, _ := decodeRune(s)
	return unicode.IsSpace(r)
}

// appendMarkdown appends s as MarkdownEscape returns it.
func appendMarkdown[S ~string | ~[]byte](dst []byte, s S) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		var rep string
		switch s[i] {
		case '|':
			rep = `\|`
		case '\\':
			rep = `\\`
		case '\n':
			rep = "<br>"
		case '\r':
			rep = ""
		case '<':
			rep = "&lt;"
		case '>':
			rep = "&gt;"
		case '&':
			rep = "&amp;"
		default:
			if s[i] < utf8.RuneSelf {
				continue
			}
			// MarkdownEscape writes invalid UTF-8 as U+FFFD.
			r, size := decodeRune(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size - 1
				continue
			}
			rep = "\uFFFD"
		}
		dst = append(dst, s[start:i]...)
		dst = append(dst, rep...)
		start = i + 1
	}
	return append(dst, s[start:]...)
}

// appendHTML appends s as html.EscapeString returns it.
func appendHTML[S ~string | ~[]byte](dst []byte, s S) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		var rep string
		switch s[i] {
		case '<':
			rep = "&lt;"
		case '>':
			rep = "&gt;"
		case '&':
			rep = "&amp;"
		case '\'':
			rep = "&#39;"
		case '"':
			rep = "&#34;"
		default:
			continue
		}
		dst = append(dst, s[start:i]...)
		dst = append(dst, rep...)
		start = i + 1
	}
	return append(dst, s[start:]...)
}
