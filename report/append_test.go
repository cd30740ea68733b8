package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"html"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// trickyStrings are the inputs the escapers must treat exactly as the
// standard encoders do: every control character, DEL, HTML-significant
// characters, quotes and backslashes, invalid UTF-8 (a lone continuation
// byte, a truncated sequence at the end, an encoded surrogate, an overlong
// form), U+2028/U+2029, leading spaces of several kinds (csv quotes a
// field that starts with any Unicode space), csv's `\.`, and long hex
// such as a packet fragment.
func trickyStrings() []string {
	s := []string{
		"", "plain", "a b", " leading space", "\tleading tab", "\vvt", "\ffeed",
		"\u00a0nbsp first", "\u0085nel first", "\u3000ideographic space", "x\u00a0nbsp inside",
		"\u2028", "a\u2028b\u2029c", "end\u2029",
		`<script>alert("&")</script>`, `"quoted"`, `back\slash`, `\.`, `\.x`, `\`, `"`,
		"comma,inside", "cr\rlf\nboth\r\n", "\x00nul", "\x7fdel", "pipe|bar",
		"\xff", "a\x80b", "trunc\xe2\x82", "\xed\xa0\x80surrogate", "\xc0\xafoverlong", "\xf4\x90\x80\x80 above max",
		"héllo wörld ☃ 😀", "→ 52.97.0.2:443", "it's", "a'b\"c",
		strings.Repeat("0123456789abcdef", 4096),
	}
	for b := 0; b < 256; b++ {
		s = append(s, string([]byte{byte(b)}), "x"+string([]byte{byte(b)})+"y")
	}
	// Random mixes of the characters that matter, from a fixed seed.
	parts := []string{"a", " ", "\"", "\\", ",", "\n", "\r", "\t", "\x01", "\x1f", "<", ">", "&", "'", "|",
		"\u2028", "\u2029", "é", "😀", "\xff", "\xe2\x82", "\u00a0", "0a"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(parts[r.IntN(len(parts))])
		}
		s = append(s, b.String())
	}
	return s
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range trickyStrings() {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		w := strings.TrimSuffix(want.String(), "\n")
		if got := string(AppendJSONString([]byte("pre"), s)); got != "pre"+w {
			t.Errorf("AppendJSONString(%q) = %q, want %q", s, got, "pre"+w)
		}
		if got := string(AppendJSONString(nil, []byte(s))); got != w {
			t.Errorf("AppendJSONString([]byte(%q)) = %q, want %q", s, got, w)
		}
	}
}

func TestAppendCSVField(t *testing.T) {
	for _, s := range trickyStrings() {
		var want bytes.Buffer
		cw := csv.NewWriter(&want)
		if err := cw.Write([]string{s, s}); err != nil {
			t.Fatal(err)
		}
		cw.Flush()
		var got []byte
		got = append(AppendCSVField(got, s), ',')
		got = append(AppendCSVField(got, []byte(s)), '\n')
		if string(got) != want.String() {
			t.Errorf("AppendCSVField(%q) = %q, want %q", s, got, want.String())
		}
	}
}

