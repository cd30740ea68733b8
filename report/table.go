package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// Table is a titled grid of strings: the common shape of everything the CLI
// prints as a list (providers, events, conversations, verdicts).
type Table struct {
	Title   string
	Columns []string
	Rows    [][]string
}

// Add appends one row; missing cells are rendered empty.
func (t *Table) Add(cells ...string) { t.Rows = append(t.Rows, cells) }

// Render writes the table in format f. JSON renders an array of objects keyed
// by column name; HTML renders a fragment (a <table>), see Document for a
// whole page.
func (t *Table) Render(w io.Writer, f Format) error {
	rw, err := NewRowWriter(w, f, t.Title, t.Columns)
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
// never hold the whole result in memory. For FormatTable the rows are kept
// until Close because column widths depend on all rows; callers that stream
// millions of rows should use another format or a limit.
type RowWriter interface {
	Write(cells []string) error
	Close() error
}

// NewRowWriter returns a RowWriter for format f writing to w.
func NewRowWriter(w io.Writer, f Format, title string, columns []string) (RowWriter, error) {
	switch f {
	case FormatTable, "":
		return &textRows{w: w, title: title, columns: columns}, nil
	case FormatCSV:
		cw := csv.NewWriter(w)
		if err := cw.Write(columns); err != nil {
			return nil, fmt.Errorf("write csv header: %w", err)
		}
		return &csvRows{cw: cw, n: len(columns)}, nil
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

// textRows renders a terminal table with tablewriter.
type textRows struct {
	w       io.Writer
	title   string
	columns []string
	rows    [][]string
}

func (t *textRows) Write(cells []string) error {
	t.rows = append(t.rows, pad(cells, len(t.columns)))
	return nil
}

func (t *textRows) Close() error {
	if t.title != "" {
		if _, err := fmt.Fprintln(t.w, t.title); err != nil {
			return err
		}
	}
	tbl := tablewriter.NewTable(t.w,
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithRowAlignment(tw.AlignLeft),
	)
	hdr := make([]any, len(t.columns))
	for i, c := range t.columns {
		hdr[i] = c
	}
	tbl.Header(hdr...)
	if err := tbl.Bulk(t.rows); err != nil {
		return fmt.Errorf("render table: %w", err)
	}
	if err := tbl.Render(); err != nil {
		return fmt.Errorf("render table: %w", err)
	}
	return nil
}

type csvRows struct {
	cw *csv.Writer
	n  int
}

func (c *csvRows) Write(cells []string) error { return c.cw.Write(pad(cells, c.n)) }
func (c *csvRows) Close() error {
	c.cw.Flush()
	return c.cw.Error()
}

// jsonRows streams a JSON array of objects, one per row, keys in column order.
type jsonRows struct {
	w       io.Writer
	columns []string
	n       int
	buf     []byte
}

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
		j.buf = appendJSONString(j.buf, c)
		j.buf = append(j.buf, ": "...)
		j.buf = appendJSONString(j.buf, cells[i])
	}
	j.buf = append(j.buf, '}')
	j.n++
	_, err := j.w.Write(j.buf)
	return err
}

// appendJSONString appends s as a JSON string without HTML escaping, so that
// "<" and "&" stay readable in ticket attachments.
func appendJSONString(dst []byte, s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return append(dst, bytes.TrimRight(b.Bytes(), "\n")...)
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
func MarkdownEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '|':
			b.WriteString(`\|`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString("<br>")
		case '\r':
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

type markdownRows struct {
	w io.Writer
	n int
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
	var b strings.Builder
	b.WriteString("|")
	for _, c := range pad(cells, m.n) {
		b.WriteString(" " + MarkdownEscape(c) + " |")
	}
	b.WriteString("\n")
	_, err := io.WriteString(m.w, b.String())
	return err
}

func (m *markdownRows) Close() error { return nil }

// htmlRows renders an HTML <table> fragment. Every cell is escaped.
type htmlRows struct {
	w io.Writer
	n int
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
	var b strings.Builder
	b.WriteString("<tr>")
	for _, c := range pad(cells, h.n) {
		fmt.Fprintf(&b, "<td>%s</td>", html.EscapeString(c))
	}
	b.WriteString("</tr>\n")
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *htmlRows) Close() error {
	_, err := io.WriteString(h.w, "</tbody>\n</table>\n")
	return err
}
