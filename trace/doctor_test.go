package trace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/etlscope/etlscope/wintls"
)

// fakeRegistry maps `ROOT\path\name` to a value: a uint32, or an error.
type fakeRegistry map[string]any

func (r fakeRegistry) DWORD(root, path, name string) (uint32, bool, error) {
	switch v := r[root+`\`+path+`\`+name].(type) {
	case uint32:
		return v, true, nil
	case int:
		return uint32(v), true, nil
	case error:
		return 0, false, v
	}
	return 0, false, nil
}

var (
	dsp      = `HKLM\` + winHTTPPath + `\DefaultSecureProtocols`
	dspWow   = `HKLM\` + winHTTPPathWow + `\DefaultSecureProtocols`
	tls12C   = `HKLM\` + schannelPath + `TLS 1.2\Client`
	tls13S   = `HKLM\` + schannelPath + `TLS 1.3\Server`
	wmic     = "wmic qfe get HotFixID"
	getHotfx = key(append([]string{HotfixQueries[1].Name}, HotfixQueries[1].Args...))
)

// wmicOut is wmic qfe get HotFixID as Windows writes it into a pipe:
// UTF-16LE with a byte-order mark, the header and IDs padded to the
// column width, lines ending in "\r\r\n" (wmic's known double CR).
func wmicOut(ids ...string) string {
	var b strings.Builder
	b.WriteString("\ufeffHotFixID   \r\r\n")
	for _, id := range ids {
		fmt.Fprintf(&b, "%-11s\r\r\n", id)
	}
	b.WriteString("\r\r\n")
	return utf16le(b.String())
}

func utf16le(s string) string {
	var out []byte
	for _, c := range utf16.Encode([]rune(s)) {
		out = append(out, byte(c), byte(c>>8))
	}
	return string(out)
}

func TestDoctor(t *testing.T) {
	tests := []struct {
		name     string
		sys      fakeSystem
		reg      fakeRegistry
		runner   *fakeRunner
		problem  bool
		verdict  string            // substring
		status   map[string]Status // setting → status
		fix      []string          // substrings the fix must contain
		noFix    []string
		believed []string // substrings of Believed entries
		queries  []string // the hotfix commands run
		version  string   // substring of the version row
	}{
		{
			name: "2012 without KB or registry", sys: fakeSystem{build: 9200}, reg: fakeRegistry{},
			runner:  &fakeRunner{outputs: map[string]string{wmic: wmicOut("KB123", "KB2919355")}},
			problem: true, status: map[string]Status{"KB3140245 (DefaultSecureProtocols support)": StatusProblem, dsp: StatusProblem, dspWow: StatusProblem, tls12C: StatusOK},
			fix:     []string{"KB3140245", `reg add "HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings\WinHttp" /v DefaultSecureProtocols /t REG_DWORD /d 0x00000A80 /f`, `reg add "HKLM\SOFTWARE\Wow6432Node\Microsoft\Windows\CurrentVersion\Internet Settings\WinHttp" /v DefaultSecureProtocols /t REG_DWORD /d 0x00000A80 /f`},
			noFix:   []string{"SCHANNEL"},
			queries: []string{wmic},
		},
		{
			name: "2012 with KB and both keys", sys: fakeSystem{build: 9200}, reg: fakeRegistry{dsp: 0xA80, dspWow: 0xA80},
			runner:  &fakeRunner{outputs: map[string]string{wmic: wmicOut("KB2919355", "KB3140245")}},
			verdict: "TLS 1.2 is available", status: map[string]Status{dsp: StatusOK, dspWow: StatusOK},
			queries: []string{wmic},
		},
		{
			name: "2012 with keys but no KB", sys: fakeSystem{build: 9200}, reg: fakeRegistry{dsp: 0xA80, dspWow: 0xA80},
			runner:  &fakeRunner{outputs: map[string]string{wmic: wmicOut()}},
			problem: true, status: map[string]Status{dsp: StatusProblem},
			fix: []string{"KB3140245"}, queries: []string{wmic},
		},
		{
			name: "2012 without wmic: Get-HotFix finds the KB", sys: fakeSystem{build: 9200}, reg: fakeRegistry{dsp: 0x800, dspWow: 0x800},
			runner:  &fakeRunner{fail: map[string]error{wmic: errors.New("not found")}, outputs: map[string]string{getHotfx: "HotFixID\r\nKB3140245\r\n"}},
			verdict: "available", status: map[string]Status{"KB3140245 (DefaultSecureProtocols support)": StatusOK},
			queries: []string{wmic, getHotfx},
		},
		{
			name: "2012, hotfix list unreadable: unknown, not a problem", sys: fakeSystem{build: 9200}, reg: fakeRegistry{dsp: 0xA80, dspWow: 0xA80},
			runner:  &fakeRunner{fail: map[string]error{wmic: errBoom, getHotfx: errBoom}},
			verdict: "Could not decide", status: map[string]Status{"KB3140245 (DefaultSecureProtocols support)": StatusUnknown, dsp: StatusUnknown},
			queries: []string{wmic, getHotfx},
		},
		{
			name: "2012, wmic in UTF-8 without BOM (a wmic that writes ANSI)", sys: fakeSystem{build: 9200}, reg: fakeRegistry{dsp: 0xA80, dspWow: 0xA80},
			runner:  &fakeRunner{outputs: map[string]string{wmic: "HotFixID   \r\nKB3140245  \r\n"}},
			verdict: "available", status: map[string]Status{"KB3140245 (DefaultSecureProtocols support)": StatusOK},
			queries: []string{wmic},
		},
		{
			name: "2012, UTF-16 wmic without BOM", sys: fakeSystem{build: 9200}, reg: fakeRegistry{dsp: 0xA80, dspWow: 0xA80},
			runner:  &fakeRunner{outputs: map[string]string{wmic: utf16le("HotFixID\r\r\nKB3140245\r\r\n")}},
			verdict: "available", queries: []string{wmic},
		},
		{
			name: "2012, wmic says no instances: not installed", sys: fakeSystem{build: 9200}, reg: fakeRegistry{dsp: 0xA80, dspWow: 0xA80},
			runner:  &fakeRunner{outputs: map[string]string{wmic: "No Instance(s) Available.\r\n"}},
			problem: true, status: map[string]Status{"KB3140245 (DefaultSecureProtocols support)": StatusProblem},
			queries: []string{wmic},
		},
		{
			name: "2012, wmic garbage and empty PowerShell output: unknown, never not installed", sys: fakeSystem{build: 9200}, reg: fakeRegistry{dsp: 0xA80, dspWow: 0xA80},
			runner:  &fakeRunner{outputs: map[string]string{wmic: "Node - SRV01\r\nERROR:\r\nDescription = Invalid class\r\n", getHotfx: ""}},
			verdict: "Could not decide", status: map[string]Status{"KB3140245 (DefaultSecureProtocols support)": StatusUnknown, dsp: StatusUnknown},
			queries: []string{wmic, getHotfx},
		},
		{
			name: "2012, Get-HotFix lists nothing after its header: not installed", sys: fakeSystem{build: 9200}, reg: fakeRegistry{dsp: 0xA80, dspWow: 0xA80},
			runner:  &fakeRunner{fail: map[string]error{wmic: errBoom}, outputs: map[string]string{getHotfx: "HotFixID\r\n"}},
			problem: true, status: map[string]Status{"KB3140245 (DefaultSecureProtocols support)": StatusProblem},
			queries: []string{wmic, getHotfx},
		},
		{
			name: "2012 with only the native key", sys: fakeSystem{build: 9200}, reg: fakeRegistry{dsp: 0xA80},
			runner:  &fakeRunner{outputs: map[string]string{wmic: wmicOut("KB3140245")}},
			problem: true, status: map[string]Status{dsp: StatusOK, dspWow: StatusProblem},
			fix: []string{"Wow6432Node"}, queries: []string{wmic},
		},
		{
			name: "Windows 7 32-bit: no Wow6432Node key checked or fixed, SCHANNEL needed", sys: fakeSystem{build: 7601, is32: true}, reg: fakeRegistry{dsp: 0x800},
			runner:  &fakeRunner{outputs: map[string]string{wmic: wmicOut("KB3140245")}},
			problem: true, status: map[string]Status{dsp: StatusOK, tls12C: StatusProblem},
			fix:     []string{`TLS 1.2\Client" /v Enabled /t REG_DWORD /d 1 /f`, `TLS 1.2\Client" /v DisabledByDefault /t REG_DWORD /d 0 /f`},
			noFix:   []string{"Wow6432Node", "DefaultSecureProtocols"},
			queries: []string{wmic},
		},
		{
			name: "Windows 10 defaults", sys: fakeSystem{build: 17763}, reg: fakeRegistry{},
			runner: &fakeRunner{}, verdict: "available",
			status: map[string]Status{dsp: StatusOK, dspWow: StatusOK, tls12C: StatusOK},
		},
		{
			name: "Windows 10 with a mask lacking TLS 1.2", sys: fakeSystem{build: 17763}, reg: fakeRegistry{dspWow: 0xA0},
			runner: &fakeRunner{}, problem: true, status: map[string]Status{dsp: StatusOK, dspWow: StatusProblem},
			fix: []string{"DefaultSecureProtocols"}, noFix: []string{"KB3140245"},
		},
		{
			name: "Windows 10 with TLS 1.2 client disabled", sys: fakeSystem{build: 19041}, reg: fakeRegistry{tls12C + `\Enabled`: 0},
			runner: &fakeRunner{}, problem: true, status: map[string]Status{tls12C: StatusProblem},
			fix: []string{`TLS 1.2\Client" /v Enabled /t REG_DWORD /d 1`}, noFix: []string{"DefaultSecureProtocols"},
		},
		{
			// Microsoft's TLS registry settings: DisabledByDefault=1 only drops
			// the version from the default set; WinHTTP names its protocols.
			name: "Windows 10 with TLS 1.2 client DisabledByDefault: a warning, WinHTTP still gets TLS 1.2", sys: fakeSystem{build: 19041}, reg: fakeRegistry{tls12C + `\DisabledByDefault`: 1},
			runner: &fakeRunner{}, verdict: "available", status: map[string]Status{tls12C: StatusWarning},
		},
		{
			name: "Windows 7 with TLS 1.2 client Enabled=1 but DisabledByDefault=1: the KB3140245 recipe is not complete", sys: fakeSystem{build: 7601}, reg: fakeRegistry{dsp: 0xA80, dspWow: 0xA80, tls12C + `\Enabled`: 1, tls12C + `\DisabledByDefault`: 1},
			runner:  &fakeRunner{outputs: map[string]string{wmic: wmicOut("KB3140245")}},
			problem: true, status: map[string]Status{tls12C: StatusProblem, dsp: StatusOK},
			fix: []string{`TLS 1.2\Client" /v DisabledByDefault /t REG_DWORD /d 0 /f`, "Reboot"}, queries: []string{wmic},
		},
		{
			name: "Windows 8 client: no KB3140245 exists, DefaultSecureProtocols is ignored", sys: fakeSystem{build: 9200, edition: wintls.EditionClient}, reg: fakeRegistry{dsp: 0xA80, dspWow: 0xA80},
			runner: &fakeRunner{}, problem: true, status: map[string]Status{"KB3140245 (DefaultSecureProtocols support)": StatusInfo, dsp: StatusProblem, dspWow: StatusProblem},
			fix: []string{"Windows 8 (client) never got KB3140245"}, version: "Windows 8 (build 9200",
		},
		{
			name: "Server 2012 named as such, KB checked", sys: fakeSystem{build: 9200, edition: wintls.EditionServer}, reg: fakeRegistry{dsp: 0xA80, dspWow: 0xA80},
			runner:  &fakeRunner{outputs: map[string]string{wmic: wmicOut("KB3140245")}},
			verdict: "available", version: "Windows Server 2012 (build 9200", queries: []string{wmic},
		},
		{
			name: "Server 2016 with TLS 1.3 enabled: warning only", sys: fakeSystem{build: 14393}, reg: fakeRegistry{tls13S + `\Enabled`: 1},
			runner: &fakeRunner{}, verdict: "available", status: map[string]Status{tls13S: StatusWarning},
		},
		{
			name: "Windows 11: the TLS 1.3 default is believed", sys: fakeSystem{build: 22631}, reg: fakeRegistry{},
			runner: &fakeRunner{}, verdict: "available", believed: []string{"TLS 1.3 is in the WinHTTP default"},
		},
		{
			name: "DefaultSecureProtocols of the wrong type on 2019: warning", sys: fakeSystem{build: 17763}, reg: fakeRegistry{dsp: fmt.Errorf("x: %w", ErrNotDWORD)},
			runner: &fakeRunner{}, verdict: "available", status: map[string]Status{dsp: StatusWarning},
			believed: []string{"not REG_DWORD"},
		},
		{
			name: "registry unreadable: unknown", sys: fakeSystem{build: 17763}, reg: fakeRegistry{dsp: errors.New("access denied")},
			runner: &fakeRunner{}, verdict: "Could not decide", status: map[string]Status{dsp: StatusUnknown},
		},
		{
			name: "Vista / 2008: believed, unknown", sys: fakeSystem{build: 6002}, reg: fakeRegistry{},
			runner: &fakeRunner{}, problem: true, status: map[string]Status{"version": StatusUnknown},
			believed: []string{"Vista"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Doctor(context.Background(), tt.sys, tt.reg, tt.runner)
			if err != nil {
				t.Fatal(err)
			}
			if d.Problem != tt.problem {
				t.Errorf("problem %v, want %v (%s)", d.Problem, tt.problem, d.Verdict)
			}
			if !strings.Contains(d.Verdict, tt.verdict) {
				t.Errorf("verdict %q lacks %q", d.Verdict, tt.verdict)
			}
			got := map[string]Status{}
			for _, c := range d.Checks {
				got[c.Setting] = c.Status
			}
			for s, want := range tt.status {
				if st, ok := got[s]; !ok || st != want {
					t.Errorf("%s: status %v (present %v), want %v", s, st, ok, want)
				}
			}
			if _, ok := got[dspWow]; ok == tt.sys.is32 {
				t.Errorf("Wow6432Node checked on a 32-bit OS or not on a 64-bit one")
			}
			if !strings.Contains(d.Checks[0].Value, tt.version) {
				t.Errorf("version %q lacks %q", d.Checks[0].Value, tt.version)
			}
			fix := strings.Join(d.Fix, "\n")
			// Every HKLM\SOFTWARE line names its registry view on 64-bit
			// Windows, none on 32-bit (reg.exe there has one view).
			for _, l := range append(append([]string{}, d.Fix...), d.Recommended...) {
				if strings.HasPrefix(l, `reg add "HKLM\SOFTWARE`) && strings.HasSuffix(l, " /reg:64") == tt.sys.is32 {
					t.Errorf("registry view of %q on a %d-bit OS", l, map[bool]int{true: 32, false: 64}[tt.sys.is32])
				}
			}
			for _, s := range tt.fix {
				if !strings.Contains(fix, s) {
					t.Errorf("fix lacks %q:\n%s", s, fix)
				}
			}
			for _, s := range tt.noFix {
				if strings.Contains(fix, s) {
					t.Errorf("fix should not mention %q:\n%s", s, fix)
				}
			}
			if !d.Problem && len(d.Fix) > 0 {
				t.Errorf("fix without a problem: %q", d.Fix)
			}
			believed := strings.Join(d.Believed, "\n")
			for _, s := range tt.believed {
				if !strings.Contains(believed, s) {
					t.Errorf("believed lacks %q:\n%s", s, believed)
				}
			}
			var queries []string
			for _, c := range tt.runner.argv() {
				queries = append(queries, key(c))
			}
			if !reflect.DeepEqual(queries, tt.queries) {
				t.Errorf("commands run %q, want %q", queries, tt.queries)
			}
		})
	}
}