// markdownEscapeRef is MarkdownEscape as it was written before
// appendMarkdown (rune by rune, through a strings.Builder).
func markdownEscapeRef(s string) string {
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

func TestAppendMarkdownHTML(t *testing.T) {
	for _, s := range trickyStrings() {
		if got, want := string(appendMarkdown(nil, []byte(s))), markdownEscapeRef(s); got != want {
			t.Errorf("appendMarkdown(%q) = %q, want %q", s, got, want)
		}
		if got, want := MarkdownEscape(s), markdownEscapeRef(s); got != want {
			t.Errorf("MarkdownEscape(%q) = %q, want %q", s, got, want)
		}
		if got, want := string(appendHTML(nil, []byte(s))), html.EscapeString(s); got != want {
			t.Errorf("appendHTML(%q) = %q, want %q", s, got, want)
		}
	}
}

// TestWriteRow: a Row written with WriteRow gives the bytes of the same
// cells written with Write, in every format, including rows with fewer
// cells than columns and cells that need escaping.
func TestWriteRow(t *testing.T) {
	cols := []string{"time", "name", "text"}
	rows := [][]string{
		{"2024-03-12T09:30:00.0000000Z", "a", "b"},
		{"", "", ""},
		{"x"},
		{"\u00a0lead", "a,b|c<d>&'\"", "line1\nline2\r\\."},
	}
	tricky := trickyStrings()
	for i := 0; i+2 < 600; i += 3 {
		if len(tricky[i])+len(tricky[i+1])+len(tricky[i+2]) > 1000 {
			continue // the 64 KB string: wrapping it into a column of 1 takes seconds
		}
		rows = append(rows, tricky[i:i+3])
	}
	for range 2 { // more rows than the look-ahead, in ASCII
		for i := range 150 {
			rows = append(rows, []string{strings.Repeat("t", i%30), strings.Repeat("n", 40-i%40), strings.Repeat("x ", i%25)})
		}
	}
	type variant struct {
		f     Format
		shape Shape
		opts  Options
	}
	var variants []variant
	for _, f := range Formats {
		variants = append(variants, variant{f, Shape{}, Options{Wide: true}})
	}
	for _, w := range []int{1, 12, 40, 80, 300} {
		variants = append(variants, variant{FormatTable, Shape{Drop: []string{"name"}, Last: []string{"text"}}, Options{Width: w}},
			variant{FormatTable, Shape{Wrap: true}, Options{Width: w}}, variant{FormatTable, Shape{}, Options{Width: w}})
	}
	for _, v := range variants {
		f := v.f
		var viaWrite, viaRow bytes.Buffer
		w1, err := NewTableWriter(&viaWrite, f, "title", cols, v.shape, v.opts)
		if err != nil {
			t.Fatal(err)
		}
		w2, _ := NewTableWriter(&viaRow, f, "title", cols, v.shape, v.opts)
		if _, ok := w2.(rowAppender); !ok {
			t.Errorf("%s: the writer has no WriteRow", f)
		}
		var r Row
		for _, cells := range rows {
			if err := w1.Write(cells); err != nil {
				t.Fatal(err)
			}
			r.Reset()
			for _, c := range cells {
				r.End(append(r.Start(), c...))
			}
			if err := WriteRow(w2, &r); err != nil {
				t.Fatal(err)
			}
		}
		if err := w1.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w2.Close(); err != nil {
			t.Fatal(err)
		}
		if viaWrite.String() != viaRow.String() {
			g, w := strings.Split(viaRow.String(), "\n"), strings.Split(viaWrite.String(), "\n")
			for i := range min(len(g), len(w)) {
				if g[i] != w[i] {
					t.Errorf("%s %+v: line %d: WriteRow wrote\n%q\nWrite wrote\n%q", f, v, i, g[i], w[i])
					break
				}
			}
			t.Errorf("%s %+v: %d lines, want %d", f, v, len(g), len(w))
		}
		if viaWrite.Len() < 100 {
			t.Errorf("%s: only %d bytes written", f, viaWrite.Len())
		}
	}
}

func TestAppendTimeText(t *testing.T) {
	loc := time.FixedZone("CET", 3600)
	for _, tm := range []time.Time{{}, time.Date(2024, 3, 12, 9, 30, 0, 16000000, time.UTC), time.Date(1601, 1, 1, 0, 0, 0, 100, time.UTC)} {
		for _, l := range []*time.Location{nil, time.UTC, loc} {
			if got, want := string(appendTime([]byte("x"), tm, l)), "x"+FormatTime(tm, l); got != want {
				t.Errorf("appendTime(%v, %v) = %q, want %q", tm, l, got, want)
			}
		}
	}
}

// TestTimeAppender: the cached second gives FormatTime's text for times
// in order and out of order, across second, day and DST boundaries, in
// UTC and in zones with DST, for years of four digits and more.
func TestTimeAppender(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		ny = time.FixedZone("EST", -5*3600) // no zoneinfo here
	}
	starts := []time.Time{
		time.Date(2024, 3, 10, 6, 59, 58, 999_999_900, time.UTC), // 2 a.m. EST: the DST change in New York
		time.Date(2023, 12, 31, 23, 59, 59, 5, time.UTC),
		time.Date(1601, 1, 1, 0, 0, 0, 100, time.UTC),
		time.Date(30828, 9, 14, 2, 48, 5, 477_580_700, time.UTC),
	}
	steps := []time.Duration{100, 1, 333 * time.Microsecond, -2 * time.Millisecond, 700 * time.Millisecond, time.Hour}
	for _, loc := range []*time.Location{nil, time.UTC, ny, time.FixedZone("", 5*3600+1800)} {
		a := TimeAppender{Loc: loc}
		for _, start := range starts {
			tm := start
			for i := range 200 {
				tm = tm.Add(steps[i%len(steps)])
				if got, want := string(a.Append([]byte("x"), tm)), "x"+FormatTime(tm, loc); got != want {
					t.Fatalf("Append(%v) in %v = %q, want %q", tm, loc, got, want)
				}
			}
			if got := a.Append(nil, time.Time{}); len(got) != 0 {
				t.Errorf("zero time: %q", got)
			}
		}
	}
}

func BenchmarkAppendJSONString(b *testing.B) {
	s := strings.Repeat("Packet fragment (133 bytes) on interface 7 → 52.97.0.2:443 ", 4)
	buf := make([]byte, 0, 1024)
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendJSONString(buf[:0], s)
	}
}
