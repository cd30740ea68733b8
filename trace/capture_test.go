package trace

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeRunner records every command and fails the ones listed.
type fakeRunner struct {
	calls   []string
	fail    map[string]error  // command prefix → error
	outputs map[string]string // command prefix → output
	block   string            // command prefix that blocks until ctx is done
}

func (f *fakeRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	c := name + " " + strings.Join(args, " ")
	f.calls = append(f.calls, c)
	if f.block != "" && strings.HasPrefix(c, f.block) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	for p, err := range f.fail {
		if strings.HasPrefix(c, p) {
			return nil, err
		}
	}
	for p, out := range f.outputs {
		if strings.HasPrefix(c, p) {
			return []byte(out), nil
		}
	}
	return nil, nil
}

type fakeSystem struct {
	elevated bool
	build    uint32
}

func (s fakeSystem) IsElevated() (bool, error) { return s.elevated, nil }
func (s fakeSystem) OSBuild() (uint32, error)  { return s.build, nil }

const (
	showWinHTTP = "netsh winhttp show tracing"
	showTrace   = "netsh trace show status"
	winhttpOn   = "netsh winhttp set tracing level=verbose format=hex output=file max-trace-file-size=512000 state=enabled"
	traceStop   = "netsh trace stop"
	winhttpOff  = "netsh winhttp set tracing state=disabled"
	runHCW      = "powershell.exe -NoProfile -NonInteractive -Command Invoke-WebRequest https://outlook.office365.com"
)

func traceStart(out string) string {
	return "netsh trace start scenario=InternetClient capture=yes tracefile=" + out + " maxsize=512 overwrite=yes"
}

var boom = errors.New("boom")

