package report

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"strings"
)

// Table is a titled grid of strings: the common shape of everything the CLI
// prints as a list (providers, events, conversations, verdicts).
type Table struct {
	Title   string
	Columns []string
	Rows    [][]string
	// Shape says which columns a terminal table drops first and which it
	// never shortens when it does not fit the width.
	Shape Shape
}

// Add appends one row; missing cells are rendered empty.
func (t *Table) Add(cells ...string) { t.Rows = append(t.Rows, cells) }

// Render writes the table in format f with the default Options. JSON renders
// an array of objects keyed by column name; HTML renders a fragment (a
// <table>).
func (t *Table) Render(w io.Writer, f Format) error { return t.RenderOpts(w, f, Options{}) }

// RenderOpts writes the table in format f; o sets the width of a terminal
// table.
func (t *Table) RenderOpts(w io.Writer, f Format, o Options) error {
	rw, err := NewTableWriter(w, f, t.Title, t.Columns, t.Shape, o)
	if err != nil {
		return err
	}
	for _, r := range t.Rows {
		if err := rw.Write(r); err != nil {
			return err
		}
	}
	return rw.Close()
}

// RowWriter streams rows in one output format, so that long listings (events)
// never hold the whole result in memory. A terminal table fixes its column
// widths from the first LookAhead rows and the width it must fit in, then
// writes every row as it comes.
type RowWriter interface {
	Write(cells []string) error
	Close() error
}

// LookAhead is how many rows a terminal table reads before it fixes its
// column widths and starts writing.
const LookAhead = 100

// NewRowWriter returns a RowWriter for format f writing to w, with the
// default Options.
func NewRowWriter(w io.Writer, f Format, title string, columns []string) (RowWriter, error) {
	return NewTableWriter(w, f, title, columns, Shape{}, Options{})
}

// NewTableWriter returns a RowWriter for format f writing to w; sh and o
// shape a terminal table.
func NewTableWriter(w io.Writer, f Format, title string, columns []string, sh Shape, o Options) (RowWriter, error) {
	switch f {
	case FormatTable, "":
		return &textRows{w: w, title: title, columns: columns, shape: sh, opts: o}, nil
	case FormatCSV:
		c := &csvRows{w: bufio.NewWriter(w), n: len(columns)}
		if err := c.Write(columns); err != nil {
			return nil, fmt.Errorf("write csv header: %w", err)
		}
		return c, nil
	case FormatJSON:
		return &jsonRows{w: w, columns: columns}, nil
	case FormatMarkdown:
		return newMarkdownRows(w, title, columns)
	case FormatHTML:
		return newHTMLRows(w, title, columns)
	}
	return nil, fmt.Errorf("unknown output format %q", f)
}

func pad(cells []string, n int) []string {
	if len(cells) >= n {
		return cells[:n]
	}
	out := make([]string, n)
	copy(out, cells)
	return out
}

// textRows renders a terminal table: upper-case headers, columns separated
// by two spaces, cells shortened with "…" to fit the width.
type textRows struct {
	w       io.Writer
	title   string
	columns []string
	shape   Shape
	opts    Options
	pending [][]string // the look-ahead, until the widths are fixed
	keep    []bool
	widths  []int
	started bool
	line    strings.Builder
	buf     []byte
}

func (t *textRows) WriteRow(r *Row) error {
	if t.started && !(t.shape.Wrap && !t.opts.Wide) {
		return t.appendRow(r)
	}
	cells := make([]string, len(t.columns))
	for i := range cells {
		cells[i] = cellLine(string(r.cellOrEmpty(i)))
	}
	return t.add(cells)
}

func (t *textRows) Write(cells []string) error {
	line := make([]string, len(t.columns))
	for i, c := range pad(cells, len(t.columns)) {
		line[i] = cellLine(c)
	}
	return t.add(line)
}

// add writes one row of single-line cells, or keeps it until the widths
// are fixed.
func (t *textRows) add(cells []string) error {
	if !t.started {
		t.pending = append(t.pending, cells)
		if len(t.pending) < LookAhead {
			return nil
		}
		return t.start()
	}
	return t.row(cells)
}

