package diagnose_test

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etlscope/etlscope/diagnose"
	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/internal/etltest"
	"github.com/etlscope/etlscope/internal/golden"
	"github.com/etlscope/etlscope/internal/nettrace"
	"github.com/etlscope/etlscope/redact"
	"github.com/etlscope/etlscope/report"
)

// scenarios are the acceptance fixtures of the diagnosis.
var scenarios = []struct {
	name      string
	build     func(testing.TB) []byte
	problem   bool
	severity  []diagnose.Severity // verdict severities in order
	title     string              // words the first verdict's title must contain
	fixNeeded string              // a fix line that must appear ("" = none)
}{
	{"hcw-2012", nettrace.HCW2012, true, []diagnose.Severity{diagnose.Problem, diagnose.Problem}, "enabled SSL3.0|TLS1.0 only (EnabledProtocols 0xa0)", "KB3140245"},
	{"healthy-tls12", nettrace.Healthy, false, []diagnose.Severity{diagnose.OK}, "No TLS problem found", ""},
	{"cert-mismatch", nettrace.CertMismatch, true, []diagnose.Severity{diagnose.Problem}, "certificate validation failed", "subject and SAN"},
	// Packets show a good TLS 1.2 handshake but WebIO is missing: the
	// diagnosis cannot tell what WinHTTP enabled, so it is inconclusive.
	{"no-webio", nettrace.NoWebIO, false, []diagnose.Severity{diagnose.Unknown, diagnose.OK}, "cannot tell which protocols WinHTTP enabled", ""},
}

func analyzeBytes(t *testing.T, data []byte, red *redact.Redactor) *diagnose.Analysis {
	t.Helper()
	f, err := etl.NewFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	a, err := diagnose.Analyze(context.Background(), f, "NetTrace.etl", diagnose.Options{Redact: red})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAnalyzeScenarios(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			a := analyzeBytes(t, sc.build(t), nil)
			if a.HasProblem() != sc.problem {
				t.Errorf("HasProblem %v, want %v", a.HasProblem(), sc.problem)
			}
			var got []diagnose.Severity
			for _, v := range a.Verdicts {
				got = append(got, v.Severity)
			}
			if len(got) != len(sc.severity) {
				t.Fatalf("verdicts %v, want %v: %+v", got, sc.severity, a.Verdicts)
			}
			for i := range got {
				if got[i] != sc.severity[i] {
					t.Errorf("verdict %d: %s, want %s", i, got[i], sc.severity[i])
				}
			}
			if !strings.Contains(a.Verdicts[0].Title, sc.title) {
				t.Errorf("first verdict %q does not contain %q", a.Verdicts[0].Title, sc.title)
			}
			if len(a.Verdicts[0].Evidence) == 0 && a.Verdicts[0].Severity != diagnose.Unknown {
				t.Error("first verdict has no evidence")
			}
			wantResult := diagnose.ResultOK
			switch {
			case sc.problem:
				wantResult = diagnose.ResultProblem
			case sc.severity[0] == diagnose.Unknown:
				wantResult = diagnose.ResultInconclusive
			}
			if a.Result != wantResult {
				t.Errorf("result %s, want %s", a.Result, wantResult)
			}
			fixes := ""
			for _, v := range a.Verdicts {
				fixes += strings.Join(v.Fix, "\n")
			}
			if sc.fixNeeded != "" && !strings.Contains(fixes, sc.fixNeeded) {
				t.Errorf("fix does not mention %q:\n%s", sc.fixNeeded, fixes)
			}
			if sc.fixNeeded == "" && strings.Contains(fixes, "DefaultSecureProtocols") {
				t.Errorf("a healthy trace got the TLS 1.2 fix:\n%s", fixes)
			}
			for _, f := range report.Formats {
				var buf bytes.Buffer
				if err := report.RenderAnalysis(&buf, f, a); err != nil {
					t.Fatal(err)
				}
				golden.Check(t, "analyze-"+sc.name+"."+string(f), buf.Bytes())
			}
		})
	}
}

// TestAnalyzeHCWDetails checks the fix for Windows Server 2012 in detail:
// KB3140245, both registry keys, and no SCHANNEL change (TLS 1.2 is on in
// the 2012 OS).
func TestAnalyzeHCWDetails(t *testing.T) {
	a := analyzeBytes(t, nettrace.HCW2012(t), nil)
	fix := strings.Join(a.Verdicts[0].Fix, "\n")
	for _, want := range []string{"KB3140245", `Internet Settings\WinHttp" /v DefaultSecureProtocols /t REG_DWORD /d 0x00000A80`, `Wow6432Node\Microsoft\Windows\CurrentVersion\Internet Settings\WinHttp"`} {
		if !strings.Contains(fix, want) {
			t.Errorf("fix lacks %q", want)
		}
	}
	if strings.Contains(fix, "SCHANNEL") {
		t.Error("Server 2012 needs no SCHANNEL change")
	}
	if len(a.Connections) != 1 || a.Connections[0].PID != 4321 {
		t.Errorf("connection owner: %+v (the TCPIP connect event names PID 4321)", a.Connections)
	}
	if !strings.Contains(a.Verdicts[1].Title, "alert 70 protocol_version by server") {
		t.Errorf("second verdict: %s", a.Verdicts[1].Title)
	}
	// The per-OS fix lines are tested in package wintls.
}

