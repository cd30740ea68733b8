package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"github.com/etlscope/etlscope/diagnose"
	"html"
	"io"
	"strconv"
	"strings"
	"time"
)

// RenderAnalysis writes a in format f with the default Options. The HTML
// form is one self-contained page (no external assets) suitable to attach
// to a ticket.
func RenderAnalysis(w io.Writer, f Format, a *diagnose.Analysis) error {
	return RenderAnalysisOpts(w, f, a, Options{})
}

// RenderAnalysisOpts writes a in format f; o sets the table width and the
// time zone of the human-readable formats (JSON times are always UTC).
func RenderAnalysisOpts(w io.Writer, f Format, a *diagnose.Analysis, o Options) error {
	switch f {
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			*diagnose.Analysis
			Integrity IntegrityJSON `json:"integrity"`
		}{a, Integrity(&a.Integrity)})
	case FormatCSV:
		return renderCSV(w, a, o)
	case FormatMarkdown:
		return renderMarkdown(w, a, o)
	case FormatHTML:
		return renderHTML(w, a, o)
	}
	return renderText(w, a, o)
}

func (o Options) ts(t time.Time) string { return FormatTime(t, o.Loc) }

func (o Options) zoneName() string {
	if o.Loc == nil {
		return "UTC"
	}
	return o.Loc.String()
}

func summaryLines(a *diagnose.Analysis, o Options) [][2]string {
	verdict := "no TLS problem found"
	switch a.Result {
	case diagnose.ResultProblem:
		verdict = "TLS PROBLEM FOUND"
	case diagnose.ResultInconclusive:
		verdict = "cannot tell (see the unknowns)"
	}
	return [][2]string{
		{"file", a.File},
		{"windows", fmt.Sprintf("%s (build %d)", a.OS.Name, a.OS.Build)},
		{"trace", fmt.Sprintf("%s → %s, %d events, %d packets", o.ts(a.Start), o.ts(a.End), a.Events, a.Packets)},
		{"providers", providerSummary(a)},
		{"integrity", IntegritySummary(&a.Integrity)},
		{"result", verdict},
	}
}

func providerSummary(a *diagnose.Analysis) string {
	var parts []string
	for _, p := range []string{"Microsoft-Windows-WebIO", "Microsoft-Windows-WinHttp", "Microsoft-Windows-WinINet", "Schannel",
		"Microsoft-Windows-TCPIP", "Microsoft-Windows-DNS-Client", "Microsoft-Windows-NDIS-PacketCapture", "Microsoft-Windows-PktMon"} {
		if n := a.Providers[p]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", strings.TrimPrefix(p, "Microsoft-Windows-"), n))
		}
	}
	if len(parts) == 0 {
		return "none of the TLS-related providers"
	}
	return strings.Join(parts, ", ")
}

func processTable(a *diagnose.Analysis) *Table {
	t := &Table{Title: "Processes (WinHTTP / WebIO)", Columns: []string{"pid", "name", "enabled protocols", "hosts", "errors"},
		Shape: Shape{Fixed: []string{"pid"}, Wrap: true}}
	for _, p := range a.Processes {
		var masks []string
		for i, m := range p.EnabledProtocols {
			masks = append(masks, fmt.Sprintf("%#x %s", m, p.Enabled[i]))
		}
		t.Add(strconv.FormatUint(uint64(p.PID), 10), p.Name, strings.Join(masks, "; "), strings.Join(p.Hosts, ", "), strings.Join(p.Errors, "; "))
	}
	return t
}

// maxConnectionRows bounds the connection table of the human-readable
// formats; JSON lists every connection.
const maxConnectionRows = 200

func connectionTable(a *diagnose.Analysis, o Options) *Table {
	t := &Table{Title: "TLS connections (packets)", Columns: []string{"first seen", "pid", "client", "server", "sni", "client max", "offered", "selected", "cipher", "outcome"},
		Shape: Shape{Drop: []string{"cipher", "client max", "client", "first seen", "pid"}, Fixed: []string{"first seen", "pid"}, Wrap: true}}
	// Failed connections first, then the others, up to the limit.
	n := 0
	for pass := 0; pass < 2; pass++ {
		for _, c := range a.Connections {
			if c.Failed != (pass == 0) {
				continue
			}
			if n == maxConnectionRows {
				t.Title = fmt.Sprintf("TLS connections (packets; %d of %d shown, failed first; --output json lists up to %d)", maxConnectionRows, a.ConnectionsTotal, diagnose.MaxConnections)
				return t
			}
			pid := ""
			if c.PID != 0 {
				pid = strconv.FormatUint(uint64(c.PID), 10)
			}
			server := c.Server
			if c.Proxy != "" {
				server += " via proxy " + c.Proxy
			}
			t.Add(o.ts(c.FirstSeen), pid, c.Client, server, c.SNI, c.ClientMax, strings.Join(c.Offered, ", "), c.Selected, c.Cipher, c.Outcome)
			n++
		}
	}
	return t
}

