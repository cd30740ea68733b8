package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etlscope/etlscope/internal/nettrace"
	"github.com/etlscope/etlscope/internal/winetest"
	"github.com/etlscope/etlscope/trace"
	"github.com/etlscope/etlscope/wintls"
)

// fakeNetsh pretends to be netsh: `trace stop` writes the HCW scenario to
// the trace file named in `trace start`. fail names a command that fails.
type fakeNetsh struct {
	t       *testing.T
	calls   []string
	file    string
	fail    map[string]error
	noTrace bool // trace stop writes nothing
	onRun   func(c string)
}

func (f *fakeNetsh) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	c := name + " " + strings.Join(args, " ")
	f.calls = append(f.calls, c)
	if f.onRun != nil {
		f.onRun(c)
	}
	if err := f.fail[c]; err != nil {
		return []byte("The underlying connection was closed: An unexpected error occurred on a send."), err
	}
	for _, a := range args {
		if p, ok := strings.CutPrefix(a, "tracefile="); ok {
			f.file = p
		}
	}
	if c == "netsh trace stop" && f.file != "" && !f.noTrace {
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
func (fakeSys) Is64BitOS() (bool, error)   { return true, nil }
func (fakeSys) Edition() (wintls.Edition, error) {
	return wintls.EditionServer, nil
}

// fakeWindows is a machine with runner r that says it runs goos, a
// Server 2012 without session-end signals.
func fakeWindows(r trace.Runner, goos string) *machine {
	m := realMachine()
	m.runner, m.system, m.goos = r, fakeSys{9200}, goos
	m.sessionEnding = func() (<-chan struct{}, func()) { return nil, func() {} }
	return m
}

const hcwRun = "Invoke-WebRequest https://outlook.office365.com"

func hcwSequence(file string) []string {
	return []string{
		"netsh winhttp show tracing",
		"netsh trace show status",
		"netsh winhttp set tracing level=verbose format=hex output=file max-trace-file-size=512000 state=enabled",
		"netsh trace start scenario=InternetClient capture=yes tracefile=" + file + " filemode=single maxsize=512 overwrite=yes",
		"powershell.exe -NoProfile -NonInteractive -Command " + hcwRun,
		"netsh trace stop",
		"netsh winhttp set tracing state=disabled",
	}
}

func TestCaptureCommand(t *testing.T) {
	file := filepath.Join(winetest.TempDir(t), "hcw.etl")
	fake := &fakeNetsh{t: t}
	m := fakeWindows(fake, "windows")
	code, out, errs := runOn(t, m, "capture", "--file", file, "--run", hcwRun)
	if code != exitTLSProblem || !strings.Contains(out, "enabled SSL3.0|TLS1.0 only") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if strings.Join(fake.calls, "\n") != strings.Join(hcwSequence(file), "\n") {
		t.Errorf("commands:\n%s", strings.Join(fake.calls, "\n"))
	}
	if !strings.Contains(errs, "wrote "+file) || !strings.Contains(errs, "WinHTTP tracing restored (netsh winhttp set tracing state=disabled)") {
		t.Errorf("stderr:\n%s", errs)
	}
	// The file exists now: a second capture refuses without --force and
	// runs nothing.
	fake2 := &fakeNetsh{t: t}
	m = fakeWindows(fake2, "windows")
	code, _, errs = runOn(t, m, "capture", "--file", file, "--duration", "1ms")
	if code != exitUsage || !strings.Contains(errs, "--force") || len(fake2.calls) != 0 {
		t.Errorf("existing file: exit %d, %s, calls %v", code, errs, fake2.calls)
	}
}

func TestCaptureRunFailsStillAnalyzes(t *testing.T) {
	file := filepath.Join(winetest.TempDir(t), "hcw.etl")
	fake := &fakeNetsh{t: t, fail: map[string]error{"powershell.exe -NoProfile -NonInteractive -Command " + hcwRun: errors.New("exit status 1")}}
	m := fakeWindows(fake, "windows")
	var analyzed string
	m.analyze = func(ctx context.Context, path string, o *captureOptions, s *streams) error {
		analyzed = path
		return nil
	}
	code, _, errs := runOn(t, m, "capture", "--file", file, "--run", hcwRun)
	if code != 0 || analyzed != file {
		t.Fatalf("exit %d, analyzed %q\n%s", code, analyzed, errs)
	}
	if !strings.Contains(errs, "the reproduction command failed") || !strings.Contains(errs, "An unexpected error occurred on a send") {
		t.Errorf("stderr lacks the command's failure:\n%s", errs)
	}
	if strings.Join(fake.calls, "\n") != strings.Join(hcwSequence(file), "\n") {
		t.Errorf("commands:\n%s", strings.Join(fake.calls, "\n"))
	}
}

func TestCaptureStartFails(t *testing.T) {
	file := filepath.Join(winetest.TempDir(t), "hcw.etl")
	start := hcwSequence(file)[3]
	fake := &fakeNetsh{t: t, fail: map[string]error{start: errors.New("exit status 1")}}
	m := fakeWindows(fake, "windows")
	code, _, errs := runOn(t, m, "capture", "--file", file, "--no-analyze", "--duration", "1s")
	if code != exitUsage || !strings.Contains(errs, "start the trace") {
		t.Errorf("exit %d\n%s", code, errs)
	}
	seq := hcwSequence(file)
	want := []string{seq[0], seq[1], seq[2], seq[3], seq[6]}
	if strings.Join(fake.calls, "\n") != strings.Join(want, "\n") {
		t.Errorf("commands:\n%s", strings.Join(fake.calls, "\n"))
	}
}

func TestCaptureOffWindows(t *testing.T) {
	fake := &fakeNetsh{t: t}
	m := fakeWindows(fake, "linux")
	code, _, errs := runOn(t, m, "capture", "--duration", "1s")
	if code != exitUsage || !strings.Contains(errs, "Windows only") || !strings.Contains(errs, "--dry-run") || len(fake.calls) != 0 {
		t.Errorf("exit %d: %s", code, errs)
	}
	code, out, _ := runOn(t, m, "capture", "--dry-run", "--no-packets", "--file", `C:\t\x.etl`, "--max-size", "1024", "--run", "Test-NetConnection outlook.office365.com -Port 443")
	want := `netsh winhttp show tracing
netsh trace show status
netsh winhttp set tracing level=verbose format=hex output=file max-trace-file-size=512000 state=enabled
netsh trace start scenario=InternetClient tracefile=C:\t\x.etl filemode=single maxsize=1024 overwrite=yes
powershell.exe -NoProfile -NonInteractive -Command "Test-NetConnection outlook.office365.com -Port 443"
netsh trace stop
netsh winhttp set tracing state=disabled
`
	if code != 0 || out != want || len(fake.calls) != 0 {
		t.Errorf("dry run: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{{"capture", "--max-size", "0", "--dry-run"}, {"capture", "-o", "xml", "--dry-run"}} {
		if code, _, _ := runOn(t, m, args...); code != exitUsage {
			t.Errorf("%q: exit %d", args, code)
		}
	}
}

// interruptingNetsh is fakeNetsh whose reproduction command is stopped by a
// Ctrl-C (SIGINT to this process, or interrupt when set) while it runs.
type interruptingNetsh struct {
	fakeNetsh
	interrupt func()
}

func (f *interruptingNetsh) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	if name != "powershell.exe" {
		return f.fakeNetsh.Run(ctx, name, args...)
	}
	f.calls = append(f.calls, name+" "+strings.Join(args, " "))
	if f.interrupt != nil {
		f.interrupt()
		<-ctx.Done()
		return nil, ctx.Err()
	}
	p, err := os.FindProcess(os.Getpid())
	if err == nil {
		err = p.Signal(os.Interrupt)
	}
	if err != nil {
		f.t.Skipf("cannot send an interrupt here: %v", err)
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestCaptureCtrlC(t *testing.T) {
	file := filepath.Join(winetest.TempDir(t), "hcw.etl")
	fake := &interruptingNetsh{fakeNetsh: fakeNetsh{t: t}}
	m := fakeWindows(fake, "windows")
	m.analyze = func(context.Context, string, *captureOptions, *streams) error {
		t.Error("analyzed an interrupted capture")
		return nil
	}
	code, _, errs := runOn(t, m, "capture", "--file", file, "--run", hcwRun)
	if code != exitUsage || !strings.Contains(errs, "capture interrupted") || !strings.Contains(errs, "was kept; analyze it with: etlscope analyze "+file) {
		t.Errorf("exit %d\n%s", code, errs)
	}
	if strings.Join(fake.calls, "\n") != strings.Join(hcwSequence(file), "\n") {
		t.Errorf("commands:\n%s", strings.Join(fake.calls, "\n"))
	}
}

// TestCaptureWinHTTPStepFails is Windows 7 and later, where Microsoft
// documents no netsh winhttp set tracing: capture warns, starts and stops
// the trace exactly once, restores nothing and analyzes the trace.
func TestCaptureWinHTTPStepFails(t *testing.T) {
	file := filepath.Join(winetest.TempDir(t), "hcw.etl")
	seq := hcwSequence(file)
	fake := &fakeNetsh{t: t, fail: map[string]error{seq[2]: errors.New("exit status 1")}}
	m := fakeWindows(fake, "windows")
	code, out, errs := runOn(t, m, "capture", "--file", file, "--run", hcwRun)
	if code != exitTLSProblem || !strings.Contains(out, "enabled SSL3.0|TLS1.0 only") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if got := strings.Join(fake.calls, "\n"); got != strings.Join(seq[:6], "\n") {
		t.Errorf("commands:\n%s", got)
	}
	if !strings.Contains(errs, "warning: `netsh winhttp set tracing") || !strings.Contains(errs, "WinHTTP tracing was not changed") {
		t.Errorf("stderr:\n%s", errs)
	}
}

func TestCaptureNoTraceWritten(t *testing.T) {
	file := filepath.Join(winetest.TempDir(t), "hcw.etl")
	fake := &fakeNetsh{t: t, noTrace: true}
	m := fakeWindows(fake, "windows")
	m.analyze = func(context.Context, string, *captureOptions, *streams) error {
		t.Error("analyzed a missing trace")
		return nil
	}
	code, _, errs := runOn(t, m, "capture", "--file", file, "--no-analyze", "--duration", "1ms")
	if code == 0 || !strings.Contains(errs, "netsh wrote no trace") || strings.Contains(errs, "wrote "+file) {
		t.Errorf("exit %d\n%s", code, errs)
	}
	if strings.Join(fake.calls, "\n") != strings.Join(append(hcwSequence(file)[:4], hcwSequence(file)[5:]...), "\n") {
		t.Errorf("commands:\n%s", strings.Join(fake.calls, "\n"))
	}
}

// TestCaptureSessionEnding is the console window closing (or logoff,
// shutdown) while the reproduction runs: WinHTTP tracing is restored
// before the trace is stopped, and nothing is analyzed.
func TestCaptureSessionEnding(t *testing.T) {
	file := filepath.Join(winetest.TempDir(t), "hcw.etl")
	ended := make(chan struct{})
	fake := &interruptingNetsh{fakeNetsh{t: t}, func() { close(ended) }}
	m := fakeWindows(fake, "windows")
	m.sessionEnding = func() (<-chan struct{}, func()) { return ended, func() {} }
	m.analyze = func(context.Context, string, *captureOptions, *streams) error {
		t.Error("analyzed an interrupted capture")
		return nil
	}
	code, _, errs := runOn(t, m, "capture", "--file", file, "--run", hcwRun)
	if code == 0 || !strings.Contains(errs, "capture interrupted: the console is closing") {
		t.Errorf("exit %d\n%s", code, errs)
	}
	seq := hcwSequence(file)
	if want := []string{seq[0], seq[1], seq[2], seq[3], seq[4], seq[6], seq[5]}; strings.Join(fake.calls, "\n") != strings.Join(want, "\n") {
		t.Errorf("commands:\n%s", strings.Join(fake.calls, "\n"))
	}
}