func TestCaptureSequence(t *testing.T) {
	out := filepath.Join(t.TempDir(), "NetTrace.etl")
	tests := []struct {
		name    string
		runner  *fakeRunner
		opts    func(*Options)
		cancel  bool
		wantErr string
		want    []string
	}{
		{
			name:   "happy path",
			runner: &fakeRunner{outputs: map[string]string{showWinHTTP: "Current WinHTTP Tracing settings:\n    Tracing is disabled.\n", showTrace: "There is no trace session currently in progress."}},
			want:   []string{showWinHTTP, showTrace, winhttpOn, traceStart(out), runHCW, traceStop, winhttpOff},
		},
		{
			name:    "start fails: WinHTTP tracing is still restored",
			runner:  &fakeRunner{fail: map[string]error{"netsh trace start": boom}},
			wantErr: "start the trace: boom",
			want:    []string{showWinHTTP, showTrace, winhttpOn, traceStart(out), winhttpOff},
		},
		{
			name:    "winhttp tracing fails to switch on: restore anyway",
			runner:  &fakeRunner{fail: map[string]error{winhttpOn: boom}},
			wantErr: "enable WinHTTP tracing: boom",
			want:    []string{showWinHTTP, showTrace, winhttpOn, winhttpOff},
		},
		{
			name:    "reproduction command fails: stop and restore",
			runner:  &fakeRunner{fail: map[string]error{"powershell.exe": boom}},
			wantErr: "the reproduction command failed",
			want:    []string{showWinHTTP, showTrace, winhttpOn, traceStart(out), runHCW, traceStop, winhttpOff},
		},
		{
			name:    "user interrupts (Ctrl-C): stop and restore",
			runner:  &fakeRunner{block: "powershell.exe"},
			cancel:  true,
			wantErr: "capture interrupted",
			want:    []string{showWinHTTP, showTrace, winhttpOn, traceStart(out), runHCW, traceStop, winhttpOff},
		},
		{
			name:    "stop fails: restore is still attempted, both errors reported",
			runner:  &fakeRunner{fail: map[string]error{traceStop: boom, winhttpOff: errors.New("bang")}},
			wantErr: "netsh trace stop failed (run `netsh trace stop` yourself): boom\nrestoring WinHTTP tracing failed",
			want:    []string{showWinHTTP, showTrace, winhttpOn, traceStart(out), runHCW, traceStop, winhttpOff},
		},
		{
			name:   "WinHTTP tracing was on before: left on",
			runner: &fakeRunner{outputs: map[string]string{showWinHTTP: "Tracing is enabled."}},
			want:   []string{showWinHTTP, showTrace, winhttpOn, traceStart(out), runHCW, traceStop},
		},
		{
			name:    "a trace is already running: refuse, change nothing",
			runner:  &fakeRunner{outputs: map[string]string{showTrace: "Trace configuration:\nStatus:             Running\n"}},
			wantErr: "already running",
			want:    []string{showWinHTTP, showTrace},
		},
		{
			name:   "a trace is already running, --force-stop-existing",
			runner: &fakeRunner{outputs: map[string]string{showTrace: "Status:             Running\n"}},
			opts:   func(o *Options) { o.ForceStopExisting = true },
			want:   []string{showWinHTTP, showTrace, traceStop, winhttpOn, traceStart(out), runHCW, traceStop, winhttpOff},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{Output: out, Packets: true, Run: "Invoke-WebRequest https://outlook.office365.com"}
			if tt.opts != nil {
				tt.opts(&o)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel {
				time.AfterFunc(20*time.Millisecond, cancel)
			}
			err := Capture(ctx, tt.runner, fakeSystem{elevated: true}, o)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("error: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			if got := strings.Join(tt.runner.calls, "\n"); got != strings.Join(tt.want, "\n") {
				t.Errorf("commands:\n%s\nwant:\n%s", got, strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestCaptureRefusals(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "old.etl")
	os.WriteFile(existing, []byte("keep me"), 0o644)
	r := &fakeRunner{}
	err := Capture(context.Background(), r, fakeSystem{elevated: true}, Options{Output: existing})
	if err == nil || !strings.Contains(err.Error(), "--force") || len(r.calls) != 0 {
		t.Errorf("existing file: %v, calls %v", err, r.calls)
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep me" {
		t.Error("existing file was changed")
	}
	// With --force it proceeds.
	r = &fakeRunner{}
	if err := Capture(context.Background(), r, fakeSystem{elevated: true}, Options{Output: existing, Force: true, Duration: time.Millisecond}); err != nil || len(r.calls) == 0 {
		t.Errorf("--force: %v", err)
	}
	// Not elevated: a clear message, nothing run.
	r = &fakeRunner{}
	err = Capture(context.Background(), r, fakeSystem{elevated: false}, Options{Output: filepath.Join(dir, "new.etl")})
	if err == nil || !strings.Contains(err.Error(), "elevated prompt") || len(r.calls) != 0 {
		t.Errorf("not elevated: %v, calls %v", err, r.calls)
	}
}

func TestCaptureWaitsForEnterOrDuration(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.etl")
	r := &fakeRunner{}
	if err := Capture(context.Background(), r, fakeSystem{elevated: true}, Options{Output: out, Enter: strings.NewReader("\n")}); err != nil {
		t.Fatal(err)
	}
	if r.calls[len(r.calls)-2] != traceStop {
		t.Errorf("calls %v", r.calls)
	}
	start := time.Now()
	r = &fakeRunner{}
	if err := Capture(context.Background(), r, fakeSystem{elevated: true}, Options{Output: out, Force: true, Duration: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 50*time.Millisecond {
		t.Error("did not wait for the duration")
	}
}

func TestPlan(t *testing.T) {
	var got []string
	for _, c := range Plan(Options{Output: `C:\t\NetTrace.etl`, Packets: true, MaxSizeMB: 1024, Run: "Test-NetConnection outlook.office365.com -Port 443"}) {
		got = append(got, c.String())
	}
	want := []string{showWinHTTP, showTrace, winhttpOn,
		`netsh trace start scenario=InternetClient capture=yes tracefile=C:\t\NetTrace.etl maxsize=1024 overwrite=yes`,
		"powershell.exe -NoProfile -NonInteractive -Command Test-NetConnection outlook.office365.com -Port 443",
		traceStop, winhttpOff}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("plan:\n%s", strings.Join(got, "\n"))
	}
}