func severityLabel(s diagnose.Severity) string {
	if s == diagnose.Unknown {
		return "CANNOT TELL"
	}
	return strings.ToUpper(string(s))
}

// headline is a verdict's label and title without a repeated word: an
// unknown verdict titled "cannot tell: …" reads "CANNOT TELL: …", not
// "UNKNOWN: cannot tell: …".
func headline(v diagnose.Verdict) (label, title string) {
	label, title = severityLabel(v.Severity), v.Title
	low := strings.ToLower(title)
	for _, p := range []string{strings.ToLower(label) + ": ", strings.ToLower(label) + " "} {
		if strings.HasPrefix(low, p) {
			title = title[len(p):]
			break
		}
	}
	return label, title
}

func renderText(w io.Writer, a *diagnose.Analysis, o Options) error {
	for _, l := range summaryLines(a, o) {
		fmt.Fprintf(w, "%-10s %s\n", l[0]+":", l[1])
	}
	for i, v := range a.Verdicts {
		label, title := headline(v)
		fmt.Fprintf(w, "\n[%d] %s: %s\n", i+1, label, title)
		if v.Detail != "" {
			fmt.Fprintf(w, "    %s\n", v.Detail)
		}
		if v.Believed != "" {
			fmt.Fprintf(w, "    note: this rests on a believed, unverified fact: %s\n", v.Believed)
		}
		if len(v.Evidence) > 0 {
			fmt.Fprintln(w, "    evidence:")
			for _, e := range v.Evidence {
				fmt.Fprintf(w, "      %s  %-36s %s\n", o.ts(e.Time), e.Source, e.Text)
			}
		}
		if len(v.Fix) > 0 {
			fmt.Fprintln(w, "    fix:")
			for _, f := range v.Fix {
				fmt.Fprintf(w, "      %s\n", f)
			}
		}
	}
	if len(a.Processes) > 0 {
		fmt.Fprintln(w)
		if err := processTable(a).RenderOpts(w, FormatTable, o); err != nil {
			return err
		}
	}
	if len(a.Connections) > 0 {
		fmt.Fprintln(w)
		if err := connectionTable(a, o).RenderOpts(w, FormatTable, o); err != nil {
			return err
		}
	}
	if len(a.Integrity.Issues) > 0 {
		fmt.Fprintln(w)
		return WriteIntegrity(w, FormatTable, &a.Integrity)
	}
	return nil
}

func renderCSV(w io.Writer, a *diagnose.Analysis, o Options) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"kind", "severity", "title", "detail", "believed", "evidence", "fix"})
	for _, v := range a.Verdicts {
		var ev []string
		for _, e := range v.Evidence {
			ev = append(ev, o.ts(e.Time)+" "+e.Source+": "+e.Text)
		}
		cw.Write([]string{string(v.Kind), string(v.Severity), v.Title, v.Detail, v.Believed, strings.Join(ev, "\n"), strings.Join(v.Fix, "\n")})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return WriteIntegrity(w, FormatCSV, &a.Integrity)
}

func renderMarkdown(w io.Writer, a *diagnose.Analysis, o Options) error {
	fmt.Fprintln(w, "# etlscope TLS diagnosis")
	fmt.Fprintln(w)
	for _, l := range summaryLines(a, o) {
		fmt.Fprintf(w, "- **%s**: %s\n", l[0], MarkdownEscape(l[1]))
	}
	if !a.Integrity.Complete() {
		if err := WriteIntegrity(w, FormatMarkdown, &a.Integrity); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "## Verdicts")
	for i, v := range a.Verdicts {
		label, title := headline(v)
		fmt.Fprintf(w, "\n### %d. %s: %s\n\n", i+1, label, MarkdownEscape(title))
		if v.Detail != "" {
			fmt.Fprintln(w, MarkdownEscape(v.Detail))
			fmt.Fprintln(w)
		}
		if v.Believed != "" {
			fmt.Fprintf(w, "> Note: this rests on a believed, unverified fact: %s\n\n", MarkdownEscape(v.Believed))
		}
		if len(v.Evidence) > 0 {
			fmt.Fprintln(w, "Evidence:")
			fmt.Fprintln(w)
			for _, e := range v.Evidence {
				fmt.Fprintf(w, "- `%s` %s: %s\n", o.ts(e.Time), MarkdownEscape(e.Source), MarkdownEscape(e.Text))
			}
			fmt.Fprintln(w)
		}
		if len(v.Fix) > 0 {
			fmt.Fprintln(w, "Fix:")
			fmt.Fprintln(w)
			fmt.Fprintln(w, "```")
			for _, f := range v.Fix {
				fmt.Fprintln(w, f)
			}
			fmt.Fprintln(w, "```")
		}
	}
	for _, t := range []*Table{processTable(a), connectionTable(a, o)} {
		if len(t.Rows) == 0 {
			continue
		}
		fmt.Fprintln(w)
		if err := t.Render(w, FormatMarkdown); err != nil {
			return err
		}
	}
	return nil
}

