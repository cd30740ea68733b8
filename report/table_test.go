package report

import (
	"bytes"
	"testing"

	goldenfile "github.com/etlscope/etlscope/internal/golden"
)

func golden(t *testing.T, name string, got []byte) { t.Helper(); goldenfile.Check(t, name, got) }

func sampleTable() *Table {
	t := &Table{Title: "Providers", Columns: []string{"provider", "events", "note"}}
	t.Add("Microsoft-Windows-WebIO", "3", "EnabledProtocols 0xA0 | TLS1.0")
	t.Add("<script>", "1", "a \"quoted\", comma\nnewline & more")
	t.Add("short row")
	return t
}

func TestTableRenderGolden(t *testing.T) {
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			if err := sampleTable().Render(&buf, f); err != nil {
				t.Fatal(err)
			}
			golden(t, "table."+string(f), buf.Bytes())
		})
	}
}

func TestTableEmpty(t *testing.T) {
	var buf bytes.Buffer
	tb := &Table{Columns: []string{"a"}}
	if err := tb.Render(&buf, FormatJSON); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "[]\n" {
		t.Errorf("empty JSON table = %q, want %q", got, "[]\n")
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in      string
		want    Format
		wantErr bool
	}{
		{"table", FormatTable, false},
		{"JSON", FormatJSON, false},
		{"md", FormatMarkdown, false},
		{"", FormatTable, false},
		{"xml", "", true},
	}
	for _, tt := range tests {
		got, err := ParseFormat(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q, err=%v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestMarkdownEscape(t *testing.T) {
	if got, want := MarkdownEscape("a|b\\c\n<d>&"), `a\|b\\c<br>&lt;d&gt;&amp;`; got != want {
		t.Errorf("MarkdownEscape = %q, want %q", got, want)
	}
}