// start fixes the column widths from the look-ahead, writes the title and
// header and the rows read so far.
func (t *textRows) start() error {
	t.started = true
	natural := make([]int, len(t.columns))
	for i, c := range t.columns {
		natural[i] = textWidth(c)
	}
	for _, r := range t.pending {
		for i, c := range r {
			natural[i] = max(natural[i], textWidth(c))
		}
	}
	t.keep, t.widths = fitColumns(t.columns, natural, t.shape, t.opts)
	if t.title != "" {
		if _, err := fmt.Fprintln(t.w, t.title); err != nil {
			return err
		}
	}
	hdr := make([]string, len(t.columns))
	for i, c := range t.columns {
		hdr[i] = strings.ToUpper(c)
	}
	if err := t.row(hdr); err != nil {
		return err
	}
	for _, r := range t.pending {
		if err := t.row(r); err != nil {
			return err
		}
	}
	t.pending = nil
	return nil
}

func (t *textRows) row(cells []string) error {
	last := len(cells) - 1
	for last >= 0 && !t.keep[last] {
		last--
	}
	// With Wrap, a cell wider than its column continues on more lines.
	parts := make([][]string, len(cells))
	lines := 1
	for i, c := range cells {
		parts[i] = []string{c}
		if t.keep[i] && t.shape.Wrap && !t.opts.Wide {
			parts[i] = wrapCell(c, t.widths[i])
			lines = max(lines, len(parts[i]))
		}
	}
	for l := 0; l < lines; l++ {
		t.line.Reset()
		first := true
		for i := range cells {
			if !t.keep[i] {
				continue
			}
			if !first {
				t.line.WriteString(colSep)
			}
			first = false
			c := ""
			if l < len(parts[i]) {
				c = parts[i][l]
			}
			t.line.WriteString(fitCell(c, t.widths[i], i == last, t.opts.Wide))
		}
		if _, err := io.WriteString(t.w, strings.TrimRight(t.line.String(), " ")+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// appendRow writes r as row writes its cells once the widths are fixed
// (without wrapping), without a string per cell: printable ASCII cells,
// the common case, are cut and padded in place, others go through
// cellLine and fitCell.
func (t *textRows) appendRow(r *Row) error {
	last := len(t.columns) - 1
	for last >= 0 && !t.keep[last] {
		last--
	}
	b := t.buf[:0]
	first := true
	for i := range t.columns {
		if !t.keep[i] {
			continue
		}
		if !first {
			b = append(b, colSep...)
		}
		first = false
		c, w := r.cellOrEmpty(i), t.widths[i]
		if !printableASCII(c) {
			b = append(b, fitCell(cellLine(string(c)), w, i == last, t.opts.Wide)...)
			continue
		}
		switch {
		case len(c) > w && !t.opts.Wide:
			b = append(append(b, c[:max(w-1, 0)]...), "…"...)
		default:
			b = append(b, c...)
			if i != last {
				for range w - len(c) {
					b = append(b, ' ')
				}
			}
		}
	}
	for len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	t.buf = append(b, '\n')
	_, err := t.w.Write(t.buf)
	return err
}

// printableASCII reports whether b is printable ASCII only: one column a
// byte, nothing cellLine changes.
func printableASCII(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

func (t *textRows) Close() error {
	if !t.started {
		return t.start()
	}
	return nil
}

// csvRows writes what encoding/csv's Writer writes, buffered as it is.
type csvRows struct {
	w   *bufio.Writer
	n   int
	buf []byte
}

func (c *csvRows) Write(cells []string) error {
	c.buf = c.buf[:0]
	for i := range c.n {
		if i > 0 {
			c.buf = append(c.buf, ',')
		}
		if i < len(cells) {
			c.buf = AppendCSVField(c.buf, cells[i])
		}
	}
	_, err := c.w.Write(append(c.buf, '\n'))
	return err
}

func (c *csvRows) WriteRow(r *Row) error {
	c.buf = c.buf[:0]
	for i := range c.n {
		if i > 0 {
			c.buf = append(c.buf, ',')
		}
		c.buf = AppendCSVField(c.buf, r.cellOrEmpty(i))
	}
	_, err := c.w.Write(append(c.buf, '\n'))
	return err
}

func (c *csvRows) Close() error { return c.w.Flush() }

// jsonRows streams a JSON array of objects, one per row, keys in column order.
type jsonRows struct {
	w       io.Writer
	columns []string
	n       int
	buf     []byte
}

func (j *jsonRows) WriteRow(r *Row) error { return j.Write(r.Strings()) }

func (j *jsonRows) Write(cells []string) error {
	cells = pad(cells, len(j.columns))
	j.buf = j.buf[:0]
	if j.n == 0 {
		j.buf = append(j.buf, "[\n  {"...)
	} else {
		j.buf = append(j.buf, ",\n  {"...)
	}
	for i, c := range j.columns {
		if i > 0 {
			j.buf = append(j.buf, ", "...)
		}
		j.buf = AppendJSONString(j.buf, c)
		j.buf = append(j.buf, ": "...)
		j.buf = AppendJSONString(j.buf, cells[i])
	}
	j.buf = append(j.buf, '}')
	j.n++
	_, err := j.w.Write(j.buf)
	return err
}

func (j *jsonRows) Close() error {
	end := "\n]\n"
	if j.n == 0 {
		end = "[]\n"
	}
	_, err := io.WriteString(j.w, end)
	return err
}

// MarkdownEscape makes s safe inside a Markdown table cell: pipes and
// backslashes are escaped, newlines become <br>, and HTML-significant
// characters are entity-encoded so that cell text is never taken as markup.
func MarkdownEscape(s string) string { return string(appendMarkdown(nil, s)) }

type markdownRows struct {
	w   io.Writer
	n   int
	buf []byte
}

func newMarkdownRows(w io.Writer, title string, columns []string) (*markdownRows, error) {
	var b strings.Builder
	if title != "" {
		fmt.Fprintf(&b, "### %s\n\n", MarkdownEscape(title))
	}
	b.WriteString("|")
	for _, c := range columns {
		b.WriteString(" " + MarkdownEscape(c) + " |")
	}
	b.WriteString("\n|")
	for range columns {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return &markdownRows{w: w, n: len(columns)}, err
}

func (m *markdownRows) Write(cells []string) error {
	m.buf = append(m.buf[:0], '|')
	for _, c := range pad(cells, m.n) {
		m.buf = append(appendMarkdown(append(m.buf, ' '), c), " |"...)
	}
	_, err := m.w.Write(append(m.buf, '\n'))
	return err
}

func (m *markdownRows) WriteRow(r *Row) error {
	m.buf = append(m.buf[:0], '|')
	for i := range m.n {
		m.buf = append(appendMarkdown(append(m.buf, ' '), r.cellOrEmpty(i)), " |"...)
	}
	_, err := m.w.Write(append(m.buf, '\n'))
	return err
}

func (m *markdownRows) Close() error { return nil }

// htmlRows renders an HTML <table> fragment. Every cell is escaped.
type htmlRows struct {
	w   io.Writer
	n   int
	buf []byte
}

func newHTMLRows(w io.Writer, title string, columns []string) (*htmlRows, error) {
	var b strings.Builder
	b.WriteString("<table>\n")
	if title != "" {
		fmt.Fprintf(&b, "<caption>%s</caption>\n", html.EscapeString(title))
	}
	b.WriteString("<thead><tr>")
	for _, c := range columns {
		fmt.Fprintf(&b, "<th>%s</th>", html.EscapeString(c))
	}
	b.WriteString("</tr></thead>\n<tbody>\n")
	_, err := io.WriteString(w, b.String())
	return &htmlRows{w: w, n: len(columns)}, err
}

func (h *htmlRows) Write(cells []string) error {
	h.buf = append(h.buf[:0], "<tr>"...)
	for _, c := range pad(cells, h.n) {
		h.buf = append(appendHTML(append(h.buf, "<td>"...), c), "</td>"...)
	}
	_, err := h.w.Write(append(h.buf, "</tr>\n"...))
	return err
}

func (h *htmlRows) WriteRow(r *Row) error {
	h.buf = append(h.buf[:0], "<tr>"...)
	for i := range h.n {
		h.buf = append(appendHTML(append(h.buf, "<td>"...), r.cellOrEmpty(i)), "</td>"...)
	}
	_, err := h.w.Write(append(h.buf, "</tr>\n"...))
	return err
}

func (h *htmlRows) Close() error {
	_, err := io.WriteString(h.w, "</tbody>\n</table>\n")
	return err
}
