package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etlscope/etlscope/internal/nettrace"
	"github.com/etlscope/etlscope/trace"
)

// fakeNetsh pretends to be netsh: `trace stop` writes the HCW scenario to
// the trace file named in `trace start`.
type fakeNetsh struct {
	t     *testing.T
	calls []string
	file  string
}

func (f *fakeNetsh) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	c := name + " " + strings.Join(args, " ")
	f.calls = append(f.calls, c)
	for _, a := range args {
		if p, ok := strings.CutPrefix(a, "tracefile="); ok {
			f.file = p
		}
	}
	if c == "netsh trace stop" && f.file != "" {
		if err := os.WriteFile(f.file, nettrace.HCW2012(f.t), 0o644); err != nil {
			return nil, err
		}
	}
	if c == "netsh winhttp show tracing" {
		return []byte("Current WinHTTP Tracing settings:\n  Tracing is disabled.\n"), nil
	}
	return nil, nil
}

type fakeSys struct{ build uint32 }

func (fakeSys) IsElevated() (bool, error)  { return true, nil }
func (s fakeSys) OSBuild() (uint32, error) { return s.build, nil }

func withCaptureDeps(t *testing.T, r trace.Runner, goos string) {
	old := captureDeps
	captureDeps.runner, captureDeps.system, captureDeps.goos = r, fakeSys{9200}, goos
	t.Cleanup(func() { captureDeps = old })
}

func TestCaptureCommand(t *testing.T) {
	file := filepath.Join(t.TempDir(), "hcw.etl")
	fake := &fakeNetsh{t: t}
	withCaptureDeps(t, fake, "windows")
	code, out, errs := runCLI(t, "capture", "--file", file, "--run", "Invoke-WebRequest https://outlook.office365.com")
	if code != exitTLSProblem || !strings.Contains(out, "enabled SSL3.0|TLS1.0 only") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	want := []string{
		"netsh winhttp show tracing",
		"netsh trace show status",
		"netsh winhttp set tracing level=verbose format=hex output=file max-trace-file-size=512000 state=enabled",
		"netsh trace start scenario=InternetClient capture=yes tracefile=" + file + " maxsize=512 overwrite=yes",
		"powershell.exe -NoProfile -NonInteractive -Command Invoke-WebRequest https://outlook.office365.com",
		"netsh trace stop",
		"netsh winhttp set tracing state=disabled",
	}
	if strings.Join(fake.calls, "\n") != strings.Join(want, "\n") {
		t.Errorf("commands:\n%s", strings.Join(fake.calls, "\n"))
	}
	// The file exists now: a second capture refuses without --force and
	// runs nothing.
	fake2 := &fakeNetsh{t: t}
	withCaptureDeps(t, fake2, "windows")
	code, _, errs = runCLI(t, "capture", "--file", file, "--duration", "1ms")
	if code != exitUsage || !strings.Contains(errs, "--force") || len(fake2.calls) != 0 {
		t.Errorf("existing file: exit %d, %s, calls %v", code, errs, fake2.calls)
	}
}

func TestCaptureOffWindows(t *testing.T) {
	withCaptureDeps(t, &fakeNetsh{t: t}, "linux")
	code, _, errs := runCLI(t, "capture", "--duration", "1s")
	if code != exitUsage || !strings.Contains(errs, "Windows only") {
		t.Errorf("exit %d: %s", code, errs)
	}
	code, out, _ := runCLI(t, "capture", "--dry-run", "--no-packets", "--file", `C:\t\x.etl`, "--max-size", "1024")
	if code != 0 || !strings.Contains(out, `netsh trace start scenario=InternetClient tracefile=C:\t\x.etl maxsize=1024 overwrite=yes`) || strings.Contains(out, "capture=yes") {
		t.Errorf("dry run: exit %d\n%s", code, out)
	}
}

type fakeReg map[string]uint32

func (r fakeReg) DWORD(root, path, name string) (uint32, bool, error) {
	v, ok := r[root+`\`+path+`\`+name]
	return v, ok, nil
}

func TestDoctorCommand(t *testing.T) {
	old := doctorDeps
	t.Cleanup(func() { doctorDeps = old })
	doctorDeps.system, doctorDeps.registry, doctorDeps.runner = fakeSys{9200}, fakeReg{}, &fakeNetsh{t: t}
	code, out, _ := runCLI(t, "doctor")
	if code != exitTLSProblem || !strings.Contains(out, "KB3140245") || !strings.Contains(out, `reg add "HKLM\SOFTWARE\Wow6432Node`) {
		t.Errorf("doctor on 2012: exit %d\n%s", code, out)
	}
	doctorDeps.system = fakeSys{17763}
	code, out, _ = runCLI(t, "doctor", "-o", "json")
	var d trace.Diagnosis
	if err := json.Unmarshal([]byte(out), &d); err != nil || code != 0 || d.Problem {
		t.Errorf("doctor on 2019: exit %d, %v\n%s", code, err, out)
	}
	doctorDeps = old
	if code, _, errs := runCLI(t, "doctor"); code != exitUsage || !strings.Contains(errs, "Windows only") {
		t.Errorf("doctor off Windows: exit %d %s", code, errs)
	}
}

func TestWatchOffWindows(t *testing.T) {
	if code, _, errs := runCLI(t, "watch"); code != exitUsage || !strings.Contains(errs, "needs Windows") {
		t.Errorf("exit %d: %s", code, errs)
	}
	if code, _, _ := runCLI(t, "watch", "-f", "id =="); code != exitUsage {
		t.Errorf("bad filter: exit %d", code)
	}
}
