package winetest

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/etlscope/etlscope/internal/nettrace"
)

// EnvWine turns the Wine end-to-end tests on. .ci/run sets it after it
// prepared $WINEPREFIX (Wine 8 with the bcryptprimitives.dll built from
// bcryptprimitives/), so that Go programs start under Wine.
const EnvWine = "ETLSCOPE_WINE"

// wineEnv is what the end-to-end tests run etlscope.exe with.
type wineEnv struct {
	t    *testing.T
	dir  string // holds etlscope.exe and fake/{netsh,wmic,powershell}.exe
	work string
}

// winPath is a Unix path as Wine shows it to Windows programs (drive Z:
// is the Unix root in every Wine prefix).
func winPath(p string) string { return "Z:" + strings.ReplaceAll(p, "/", `\`) }

func newWineEnv(t *testing.T) *wineEnv {
	if os.Getenv(EnvWine) != "1" {
		t.Skipf("Wine end-to-end tests are off: .ci/run sets %s=1 after preparing WINEPREFIX (see internal/winetest)", EnvWine)
	}
	if runtime.GOOS == "windows" {
		t.Skip("runs Wine from Linux")
	}
	if os.Getenv("WINEPREFIX") == "" {
		t.Fatal("WINEPREFIX is not set: .ci/run prepares one")
	}
	if _, err := exec.LookPath("wine"); err != nil {
		t.Fatal("wine not found")
	}
	e := &wineEnv{t: t, dir: t.TempDir(), work: t.TempDir()}
	build := func(out, pkg string) {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
	}
	build(filepath.Join(e.dir, "etlscope.exe"), "github.com/etlscope/etlscope/cmd/etlscope")
	fake := filepath.Join(e.dir, "fake")
	build(filepath.Join(fake, "netsh.exe"), "github.com/etlscope/etlscope/internal/winetest/fakewin")
	b, err := os.ReadFile(filepath.Join(fake, "netsh.exe"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"wmic.exe", "powershell.exe"} {
		if err := os.WriteFile(filepath.Join(fake, n), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// run runs a Windows program under Wine with the fakes first on the
// Windows PATH (WINEPATH is prepended to it) and env added; it returns the
// exit status, stdout and stderr.
func (e *wineEnv) run(env []string, prog string, args ...string) (int, string, string) {
	e.t.Helper()
	cmd := exec.Command("wine", append([]string{prog}, args...)...)
	cmd.Dir = e.work
	cmd.Env = append(append(os.Environ(), "WINEDEBUG=-all", "WINEPATH="+winPath(filepath.Join(e.dir, "fake"))), env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("wine %s: %v", prog, err)
	}
	e.t.Logf("wine %s %s: exit %d in %v", filepath.Base(prog), strings.Join(args, " "), code, time.Since(start).Round(time.Millisecond))
	return code, out.String(), errb.String()
}

func (e *wineEnv) etlscope(env []string, args ...string) (int, string, string) {
	return e.run(env, filepath.Join(e.dir, "etlscope.exe"), args...)
}

// wine runs one of Wine's own programs (reg, winecfg) and fails on error.
func (e *wineEnv) wine(args ...string) {
	e.t.Helper()
	if code, out, errs := e.run(nil, args[0], args[1:]...); code != 0 {
		e.t.Fatalf("wine %q: exit %d\n%s%s", args, code, out, errs)
	}
}

// fakeLog returns the invocations the fakes logged.
func fakeLog(t *testing.T, p string) []string {
	b, err := os.ReadFile(p)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Fields(strings.ReplaceAll(strings.TrimSpace(string(b)), " ", "\x00"))
}

func count(lines []string, prefix string) int {
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(strings.ReplaceAll(l, "\x00", " "), prefix) {
			n++
		}
	}
	return n
}

// TestWineCapture runs the real etlscope.exe capture under Wine against
// the fake netsh: a netsh that cannot `winhttp set tracing` (Windows 7 and
// later, per Microsoft's netsh winhttp reference) still gets exactly one
// trace start and one trace stop, no WinHTTP restore, and the .etl it
// writes is analyzed (the HCW 2012 scenario: exit 3). A netsh that writes
// no .etl makes capture fail.
func TestWineCapture(t *testing.T) {
	e := newWineEnv(t)
	fixture := filepath.Join(e.work, "fixture.etl")
	if err := os.WriteFile(fixture, nettrace.HCW2012(t), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("winhttp set tracing fails", func(t *testing.T) {
		log := filepath.Join(e.work, "netsh1.log")
		out := filepath.Join(e.work, "hcw.etl")
		code, stdout, stderr := e.etlscope([]string{"ETLSCOPE_FAKE_LOG=" + winPath(log), "ETLSCOPE_FAKE_ETL=" + winPath(fixture), "ETLSCOPE_FAKE_FAIL=winhttp set tracing"},
			"capture", "--file", winPath(out), "--duration", "1s")
		calls := fakeLog(t, log)
		if code != 3 || !strings.Contains(stdout, "SSL3.0|TLS1.0") {
			t.Errorf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		if count(calls, "netsh trace start") != 1 || count(calls, "netsh trace stop") != 1 || count(calls, "netsh winhttp set tracing") != 1 {
			t.Errorf("netsh calls: %q", calls)
		}
		if !strings.Contains(stderr, "warning: `netsh winhttp set tracing") || !strings.Contains(stderr, "WinHTTP tracing was not changed") {
			t.Errorf("stderr:\n%s", stderr)
		}
		if st, err := os.Stat(out); err != nil || st.Size() == 0 {
			t.Errorf("trace %s: %v", out, err)
		}
	})
	t.Run("netsh writes no trace", func(t *testing.T) {
		log := filepath.Join(e.work, "netsh2.log")
		code, _, stderr := e.etlscope([]string{"ETLSCOPE_FAKE_LOG=" + winPath(log)},
			"capture", "--file", winPath(filepath.Join(e.work, "none.etl")), "--duration", "1s", "--no-analyze")
		if code == 0 || !strings.Contains(stderr, "netsh wrote no trace") {
			t.Errorf("exit %d\n%s", code, stderr)
		}
		calls := fakeLog(t, log)
		if count(calls, "netsh trace stop") != 1 || count(calls, "netsh winhttp set tracing state=disabled") != 1 {
			t.Errorf("netsh calls: %q", calls)
		}
	})
}

