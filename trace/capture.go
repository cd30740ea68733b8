// Package trace captures NetTrace.etl files on Windows the way Microsoft's
// HCW article describes — netsh winhttp tracing on, netsh trace start
// scenario=InternetClient, reproduce, netsh trace stop — and always leaves
// the machine as it found it: the trace is stopped and WinHTTP tracing
// restored on every path, including errors, timeouts and Ctrl-C.
//
// Everything that touches the system goes through small interfaces
// (Runner for commands, System for elevation and the OS build, Registry for
// doctor), so the sequence and its failure paths are tested on any OS.
package trace

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Runner runs a program and returns its standard output (and error output
// mixed in, as netsh writes its messages to both).
type Runner interface {
	Run(ctx context.Context, name string, args ...string) ([]byte, error)
}

// ExecRunner runs real programs.
type ExecRunner struct{}

// Run implements Runner with os/exec.
func (ExecRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return out, nil
}

// System answers the questions capture and doctor ask the OS.
type System interface {
	IsElevated() (bool, error)
	OSBuild() (uint32, error)
}

// ErrNotWindows is returned by the System of non-Windows builds.
var ErrNotWindows = errors.New("capture, doctor and watch run on Windows only (use --dry-run to see the commands)")

// Options configure a capture.
type Options struct {
	Output    string        // the .etl file to write
	Force     bool          // overwrite Output if it exists
	Packets   bool          // capture=yes
	MaxSizeMB int           // netsh maxsize (default 512)
	Duration  time.Duration // stop after this long (0: see Run / Enter)
	Run       string        // a command line to run while tracing (through powershell)
	Enter     io.Reader     // when Duration and Run are empty: wait for a line on this reader
	Progress  io.Writer     // elapsed time and file size while capturing; nil = quiet
	// ForceStopExisting stops a netsh trace session that is already
	// running instead of refusing to start.
	ForceStopExisting bool
	// StopTimeout bounds netsh trace stop, which merges and compresses
	// (default 15 minutes).
	StopTimeout time.Duration
}

// DefaultOutput is the output file when none is given: NetTrace-<time>.etl
// in the current directory (not netsh's %LOCALAPPDATA%\Temp\NetTraces,
// which a second capture would overwrite).
func DefaultOutput(now time.Time) string {
	return "NetTrace-" + now.Format("20060102-150405") + ".etl"
}

func (o *Options) maxSize() int {
	if o.MaxSizeMB <= 0 {
		return 512
	}
	return o.MaxSizeMB
}

// Command is one program invocation of the sequence.
type Command struct {
	Name string
	Args []string
}

// String returns the command line as it would be typed.
func (c Command) String() string { return c.Name + " " + strings.Join(c.Args, " ") }

func netsh(args ...string) Command { return Command{Name: "netsh", Args: args} }

// Commands of the sequence.
var (
	cmdShowWinHTTP  = netsh("winhttp", "show", "tracing")
	cmdShowTrace    = netsh("trace", "show", "status")
	cmdWinHTTPOn    = netsh("winhttp", "set", "tracing", "level=verbose", "format=hex", "output=file", "max-trace-file-size=512000", "state=enabled")
	cmdWinHTTPOff   = netsh("winhttp", "set", "tracing", "state=disabled")
	cmdTraceStop    = netsh("trace", "stop")
	errAlreadyExist = errors.New("output file exists")
)

func startCommand(o *Options) Command {
	args := []string{"trace", "start", "scenario=InternetClient"}
	if o.Packets {
		args = append(args, "capture=yes")
	}
	args = append(args, "tracefile="+o.Output, fmt.Sprintf("maxsize=%d", o.maxSize()), "overwrite=yes")
	return netsh(args...)
}

func runCommand(o *Options) Command {
	return Command{Name: "powershell.exe", Args: []string{"-NoProfile", "-NonInteractive", "-Command", o.Run}}
}

// Plan returns the commands a capture runs, in order, for --dry-run.
func Plan(o Options) []Command {
	cmds := []Command{cmdShowWinHTTP, cmdShowTrace, cmdWinHTTPOn, startCommand(&o)}
	if o.Run != "" {
		cmds = append(cmds, runCommand(&o))
	}
	return append(cmds, cmdTraceStop, cmdWinHTTPOff)
}

// WinHTTPTracing is the WinHTTP tracing state before the capture.
type WinHTTPTracing struct {
	Enabled bool
	Known   bool // the output could be parsed
}

// parseWinHTTPTracing reads `netsh winhttp show tracing`. The exact output
// differs between Windows versions (believed: a line saying tracing is
// enabled or disabled); anything unrecognised counts as unknown.
func parseWinHTTPTracing(out []byte) WinHTTPTracing {
	sc := bufio.NewScanner(strings.NewReader(strings.ToLower(string(out))))
	for sc.Scan() {
		l := sc.Text()
		if !strings.Contains(l, "trac") && !strings.Contains(l, "state") {
			continue
		}
		switch {
		case strings.Contains(l, "disabled"):
			return WinHTTPTracing{Enabled: false, Known: true}
		case strings.Contains(l, "enabled"):
			return WinHTTPTracing{Enabled: true, Known: true}
		}
	}
	return WinHTTPTracing{}
}

// traceRunning reads `netsh trace show status`: a running session prints
// "Status: Running" (believed), none prints that no session is in progress.
func traceRunning(out []byte) bool {
	s := strings.ToLower(string(out))
	return strings.Contains(s, "status:") && strings.Contains(s, "running") && !strings.Contains(s, "no trace session")
}

// Capture runs the sequence. Whatever happens after WinHTTP tracing was
// switched on, the trace is stopped (if it started) and WinHTTP tracing is
// restored; their errors are joined to the one that ended the capture.
func Capture(ctx context.Context, r Runner, sys System, o Options) (err error) {
	if o.Output == "" {
		return errors.New("no output file")
	}
	if !o.Force {
		if _, serr := os.Stat(o.Output); serr == nil {
			return fmt.Errorf("%s: %w; use --force to overwrite it", o.Output, errAlreadyExist)
		}
	}
	ok, eerr := sys.IsElevated()
	if eerr != nil {
		return eerr
	}
	if !ok {
		return errors.New("netsh trace needs administrator rights: run etlscope from an elevated prompt (Run as administrator)")
	}
	run := func(ctx context.Context, c Command) ([]byte, error) { return r.Run(ctx, c.Name, c.Args...) }

	out, serr := run(ctx, cmdShowWinHTTP)
	prev := parseWinHTTPTracing(out)
	if serr != nil {
		prev = WinHTTPTracing{}
	}
	out, serr = run(ctx, cmdShowTrace)
	if serr == nil && traceRunning(out) {
		if !o.ForceStopExisting {
			return errors.New("a netsh trace session is already running (netsh trace show status); stop it with `netsh trace stop` or use --force-stop-existing")
		}
		if _, err := run(ctx, cmdTraceStop); err != nil {
			return fmt.Errorf("stop the running trace: %w", err)
		}
	}

	// From here on the machine is changed: restore on every path. The
	// cleanup must run even when ctx is cancelled (Ctrl-C).
	cleanupCtx := context.WithoutCancel(ctx)
	started := false
	defer func() {
		var errs []error
		if started {
			stopTimeout := o.StopTimeout
			if stopTimeout == 0 {
				stopTimeout = 15 * time.Minute
			}
			sctx, cancel := context.WithTimeout(cleanupCtx, stopTimeout)
			done := progress(o.Progress, "stopping the trace (netsh merges and compresses; this can take minutes)", o.Output)
			_, serr := run(sctx, cmdTraceStop)
			done()
			cancel()
			if serr != nil {
				errs = append(errs, fmt.Errorf("netsh trace stop failed (run `netsh trace stop` yourself): %w", serr))
			}
		}
		if !prev.Known || !prev.Enabled {
			if _, rerr := run(cleanupCtx, cmdWinHTTPOff); rerr != nil {
				errs = append(errs, fmt.Errorf("restoring WinHTTP tracing failed (run `%s` yourself): %w", cmdWinHTTPOff, rerr))
			}
		}
		if len(errs) > 0 {
			err = errors.Join(append([]error{err}, errs...)...)
		}
	}()
	if _, err := run(ctx, cmdWinHTTPOn); err != nil {
		return fmt.Errorf("enable WinHTTP tracing: %w", err)
	}
	if _, err := run(ctx, startCommand(&o)); err != nil {
		return fmt.Errorf("start the trace: %w", err)
	}
	started = true
	return wait(ctx, r, &o)
}

// wait blocks until the capture should stop.
func wait(ctx context.Context, r Runner, o *Options) error {
	done := progress(o.Progress, "capturing", o.Output)
	defer done()
	if o.Run != "" {
		c := runCommand(o)
		if o.Duration > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, o.Duration)
			defer cancel()
		}
		if _, err := r.Run(ctx, c.Name, c.Args...); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("capture interrupted: %w", ctx.Err())
			}
			return fmt.Errorf("the reproduction command failed (the trace is kept): %w", err)
		}
		return nil
	}
	if o.Duration > 0 {
		t := time.NewTimer(o.Duration)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("capture interrupted: %w", ctx.Err())
		}
	}
	if o.Enter == nil {
		<-ctx.Done()
		return fmt.Errorf("capture interrupted: %w", ctx.Err())
	}
	line := make(chan struct{})
	go func() {
		bufio.NewReader(o.Enter).ReadString('\n')
		close(line)
	}()
	select {
	case <-line:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("capture interrupted: %w", ctx.Err())
	}
}

// progress prints what is happening once a second until the returned
// function is called. It prints nothing when w is nil.
func progress(w io.Writer, what, file string) func() {
	if w == nil {
		return func() {}
	}
	stop := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				fmt.Fprintln(w)
				return
			case <-t.C:
				size := ""
				if st, err := os.Stat(file); err == nil {
					size = fmt.Sprintf(", %s %.1f MB", file, float64(st.Size())/(1<<20))
				}
				fmt.Fprintf(w, "\r%s: %s%s   ", what, time.Since(start).Round(time.Second), size)
			}
		}
	}()
	return func() { close(stop); <-finished }
}