func TestAnalyzeRedact(t *testing.T) {
	a := analyzeBytes(t, nettrace.HCW2012(t), redact.NewRedactor())
	var buf bytes.Buffer
	for _, f := range report.Formats {
		if err := report.RenderAnalysis(&buf, f, a); err != nil {
			t.Fatal(err)
		}
	}
	// outlook.office365.com is a public name: kept (redact.DefaultPublic).
	for _, secret := range []string{"52.97.1.2", "10.0.0.5", "CONTOSO", "Secret!"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("redacted report contains %q", secret)
		}
	}
	if !strings.Contains(buf.String(), "ip-") || !strings.Contains(buf.String(), "outlook.office365.com") {
		t.Error("no placeholders, or the public name was redacted")
	}
}

// TestHTMLRendersInChromium opens the HTML report in headless Chromium and
// checks the screenshot shows the red problem banner.
func TestHTMLRendersInChromium(t *testing.T) {
	browser := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		t.Skip("chromium not installed (apt-get install chromium): skipping the HTML screenshot check")
	}
	a := analyzeBytes(t, nettrace.HCW2012(t), nil)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var buf bytes.Buffer
	if err := report.RenderAnalysis(&buf, report.FormatHTML, a); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(page, buf.Bytes(), 0o644)
	shot := filepath.Join(dir, "shot.png")
	cmd := exec.Command(browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--window-size=1200,900", "--screenshot="+shot, "file://"+page)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	fh, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatal(err)
	}
	// The problem verdicts have a red left border (#c62828): find it.
	red := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Min.X+200 && x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 > 180 && g>>8 < 70 && bl>>8 < 70 {
				red++
			}
		}
	}
	if red < 50 {
		t.Errorf("screenshot shows no red problem banner (%d red pixels)", red)
	}
}

// TestSecureProtocolsOption: an application that sets
// WINHTTP_OPTION_SECURE_PROTOCOLS itself shows up as WebIO event 15 with
// option 6; without any 728 event that is still the enabled mask.
func TestSecureProtocolsOption(t *testing.T) {
	b := nettrace.New(etltest.Options{Build: 9600})
	b.WebIOSetOption(nettrace.PowerShell, 0x99, 6, []byte{0xA0, 0, 0, 0})
	data, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	a := analyzeBytes(t, data, nil)
	if !a.HasProblem() || !strings.Contains(a.Verdicts[0].Title, "EnabledProtocols 0xa0") ||
		!strings.Contains(a.Verdicts[0].Evidence[0].Text, "WINHTTP_OPTION_SECURE_PROTOCOLS") {
		t.Fatalf("%+v", a.Verdicts)
	}
}

func TestLostEventsWarning(t *testing.T) {
	b := nettrace.New(etltest.Options{Build: 17763, EventsLost: 12})
	b.WebIOACHStart(nettrace.PowerShell, nettrace.ACH{Connection: 1, EnabledProtocols: 0xA80, Version: 1})
	data, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	a := analyzeBytes(t, data, nil)
	found := false
	for _, v := range a.Verdicts {
		if v.Kind == diagnose.KindTraceIncomplete && strings.Contains(v.Title, "lost events") && strings.Contains(v.Evidence[0].Text, "lost 12 events") {
			found = true
		}
	}
	if !found || a.Result != diagnose.ResultInconclusive {
		t.Errorf("no lost-events verdict or not inconclusive (%s): %+v", a.Result, a.Verdicts)
	}
}

// TestSchannelTLS12Off: WinHTTP asked for TLS 1.2 but the wire shows a TLS
// 1.0 ClientHello: the fix is the SCHANNEL client keys, not
// DefaultSecureProtocols.
func TestSchannelTLS12Off(t *testing.T) {
	a := analyzeBytes(t, nettrace.Win7SchannelOff(t), nil)
	if len(a.Verdicts) == 0 || a.Verdicts[0].Severity != diagnose.Problem {
		t.Fatalf("%+v", a.Verdicts)
	}
	v := a.Verdicts[0]
	fix := strings.Join(v.Fix, "\n")
	if !strings.Contains(v.Detail, "Schannel's TLS 1.2 client is disabled") || !strings.Contains(fix, `TLS 1.2\Client" /v Enabled /t REG_DWORD /d 1`) ||
		strings.Contains(fix, "DefaultSecureProtocols") || v.Believed == "" {
		t.Errorf("verdict %+v", v)
	}
}