// doctorJSON is the part of doctor's JSON the test reads.
type doctorJSON struct {
	OS      struct{ Build uint32 }
	Problem bool
	Checks  []struct{ Setting, Value, Status string }
	Fix     []string
}

func (d *doctorJSON) status(setting string) string {
	for _, c := range d.Checks {
		if strings.HasSuffix(c.Setting, setting) {
			return c.Value + " " + c.Status
		}
	}
	return "missing"
}

// TestWineDoctor runs the real etlscope.exe doctor under Wine against the
// Wine registry, written with Wine's reg.exe in both registry views
// (/reg:64, /reg:32), and the fake wmic, which writes UTF-16LE as wmic
// does into a pipe; winecfg sets the Windows version RtlGetVersion reports.
// (Each Wine program start costs a second or more, so the scenarios are
// few; the doctor rules themselves are unit-tested in trace.)
func TestWineDoctor(t *testing.T) {
	e := newWineEnv(t)
	const winhttp = `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings\WinHttp`
	e.wine("reg", "add", winhttp, "/v", "DefaultSecureProtocols", "/t", "REG_DWORD", "/d", "0xA80", "/f", "/reg:64")
	e.wine("reg", "add", winhttp, "/v", "DefaultSecureProtocols", "/t", "REG_DWORD", "/d", "0xA80", "/f", "/reg:32")
	log := filepath.Join(e.work, "wmic.log")
	env := []string{"ETLSCOPE_FAKE_LOG=" + winPath(log), "ETLSCOPE_FAKE_HOTFIXES=KB2919355,KB3140245"}
	doctor := func(t *testing.T) (int, doctorJSON) {
		code, out, stderr := e.etlscope(env, "doctor", "-o", "json")
		var d doctorJSON
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatalf("exit %d, %v\n%s\n%s", code, err, out, stderr)
		}
		return code, d
	}

	t.Run("Windows 7: both views, KB3140245 from UTF-16 wmic, SCHANNEL keys missing", func(t *testing.T) {
		e.wine("winecfg", "-v", "win7")
		code, d := doctor(t)
		if d.OS.Build != 7601 || code != 3 || !d.Problem {
			t.Errorf("build %d, exit %d, problem %v", d.OS.Build, code, d.Problem)
		}
		for setting, want := range map[string]string{
			`\Internet Settings\WinHttp\DefaultSecureProtocols`:                                             "0xa80 ok",
			`Wow6432Node\Microsoft\Windows\CurrentVersion\Internet Settings\WinHttp\DefaultSecureProtocols`: "0xa80 ok",
			"KB3140245 (DefaultSecureProtocols support)":                                                    "installed ok",
			`TLS 1.2\Client`: "not set (OS default) problem",
		} {
			if got := d.status(setting); got != want {
				t.Errorf("%s: %q, want %q", setting, got, want)
			}
		}
		if fix := strings.Join(d.Fix, "\n"); !strings.Contains(fix, `TLS 1.2\Client" /v DisabledByDefault /t REG_DWORD /d 0 /f`) || !strings.Contains(fix, "Reboot") {
			t.Errorf("fix:\n%s", fix)
		}
		if calls := fakeLog(t, log); count(calls, "wmic qfe get HotFixID") != 1 {
			t.Errorf("hotfix queries %q", calls)
		}
	})
	t.Run("Windows 8.1: no KB3140245 needed, no hotfix query", func(t *testing.T) {
		e.wine("winecfg", "-v", "win81")
		os.Remove(log)
		code, d := doctor(t)
		if d.OS.Build != 9600 || code != 0 || d.Problem {
			t.Errorf("build %d, exit %d, problem %v", d.OS.Build, code, d.Problem)
		}
		if calls := fakeLog(t, log); len(calls) != 0 {
			t.Errorf("hotfix queries on 8.1: %q", calls)
		}
	})
}