const htmlStyle = `body{font-family:Segoe UI,Helvetica,Arial,sans-serif;margin:2em;color:#1b1b1b;max-width:1200px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.5em}
.summary td{padding:2px 12px 2px 0}
.v{border-left:6px solid #888;padding:.5em 1em;margin:1em 0;background:#f7f7f7}
.problem{border-color:#c62828;background:#fdecea}.warning{border-color:#ef6c00;background:#fff4e5}
.unknown{border-color:#6d6d6d;background:#f1f1f1}.ok{border-color:#2e7d32;background:#edf7ed}
.sev{font-weight:bold;text-transform:uppercase;margin-right:.5em}
pre{background:#272822;color:#f8f8f2;padding:.6em;overflow-x:auto;white-space:pre-wrap}
table.t{border-collapse:collapse;font-size:.9em}table.t td,table.t th{border:1px solid #ccc;padding:3px 6px;text-align:left}
table.t th{background:#eee}.note{font-style:italic}
.integrity{padding:.5em 1em;margin:1em 0;border:2px solid #6d6d6d}.integrity.incomplete{border-color:#c62828;background:#fdecea;font-weight:bold}`

func renderHTML(w io.Writer, a *diagnose.Analysis, o Options) error {
	e := html.EscapeString
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>etlscope TLS diagnosis</title>\n<style>")
	b.WriteString(htmlStyle)
	b.WriteString("</style></head><body>\n<h1>etlscope TLS diagnosis</h1>\n<table class=\"summary\">")
	for _, l := range summaryLines(a, o) {
		fmt.Fprintf(&b, "<tr><td><b>%s</b></td><td>%s</td></tr>", e(l[0]), e(l[1]))
	}
	b.WriteString("</table>\n")
	if !a.Integrity.Complete() {
		if err := WriteIntegrity(&b, FormatHTML, &a.Integrity); err != nil {
			return err
		}
	}
	b.WriteString("<h2>Verdicts</h2>\n")
	for _, v := range a.Verdicts {
		label, title := headline(v)
		fmt.Fprintf(&b, "<div class=\"v %s\"><span class=\"sev\">%s</span>%s", e(string(v.Severity)), e(label), e(title))
		if v.Detail != "" {
			fmt.Fprintf(&b, "<p>%s</p>", e(v.Detail))
		}
		if v.Believed != "" {
			fmt.Fprintf(&b, "<p class=\"note\">Note: this rests on a believed, unverified fact: %s</p>", e(v.Believed))
		}
		if len(v.Evidence) > 0 {
			fmt.Fprintf(&b, "<table class=\"t\"><tr><th>time (%s)</th>", e(o.zoneName()))
			b.WriteString("<th>source</th><th>event</th></tr>")
			for _, x := range v.Evidence {
				fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td><td>%s</td></tr>", e(o.ts(x.Time)), e(x.Source), e(x.Text))
			}
			b.WriteString("</table>")
		}
		if len(v.Fix) > 0 {
			b.WriteString("<p><b>Fix</b></p><pre>")
			for _, f := range v.Fix {
				b.WriteString(e(f) + "\n")
			}
			b.WriteString("</pre>")
		}
		b.WriteString("</div>\n")
	}
	for _, t := range []*Table{processTable(a), connectionTable(a, o)} {
		if len(t.Rows) == 0 {
			continue
		}
		fmt.Fprintf(&b, "<h2>%s</h2>\n<table class=\"t\"><tr>", e(t.Title))
		for _, c := range t.Columns {
			fmt.Fprintf(&b, "<th>%s</th>", e(c))
		}
		b.WriteString("</tr>")
		for _, r := range t.Rows {
			b.WriteString("<tr>")
			for _, c := range r {
				fmt.Fprintf(&b, "<td>%s</td>", e(c))
			}
			b.WriteString("</tr>")
		}
		b.WriteString("</table>\n")
	}
	b.WriteString("<p class=\"note\">Generated by etlscope. Facts marked as believed come from unverified sources; see the notes above.</p>\n</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
