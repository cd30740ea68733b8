package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-runewidth"
)

func TestTableFitsWidth(t *testing.T) {
	long := strings.Repeat("0xa0 (SSL3.0|TLS1.0) ", 10)
	tb := &Table{Columns: []string{"time", "provider", "version", "description"}, Shape: Shape{Drop: []string{"version"}, Fixed: []string{"time"}}}
	tb.Add("2024-03-12T09:30:00.0000000Z", "Microsoft-Windows-WebIO", "1", long)
	tb.Add("2024-03-12T09:30:00.0010000Z", "Schannel", "0", "short")
	tests := []struct {
		name        string
		o           Options
		maxWidth    int
		wantVersion bool
		wantFull    bool
	}{
		{"80 columns drop version", Options{Width: 80}, 80, false, false},
		{"300 columns", Options{Width: 300}, 300, true, true},
		{"40 columns drop version (the fixed time column overflows)", Options{Width: 40}, 64, false, false},
		{"wide", Options{Width: 40, Wide: true}, 1 << 20, true, true},
		{"default is 80", Options{}, 80, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tb.RenderOpts(&buf, FormatTable, tt.o); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
				if w := runewidth.StringWidth(l); w > tt.maxWidth {
					t.Errorf("line %d wide (> %d): %q", w, tt.maxWidth, l)
				}
			}
			if got := strings.Contains(out, "VERSION"); got != tt.wantVersion {
				t.Errorf("VERSION column shown = %v, want %v:\n%s", got, tt.wantVersion, out)
			}
			if got := strings.Contains(out, strings.TrimSpace(long)); got != tt.wantFull {
				t.Errorf("full description shown = %v, want %v:\n%s", got, tt.wantFull, out)
			}
			if tt.wantFull == strings.Contains(out, "…") {
				t.Errorf("ellipsis on a full table or none on a shortened one:\n%s", out)
			}
		})
	}
}

// countingWriter records how many rows reached it.
type countingWriter struct{ lines int }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.lines += bytes.Count(p, []byte("\n"))
	return len(p), nil
}

// TestTableStreams: a terminal table writes rows as they come once the
// look-ahead is full, so a listing of millions of events is not held in
// memory.
func TestTableStreams(t *testing.T) {
	var cw countingWriter
	rw, err := NewTableWriter(&cw, FormatTable, "", []string{"n", "text"}, Shape{}, Options{Width: 80})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < LookAhead+500; i++ {
		if err := rw.Write([]string{"1", strings.Repeat("x", i%200)}); err != nil {
			t.Fatal(err)
		}
	}
	if cw.lines != LookAhead+500+1 {
		t.Errorf("%d lines written before Close, want every row and the header (%d)", cw.lines, LookAhead+501)
	}
	rw.Close()
}

func TestFormatTime(t *testing.T) {
	ts := time.Date(2024, 3, 12, 9, 30, 0, 16_000_000, time.UTC)
	if got, want := FormatTime(ts, nil), "2024-03-12T09:30:00.0160000Z"; got != want {
		t.Errorf("UTC: %q, want %q", got, want)
	}
	berlin := time.FixedZone("W. Europe Standard Time", 3600)
	if got, want := FormatTime(ts, berlin), "2024-03-12T10:30:00.0160000+01:00"; got != want {
		t.Errorf("local: %q, want %q", got, want)
	}
	if FormatTime(time.Time{}, nil) != "" {
		t.Error("zero time not empty")
	}
}

func TestWrapCell(t *testing.T) {
	tests := []struct {
		in   string
		w    int
		want []string
	}{
		{"short", 10, []string{"short"}},
		{"alert 70 protocol_version by server", 16, []string{"alert 70", "protocol_version", "by server"}},
		{"(ERROR_WINHTTP_SECURE_FAILURE)", 12, []string{"(ERROR_WINHT", "TP_SECURE_FA", "ILURE)"}},
	}
	for _, tt := range tests {
		if got := wrapCell(tt.in, tt.w); strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("wrapCell(%q, %d) = %q, want %q", tt.in, tt.w, got, tt.want)
		}
	}
}

// TestTableNoControlCharacters: text from a trace cannot send escape
// sequences to the terminal or break a row.
func TestTableNoControlCharacters(t *testing.T) {
	var buf bytes.Buffer
	tb := &Table{Columns: []string{"a", "b"}}
	tb.Add("\x1b[31mred\x1b[0m", "two\nlines\r\nand\ttab")
	if err := tb.RenderOpts(&buf, FormatTable, Options{}); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(buf.String(), "\x1b\r\t") || strings.Count(buf.String(), "\n") != 2 {
		t.Errorf("%q", buf.String())
	}
}