func TestDoctorBelievedFlags(t *testing.T) {
	d, err := Doctor(context.Background(), fakeSystem{build: 17763}, fakeRegistry{}, &fakeRunner{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range d.Checks {
		// Internet Options checks rest on a believed location; the
		// WinHTTP ones on verified facts.
		if strings.HasPrefix(c.Area, "Internet Options") != c.Believed {
			t.Errorf("%s %s: believed %v", c.Area, c.Setting, c.Believed)
		}
	}
	if len(d.Believed) != 1 {
		t.Errorf("believed %q, want only the Internet Options location", d.Believed)
	}
	// .NET: all eight keys missing on a 64-bit OS → eight recommendations
	// and the restart they need.
	if len(d.Recommended) != 9 || !strings.Contains(strings.Join(d.Recommended, "\n"), `reg add "HKLM\SOFTWARE\Wow6432Node\Microsoft\.NETFramework\v2.0.50727" /v SystemDefaultTlsVersions /t REG_DWORD /d 1 /f /reg:64`) ||
		!strings.HasPrefix(d.Recommended[8], "Restart the .NET application") {
		t.Errorf("recommended:\n%s", strings.Join(d.Recommended, "\n"))
	}
	b, err := json.Marshal(d)
	if err != nil || !strings.Contains(string(b), `"status":"ok"`) || !strings.Contains(string(b), `"believed":true`) {
		t.Errorf("json %v: %.300s", err, b)
	}
}

func TestStatusString(t *testing.T) {
	for s, want := range map[Status]string{StatusInfo: "info", StatusOK: "ok", StatusUnknown: "unknown", StatusWarning: "warning", StatusProblem: "problem", Status(9): "Status(9)"} {
		if s.String() != want {
			t.Errorf("%d: %q", int(s), s.String())
		}
	}
}

type failingSystem struct{ fakeSystem }

func (failingSystem) OSBuild() (uint32, error) { return 0, ErrNotWindows }

func TestDoctorOffWindows(t *testing.T) {
	if _, err := Doctor(context.Background(), failingSystem{}, fakeRegistry{}, &fakeRunner{}); !errors.Is(err, ErrNotWindows) {
		t.Errorf("err %v", err)
	}
}
