package report

import (
	"fmt"
	"html"
	"io"
	"strings"

	"github.com/etlscope/etlscope/etl"
)

// IntegrityJSON is the "integrity" object of every command's JSON output.
type IntegrityJSON struct {
	Complete bool                    `json:"complete"`
	Issues   []etl.Issue             `json:"issues"`
	Omitted  int                     `json:"omitted,omitempty"`
	Totals   map[etl.IssueKind]int64 `json:"totals,omitempty"`
}

// Integrity returns the JSON form of in.
func Integrity(in *etl.Integrity) IntegrityJSON {
	issues := in.Issues
	if issues == nil {
		issues = []etl.Issue{}
	}
	return IntegrityJSON{Complete: in.Complete(), Issues: issues, Omitted: in.Omitted, Totals: in.Totals}
}

// IntegritySummary says in one sentence whether the trace is complete.
func IntegritySummary(in *etl.Integrity) string {
	if len(in.Issues) == 0 {
		return "complete: no damaged, truncated or lost data found"
	}
	kinds := in.KindNames(false)
	if in.Complete() {
		return "complete (notes: " + strings.Join(kinds, ", ") + ")"
	}
	return "INCOMPLETE: " + strings.Join(kinds, ", ") + " — events may be missing, so an absence of errors proves nothing"
}

// maxIntegrityLines bounds the issues the human-readable formats list.
const maxIntegrityLines = 20

func integrityLines(in *etl.Integrity) []string {
	var out []string
	for i, is := range in.Issues {
		if i == maxIntegrityLines {
			out = append(out, fmt.Sprintf("… and %d more (--output json lists up to %d)", len(in.Issues)-i+in.Omitted, etl.MaxIssues))
			break
		}
		out = append(out, is.Message)
	}
	if len(in.Issues) <= maxIntegrityLines && in.Omitted > 0 {
		out = append(out, fmt.Sprintf("… and %d more", in.Omitted))
	}
	return out
}

// WriteIntegrity writes the integrity of a trace in format f: a line per
// finding in the table, "#" comment lines after a CSV table, a quoted
// banner in Markdown and a banner in HTML. JSON documents embed Integrity
// instead; for FormatJSON WriteIntegrity writes nothing.
func WriteIntegrity(w io.Writer, f Format, in *etl.Integrity) error {
	sum := IntegritySummary(in)
	lines := integrityLines(in)
	var b strings.Builder
	switch f {
	case FormatJSON:
		return nil
	case FormatCSV:
		fmt.Fprintf(&b, "# integrity: %s\n", oneLine(sum))
		for _, l := range lines {
			fmt.Fprintf(&b, "# %s\n", oneLine(l))
		}
	case FormatMarkdown:
		if in.Complete() {
			fmt.Fprintf(&b, "\n**Integrity:** %s\n", MarkdownEscape(sum))
		} else {
			fmt.Fprintf(&b, "\n> **Warning — incomplete trace.** %s\n", MarkdownEscape(sum))
		}
		for _, l := range lines {
			fmt.Fprintf(&b, "> - %s\n", MarkdownEscape(l))
		}
	case FormatHTML:
		cls := "integrity ok"
		if !in.Complete() {
			cls = "integrity incomplete"
		}
		fmt.Fprintf(&b, "<div class=\"%s\" role=\"alert\"><b>Integrity:</b> %s", cls, html.EscapeString(sum))
		if len(lines) > 0 {
			b.WriteString("<ul>")
			for _, l := range lines {
				fmt.Fprintf(&b, "<li>%s</li>", html.EscapeString(l))
			}
			b.WriteString("</ul>")
		}
		b.WriteString("</div>\n")
	default:
		fmt.Fprintf(&b, "integrity: %s\n", sum)
		for _, l := range lines {
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }
