package trace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etlscope/etlscope/internal/winetest"
	"github.com/etlscope/etlscope/wintls"
)

// fakeRunner records the exact argv of every command. A command is named
// by its argv joined with single spaces.
type fakeRunner struct {
	mu      sync.Mutex
	calls   [][]string
	fail    map[string]error  // command → error
	outputs map[string]string // command → output (also returned with an error)
	block   map[string]bool   // command → blocks until its ctx is done
	// cancelOn names a command during which cancel (Ctrl-C) is called;
	// like exec, the command then fails if its own ctx was cancelled.
	cancelOn string
	cancel   func()
	// noTrace makes netsh write nothing; otherwise trace start and trace
	// stop write traceData (default a few bytes) to the tracefile, as
	// netsh does.
	noTrace   bool
	traceData []byte
	tracefile string
}

func (f *fakeRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	argv := append([]string{name}, args...)
	c := strings.Join(argv, " ")
	f.mu.Lock()
	f.calls = append(f.calls, argv)
	f.mu.Unlock()
	if c == f.cancelOn {
		f.cancel()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	if f.block[c] {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	out := []byte(f.outputs[c])
	if err := f.fail[c]; err != nil {
		return out, err
	}
	for _, a := range args {
		if p, ok := strings.CutPrefix(a, "tracefile="); ok {
			f.tracefile = p
		}
	}
	// netsh's ETW session writes the file while tracing; stop finishes it.
	if (c == key(traceStop) || len(args) > 1 && args[0] == "trace" && args[1] == "start") && f.tracefile != "" && !f.noTrace {
		data := f.traceData
		if data == nil {
			data = []byte("an .etl")
		}
		if err := os.WriteFile(f.tracefile, data, 0o644); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (f *fakeRunner) argv() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

type fakeSystem struct {
	elevated bool
	build    uint32
	is32     bool
	edition  wintls.Edition
}

func (s fakeSystem) IsElevated() (bool, error)        { return s.elevated, nil }
func (s fakeSystem) Edition() (wintls.Edition, error) { return s.edition, nil }
func (s fakeSystem) OSBuild() (uint32, error)         { return s.build, nil }
func (s fakeSystem) Is64BitOS() (bool, error)         { return !s.is32, nil }

// The argv of each step, exactly.
var (
	showWinHTTP = []string{"netsh", "winhttp", "show", "tracing"}
	showTrace   = []string{"netsh", "trace", "show", "status"}
	winhttpOn   = []string{"netsh", "winhttp", "set", "tracing", "level=verbose", "format=hex", "output=file", "max-trace-file-size=512000", "state=enabled"}
	traceStop   = []string{"netsh", "trace", "stop"}
	winhttpOff  = []string{"netsh", "winhttp", "set", "tracing", "state=disabled"}
	runHCW      = []string{"powershell.exe", "-NoProfile", "-NonInteractive", "-Command", "Invoke-WebRequest https://outlook.office365.com"}
)

func traceStart(out string) []string {
	return []string{"netsh", "trace", "start", "scenario=InternetClient", "capture=yes", "tracefile=" + out, "filemode=single", "maxsize=512", "overwrite=yes"}
}

func key(argv []string) string { return strings.Join(argv, " ") }

const (
	winHTTPOffOutput = "\nCurrent WinHTTP Tracing settings:\n\n    Tracing is disabled.\n"
	noSession        = "There is no trace session currently in progress.\n"
	running          = "\nTrace configuration:\n-------------------------------------------------------------------\nStatus:             Running\nTrace File:         C:\\Users\\a\\AppData\\Local\\Temp\\NetTraces\\NetTrace.etl\nAppend:             Off\nCircular:           On\nMax Size:           512 MB\nReport:             Off\n"
	configuredOff    = "Current WinHTTP Tracing settings:\r\n\r\n    Tracing is not enabled.\r\n\r\n    Trace File Prefix: C:\\Temp\\Test3\r\n    Trace Output: file\r\n    Trace Level:  verbose (headers, APIs, and entity body)\r\n    Network Traffic Format: ansi\r\n    Maximum size of trace file (in bytes): 65535\r\n"
	configuredOn     = "Current WinHTTP Tracing settings:\n    Tracing is enabled.\n    Trace File Prefix: (none)\n    Trace Output: file and debugger\n    Trace Level: default (headers and top-level APIs only)\n    Network Traffic Format: ansi\n    Maximum size of trace file (in bytes): 65535\n"
)

var errBoom = errors.New("boom")

func TestCaptureSequence(t *testing.T) {
	out := filepath.Join(winetest.TempDir(t), "NetTrace.etl")
	start := traceStart(out)
	base := map[string]string{key(showWinHTTP): winHTTPOffOutput, key(showTrace): noSession}
	with := func(m map[string]string) map[string]string {
		r := map[string]string{}
		for k, v := range base {
			r[k] = v
		}
		for k, v := range m {
			r[k] = v
		}
		return r
	}
	tests := []struct {
		name      string
		runner    *fakeRunner
		opts      func(*Options)
		cancelIn  time.Duration // cancel ctx after this long
		wantErr   []string      // substrings of the error; none: success
		wantIs    error
		wantRun   string // substring of Result.RunErr
		noResult  bool
		noRestore bool  // the WinHTTP step changed nothing
		cause     error // cancel ctx with this cause
		want      [][]string
		wantWarns int
		wantWarn  string // substring of a warning
	}{
		{
			name:   "happy path",
			runner: &fakeRunner{outputs: base},
			want:   [][]string{showWinHTTP, showTrace, winhttpOn, start, runHCW, traceStop, winhttpOff},
		},
		{
			name:     "start fails: WinHTTP tracing is still restored, no stop",
			runner:   &fakeRunner{outputs: base, fail: map[string]error{key(start): errBoom}},
			wantErr:  []string{"start the trace: boom"},
			noResult: true,
			want:     [][]string{showWinHTTP, showTrace, winhttpOn, start, winhttpOff},
		},
		{
			name:      "WinHTTP tracing cannot be switched on (Windows 7 and later): warn, trace anyway, nothing to restore",
			runner:    &fakeRunner{outputs: base, fail: map[string]error{key(winhttpOn): errBoom}},
			want:      [][]string{showWinHTTP, showTrace, winhttpOn, start, runHCW, traceStop},
			wantWarns: 1,
			noRestore: true,
		},
		{
			// The Windows 7+ layout: Microsoft's netsh winhttp reference says
			// set tracing and show tracing point to netsh trace; the exact
			// words are not documented, only that they name netsh trace.
			name: "netsh answers set tracing with a pointer to netsh trace: nothing changed, nothing restored",
			runner: &fakeRunner{outputs: with(map[string]string{
				key(showWinHTTP): "\nUse \"netsh trace show\" to view the trace settings.\n",
				key(winhttpOn):   "\nUse \"netsh trace start scenario=InternetClient\" to collect WinHTTP traces.\n"})},
			want:      [][]string{showWinHTTP, showTrace, winhttpOn, start, runHCW, traceStop},
			wantWarns: 1,
			noRestore: true,
		},
		{
			name:    "netsh trace stop succeeds but writes no trace: an error",
			runner:  &fakeRunner{outputs: base, noTrace: true},
			wantErr: []string{"netsh wrote no trace", "does not exist"},
			wantIs:  ErrNoTrace,
			want:    [][]string{showWinHTTP, showTrace, winhttpOn, start, runHCW, traceStop, winhttpOff},
		},
		{
			name:    "netsh trace stop writes an empty trace: an error",
			runner:  &fakeRunner{outputs: base, traceData: []byte{}},
			wantErr: []string{"is empty"},
			wantIs:  ErrNoTrace,
			want:    [][]string{showWinHTTP, showTrace, winhttpOn, start, runHCW, traceStop, winhttpOff},
		},
		{
			name:    "console closed, logoff or shutdown: WinHTTP restored first, then the trace stopped",
			runner:  &fakeRunner{outputs: base, cancelOn: key(runHCW)},
			cause:   ErrSessionEnding,
			wantErr: []string{"capture interrupted: the console is closing"},
			wantIs:  ErrInterrupted,
			want:    [][]string{showWinHTTP, showTrace, winhttpOn, start, runHCW, winhttpOff, traceStop},
		},
		{
			name:    "reproduction command fails: stop and restore, the trace counts",
			runner:  &fakeRunner{outputs: with(map[string]string{key(runHCW): "The underlying connection was closed"}), fail: map[string]error{key(runHCW): errBoom}},
			wantRun: "the reproduction command failed: boom",
			want:    [][]string{showWinHTTP, showTrace, winhttpOn, start, runHCW, traceStop, winhttpOff},
		},
		{
			name:    "reproduction command outlives --duration: stopped, stop and restore",
			runner:  &fakeRunner{outputs: base, block: map[string]bool{key(runHCW): true}},
			opts:    func(o *Options) { o.Duration = 20 * time.Millisecond },
			wantRun: "still running after 20ms",
			want:    [][]string{showWinHTTP, showTrace, winhttpOn, start, runHCW, traceStop, winhttpOff},
		},
		{
			name:    "user interrupts the reproduction command (Ctrl-C): stop and restore",
			runner:  &fakeRunner{outputs: base, cancelOn: key(runHCW)},
			wantErr: []string{"capture interrupted"},
			wantIs:  ErrInterrupted,
			want:    [][]string{showWinHTTP, showTrace, winhttpOn, start, runHCW, traceStop, winhttpOff},
		},
		{
			name:     "user interrupts while waiting for Enter: stop and restore",
			runner:   &fakeRunner{outputs: base},
			opts:     func(o *Options) { o.Run, o.Enter = "", blockingReader{} },
			cancelIn: 20 * time.Millisecond,
			wantIs:   ErrInterrupted,
			want:     [][]string{showWinHTTP, showTrace, winhttpOn, start, traceStop, winhttpOff},
		},
		{
			name:     "user interrupts a --duration capture: stop and restore",
			runner:   &fakeRunner{outputs: base},
			opts:     func(o *Options) { o.Run, o.Duration = "", time.Hour },
			cancelIn: 20 * time.Millisecond,
			wantIs:   ErrInterrupted,
			want:     [][]string{showWinHTTP, showTrace, winhttpOn, start, traceStop, winhttpOff},
		},
		{
			name:    "standard input closed: stop and restore",
			runner:  &fakeRunner{outputs: base},
			opts:    func(o *Options) { o.Run, o.Enter = "", strings.NewReader("") },
			wantErr: []string{"standard input closed"},
			want:    [][]string{showWinHTTP, showTrace, winhttpOn, start, traceStop, winhttpOff},
		},
		{
			name:    "stop fails: restore is still attempted",
			runner:  &fakeRunner{outputs: base, fail: map[string]error{key(traceStop): errBoom}},
			wantErr: []string{"netsh trace stop failed (run `netsh trace stop` yourself): boom"},
			want:    [][]string{showWinHTTP, showTrace, winhttpOn, start, runHCW, traceStop, winhttpOff},
		},
		{
			name:      "stop and restore fail: the stop is an error, the restore a warning with the command",
			runner:    &fakeRunner{outputs: base, fail: map[string]error{key(traceStop): errBoom, key(winhttpOff): errors.New("bang")}},
			wantErr:   []string{"netsh trace stop failed (run `netsh trace stop` yourself): boom"},
			wantWarn:  "restoring WinHTTP tracing failed (run `netsh winhttp set tracing state=disabled` yourself): bang",
			wantWarns: 1,
			want:      [][]string{showWinHTTP, showTrace, winhttpOn, start, runHCW, traceStop, winhttpOff},
		},
		{
			name:      "a good trace whose restore fails: no error, a warning",
			runner:    &fakeRunner{outputs: base, fail: map[string]error{key(winhttpOff): errors.New("bang")}},
			wantWarn:  "run `netsh winhttp set tracing state=disabled` yourself",
			wantWarns: 1,
			want:      [][]string{showWinHTTP, showTrace, winhttpOn, start, runHCW, traceStop, winhttpOff},
		},
		{
			name:     "start and restore fail: both errors (the machine was changed and no trace exists)",
			runner:   &fakeRunner{outputs: base, fail: map[string]error{key(start): errBoom, key(winhttpOff): errors.New("bang")}},
			wantErr:  []string{"start the trace: boom", "restoring WinHTTP tracing failed"},
			noResult: true,
			want:     [][]string{showWinHTTP, showTrace, winhttpOn, start, winhttpOff},
		},
		{
			name:    "stop hangs: timed out, restore still runs",
			runner:  &fakeRunner{outputs: base, block: map[string]bool{key(traceStop): true}},
			opts:    func(o *Options) { o.StopTimeout = 20 * time.Millisecond },
			wantErr: []string{"netsh trace stop failed", "no answer after 20ms"},
			want:    [][]string{showWinHTTP, showTrace, winhttpOn, start, runHCW, traceStop, winhttpOff},
		},
		{
			name:   "WinHTTP tracing was configured but off: its settings are re-applied, off",
			runner: &fakeRunner{outputs: with(map[string]string{key(showWinHTTP): configuredOff})},
			want: [][]string{showWinHTTP, showTrace, winhttpOn, start, runHCW, traceStop,
				{"netsh", "winhttp", "set", "tracing", "output=file", "level=verbose", "format=ansi", "max-trace-file-size=65535", "state=disabled"}},
		},
		{
			name:    "WinHTTP tracing was on: its settings are re-applied, on, also when start fails",
			runner:  &fakeRunner{outputs: with(map[string]string{key(showWinHTTP): configuredOn}), fail: map[string]error{key(start): errBoom}},
			wantErr: []string{"start the trace"},
			want: [][]string{showWinHTTP, showTrace, winhttpOn, start,
				{"netsh", "winhttp", "set", "tracing", "output=both", "level=default", "format=ansi", "max-trace-file-size=65535", "state=enabled"}},
			noResult: true,
		},
		{
			name:      "WinHTTP tracing state not understood: warn, switch it off afterwards",
			runner:    &fakeRunner{outputs: with(map[string]string{key(showWinHTTP): "Aktuelle WinHTTP-Ablaufverfolgungseinstellungen:\n"})},
			want:      [][]string{showWinHTTP, showTrace, winhttpOn, start, runHCW, traceStop, winhttpOff},
			wantWarns: 1,
		},
		{
			name:      "netsh winhttp show tracing fails: warn, switch it off afterwards",
			runner:    &fakeRunner{outputs: base, fail: map[string]error{key(showWinHTTP): errBoom}},
			want:      [][]string{showWinHTTP, showTrace, winhttpOn, start, runHCW, traceStop, winhttpOff},
			wantWarns: 1,
		},
		{
			name:     "a trace is already running: refuse, change nothing",
			runner:   &fakeRunner{outputs: with(map[string]string{key(showTrace): running})},
			wantErr:  []string{"already running (writing C:\\Users\\a\\AppData\\Local\\Temp\\NetTraces\\NetTrace.etl)", "--force-stop-existing"},
			noResult: true,
			want:     [][]string{showWinHTTP, showTrace},
		},
		{
			name:   "a trace is already running, --force-stop-existing: stopped first",
			runner: &fakeRunner{outputs: with(map[string]string{key(showTrace): running})},
			opts:   func(o *Options) { o.ForceStopExisting = true },
			want:   [][]string{showWinHTTP, showTrace, traceStop, winhttpOn, start, runHCW, traceStop, winhttpOff},
		},
		{
			name:     "the running trace cannot be stopped: change nothing",
			runner:   &fakeRunner{outputs: with(map[string]string{key(showTrace): running}), fail: map[string]error{key(traceStop): errBoom}},
			opts:     func(o *Options) { o.ForceStopExisting = true },
			wantErr:  []string{"stop the netsh trace that was already running: boom"},
			noResult: true,
			want:     [][]string{showWinHTTP, showTrace, traceStop},
		},
		{
			name:     "interrupted before anything changed: change nothing",
			runner:   &fakeRunner{outputs: base, block: map[string]bool{key(showTrace): true}},
			cancelIn: 20 * time.Millisecond,
			wantIs:   ErrInterrupted,
			noResult: true,
			want:     [][]string{showWinHTTP, showTrace},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Force: an earlier case's fake netsh wrote the file.
			o := Options{Output: out, Force: true, Packets: true, Run: "Invoke-WebRequest https://outlook.office365.com"}
			if tt.opts != nil {
				tt.opts(&o)
			}
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			if tt.cancelIn > 0 {
				time.AfterFunc(tt.cancelIn, func() { cancel(tt.cause) })
			}
			if tt.runner.cancelOn != "" {
				tt.runner.cancel = func() { cancel(tt.cause) }
			}
			res, err := Capture(ctx, tt.runner, fakeSystem{elevated: true}, o)
			if len(tt.wantErr) == 0 && tt.wantIs == nil && err != nil {
				t.Fatalf("error: %v", err)
			}
			if (len(tt.wantErr) > 0 || tt.wantIs != nil) && err == nil {
				t.Fatalf("no error, want %q", tt.wantErr)
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
			if got := tt.runner.argv(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("commands:\n%s\nwant:\n%s", fmtArgv(got), fmtArgv(tt.want))
			}
			if tt.noResult {
				if res != nil {
					t.Errorf("result %+v, want none (the trace never started)", res)
				}
				return
			}
			if res == nil {
				t.Fatal("no result")
			}
			if res.Output != out {
				t.Errorf("output %q", res.Output)
			}
			if len(res.Warnings) != tt.wantWarns {
				t.Errorf("warnings %q, want %d", res.Warnings, tt.wantWarns)
			}
			if tt.wantWarn != "" && !strings.Contains(strings.Join(res.Warnings, "\n"), tt.wantWarn) {
				t.Errorf("warnings %q lack %q", res.Warnings, tt.wantWarn)
			}
			if tt.wantRun == "" && res.RunErr != nil {
				t.Errorf("run error %v", res.RunErr)
			}
			if tt.wantRun != "" && (res.RunErr == nil || !strings.Contains(res.RunErr.Error(), tt.wantRun)) {
				t.Errorf("run error %v, want %q", res.RunErr, tt.wantRun)
			}
			if tt.noRestore {
				if res.Restore.Name != "" {
					t.Errorf("Result.Restore %q, want none", res.Restore)
				}
			} else if i := slices.IndexFunc(tt.want, isRestore); i < 0 || !reflect.DeepEqual(res.Restore.Args, tt.want[i][1:]) {
				t.Errorf("Result.Restore %q, want the restore command of %q", res.Restore, tt.want)
			}
		})
	}
}

// isRestore tells the restore step from the other winhttp commands.
func isRestore(c []string) bool {
	return len(c) > 3 && c[1] == "winhttp" && c[2] == "set" && !reflect.DeepEqual(c, winhttpOn)
}

func fmtArgv(a [][]string) string {
	var b strings.Builder
	for _, c := range a {
		fmt.Fprintf(&b, "  %q\n", c)
	}
	return b.String()
}

// blockingReader never returns a line.
type blockingReader struct{}

func (blockingReader) Read([]byte) (int, error) { select {} }

func TestCaptureCtrlCDuringStart(t *testing.T) {
	out := filepath.Join(winetest.TempDir(t), "NetTrace.etl")
	for _, during := range [][]string{winhttpOn, traceStart(out)} {
		ctx, cancel := context.WithCancel(context.Background())
		r := &fakeRunner{cancelOn: key(during), cancel: cancel}
		res, err := Capture(ctx, r, fakeSystem{elevated: true}, Options{Output: out, Force: true, Packets: true, Run: "Invoke-WebRequest https://outlook.office365.com"})
		if !errors.Is(err, ErrInterrupted) || res == nil {
			t.Errorf("Ctrl-C during %q: %v", during, err)
		}
		// netsh was not killed half-way: the trace started, so it is stopped.
		want := [][]string{showWinHTTP, showTrace, winhttpOn, traceStart(out), traceStop, winhttpOff}
		if got := r.argv(); !reflect.DeepEqual(got, want) {
			t.Errorf("Ctrl-C during %q: commands\n%s", during, fmtArgv(got))
		}
		cancel()
	}
}

func TestCaptureKeepsRunOutput(t *testing.T) {
	out := filepath.Join(winetest.TempDir(t), "NetTrace.etl")
	r := &fakeRunner{
		outputs: map[string]string{key(runHCW): strings.Repeat("x", maxRunOutput+10)},
		fail:    map[string]error{key(runHCW): errBoom},
	}
	res, err := Capture(context.Background(), r, fakeSystem{elevated: true}, Options{Output: out, Run: "Invoke-WebRequest https://outlook.office365.com"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.RunOutput) > maxRunOutput+100 || !bytes.HasSuffix(res.RunOutput, []byte("(output cut)\n")) {
		t.Errorf("run output not capped: %d bytes", len(res.RunOutput))
	}
}

func TestCaptureRefusals(t *testing.T) {
	dir := winetest.TempDir(t)
	existing := filepath.Join(dir, "old.etl")
	if err := os.WriteFile(existing, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	cab := filepath.Join(dir, "report.cab")
	if err := os.WriteFile(cab, []byte("keep me too"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		sys     fakeSystem
		opts    Options
		wantErr string
		wantIs  error
	}{
		{"existing trace without --force", fakeSystem{elevated: true}, Options{Output: existing, Duration: time.Millisecond}, "--force", ErrOutputExists},
		{"existing .cab without --force", fakeSystem{elevated: true}, Options{Output: filepath.Join(dir, "report.etl"), Duration: time.Millisecond}, "report.cab", ErrOutputExists},
		{"not elevated", fakeSystem{elevated: false}, Options{Output: filepath.Join(dir, "new.etl")}, "run etlscope from an elevated prompt", nil},
		{"not .etl", fakeSystem{elevated: true}, Options{Output: filepath.Join(dir, "new.txt")}, "must end in .etl", nil},
		{"no such directory", fakeSystem{elevated: true}, Options{Output: filepath.Join(dir, "nope", "new.etl")}, "does not exist", nil},
		{"a directory", fakeSystem{elevated: true}, Options{Output: filepath.Join(dir, "sub.etl"), Force: true}, "is a directory", nil},
		{"no output", fakeSystem{elevated: true}, Options{}, "no output file", nil},
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.etl"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeRunner{}
			res, err := Capture(context.Background(), r, tt.sys, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
			if len(r.calls) != 0 || res != nil {
				t.Errorf("ran %q", r.calls)
			}
		})
	}
	for f, want := range map[string]string{existing: "keep me", cab: "keep me too"} {
		if b, _ := os.ReadFile(f); string(b) != want {
			t.Errorf("%s was changed", f)
		}
	}
	// With Force it proceeds, with the absolute path.
	r := &fakeRunner{}
	if _, err := Capture(context.Background(), r, fakeSystem{elevated: true}, Options{Output: existing, Force: true, Duration: time.Millisecond}); err != nil {
		t.Fatalf("Force: %v", err)
	}
	if len(r.calls) != 6 || r.calls[3][4] != "tracefile="+existing {
		t.Errorf("Force: %q", r.calls)
	}
}

func TestCaptureRelativeOutputBecomesAbsolute(t *testing.T) {
	dir := winetest.TempDir(t)
	t.Chdir(dir)
	r := &fakeRunner{}
	res, err := Capture(context.Background(), r, fakeSystem{elevated: true}, Options{Output: "x.etl", Duration: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "x.etl")
	if res.Output != want || r.calls[3][4] != "tracefile="+want {
		t.Errorf("output %q, start %q", res.Output, r.calls[3])
	}
}

func TestCaptureWaitsForEnterOrDuration(t *testing.T) {
	out := filepath.Join(winetest.TempDir(t), "x.etl")
	pr, pw := io.Pipe()
	r := &fakeRunner{}
	done := make(chan error, 1)
	startedAfter := make(chan int, 1)
	go func() {
		_, err := Capture(context.Background(), r, fakeSystem{elevated: true}, Options{Output: out, Enter: pr,
			Started: func() { startedAfter <- len(r.argv()) }})
		done <- err
	}()
	if n := <-startedAfter; n != 4 {
		t.Errorf("Started called after %d commands, want 4 (after netsh trace start)", n)
	}
	select {
	case err := <-done:
		t.Fatalf("returned before Enter: %v", err)
	case <-time.After(30 * time.Millisecond):
	}
	fmt.Fprintln(pw)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := r.argv(); len(got) != 6 || !reflect.DeepEqual(got[4], traceStop) {
		t.Errorf("calls %q", got)
	}

	start := time.Now()
	r = &fakeRunner{}
	res, err := Capture(context.Background(), r, fakeSystem{elevated: true}, Options{Output: out, Force: true, Duration: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 50*time.Millisecond || res.Elapsed < 50*time.Millisecond {
		t.Errorf("did not wait for the duration (elapsed %v)", res.Elapsed)
	}
}

// syncBuffer is a bytes.Buffer safe for the progress goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// slowStop makes netsh trace stop take a while, as merging does.
type slowStop struct{ fakeRunner }

func (s *slowStop) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	if key(append([]string{name}, args...)) == key(traceStop) {
		time.Sleep(40 * time.Millisecond)
	}
	return s.fakeRunner.Run(ctx, name, args...)
}

func TestCaptureProgress(t *testing.T) {
	old := progressEvery
	progressEvery = 5 * time.Millisecond
	t.Cleanup(func() { progressEvery = old })
	out := filepath.Join(winetest.TempDir(t), "x.etl")
	var w syncBuffer
	if _, err := Capture(context.Background(), &slowStop{fakeRunner: fakeRunner{traceData: make([]byte, 3<<20)}}, fakeSystem{elevated: true}, Options{Output: out, Force: true, Duration: 40 * time.Millisecond, Progress: &w}); err != nil {
		t.Fatal(err)
	}
	got := w.String()
	for _, s := range []string{"capturing: ", "x.etl 3.0 MB", "stopping the trace (netsh merges"} {
		if !strings.Contains(got, s) {
			t.Errorf("progress lacks %q:\n%q", s, got)
		}
	}
	if !strings.HasSuffix(got, "\r\033[K") {
		t.Errorf("progress line not cleared at the end: %q", got)
	}
	// Quiet without a writer.
	if _, err := Capture(context.Background(), &fakeRunner{}, fakeSystem{elevated: true}, Options{Output: out, Force: true, Duration: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
}

func TestPlan(t *testing.T) {
	var got []string
	for _, c := range Plan(Options{Output: `C:\t\NetTrace.etl`, Packets: true, MaxSizeMB: 1024, Run: "Test-NetConnection outlook.office365.com -Port 443"}) {
		got = append(got, c.String())
	}
	want := []string{key(showWinHTTP), key(showTrace), key(winhttpOn),
		`netsh trace start scenario=InternetClient capture=yes tracefile=C:\t\NetTrace.etl filemode=single maxsize=1024 overwrite=yes`,
		`powershell.exe -NoProfile -NonInteractive -Command "Test-NetConnection outlook.office365.com -Port 443"`,
		key(traceStop), key(winhttpOff)}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	got = got[:0]
	for _, c := range Plan(Options{Output: `C:\My Traces\a.etl`}) {
		got = append(got, c.String())
	}
	if got[3] != `netsh trace start scenario=InternetClient "tracefile=C:\My Traces\a.etl" filemode=single maxsize=512 overwrite=yes` || len(got) != 6 {
		t.Errorf("plan without packets or run:\n%s", strings.Join(got, "\n"))
	}
}

func TestQuoteArg(t *testing.T) {
	for in, want := range map[string]string{
		"plain":            "plain",
		"":                 `""`,
		`C:\a b\`:          `"C:\a b\\"`,
		`say "hi"`:         `"say \"hi\""`,
		`a\"b`:             `"a\\\"b"`,
		`C:\no\spaces.etl`: `C:\no\spaces.etl`,
	} {
		if got := quoteArg(in); got != want {
			t.Errorf("quoteArg(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestDefaultOutput(t *testing.T) {
	if got := DefaultOutput(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)); got != "NetTrace-20260304-050607.etl" {
		t.Errorf("DefaultOutput = %q", got)
	}
}

func TestCaptureTraceFull(t *testing.T) {
	old := progressEvery
	progressEvery = 5 * time.Millisecond
	t.Cleanup(func() { progressEvery = old })
	out := filepath.Join(winetest.TempDir(t), "x.etl")
	var notices syncBuffer
	// netsh in single file mode stops a little short of maxsize.
	r := &fakeRunner{traceData: make([]byte, 1<<20-4096)}
	res, err := Capture(context.Background(), r, fakeSystem{elevated: true}, Options{Output: out, MaxSizeMB: 1, Duration: 40 * time.Millisecond,
		Notice: func(s string) { fmt.Fprintln(&notices, s) }})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Full || res.Size != 1<<20-4096 {
		t.Errorf("full %v, size %d", res.Full, res.Size)
	}
	if !strings.Contains(strings.Join(res.Warnings, "\n"), "reached its maximum size (1 MB)") {
		t.Errorf("warnings %q", res.Warnings)
	}
	// Said while capturing (so the user can stop), and again at the end.
	if n := strings.Count(notices.String(), "maximum size"); n != 2 {
		t.Errorf("notices:\n%s", notices.String())
	}
	if !strings.Contains(r.argv()[3][5], "filemode=single") {
		t.Errorf("start %q", r.argv()[3])
	}

	// Half full: not full, no notice.
	notices = syncBuffer{}
	res, err = Capture(context.Background(), &fakeRunner{traceData: make([]byte, 1<<19)}, fakeSystem{elevated: true}, Options{Output: out, Force: true, MaxSizeMB: 1, Duration: 40 * time.Millisecond,
		Notice: func(s string) { fmt.Fprintln(&notices, s) }})
	if err != nil || res.Full || strings.Contains(notices.String(), "maximum size") {
		t.Errorf("half full: %v, full %v, notices %q", err, res.Full, notices.String())
	}
}
