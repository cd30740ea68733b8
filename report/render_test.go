package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/etlscope/etlscope/diagnose"
)

// TestVerdictLinesDoNotRepeat: a verdict's label and title never say the
// same word twice ("UNKNOWN: unknown:", "CANNOT TELL: cannot tell:"), in any
// format. The titles are those the rules give (diagnose/rules.go).
func TestVerdictLinesDoNotRepeat(t *testing.T) {
	a := &diagnose.Analysis{Result: diagnose.ResultInconclusive, Verdicts: []diagnose.Verdict{
		{Kind: diagnose.KindNoTLSActivity, Severity: diagnose.Unknown, Title: "cannot tell: the trace holds no TLS activity (no WebIO, Schannel or TLS packets)"},
		{Kind: diagnose.KindProviderMissing, Severity: diagnose.Unknown, Title: "cannot tell which protocols WinHTTP enabled: provider Microsoft-Windows-WebIO is not in the trace"},
		{Kind: diagnose.KindHealthy, Severity: diagnose.OK, Title: "ok: nothing wrong"},
	}}
	for _, f := range []Format{FormatTable, FormatMarkdown, FormatHTML} {
		var buf bytes.Buffer
		if err := RenderAnalysis(&buf, f, a); err != nil {
			t.Fatal(err)
		}
		out := strings.ToLower(buf.String())
		for _, bad := range []string{"unknown: unknown", "unknown: cannot tell", "cannot tell: cannot tell", "cannot tell</span>cannot tell", "ok: ok:", "ok</span>ok:"} {
			if strings.Contains(out, bad) {
				t.Errorf("%s: %q in\n%s", f, bad, buf.String())
			}
		}
		if !strings.Contains(out, "cannot tell") || !strings.Contains(out, "which protocols winhttp enabled") {
			t.Errorf("%s: the verdicts lost their words:\n%s", f, buf.String())
		}
	}
}
