// Package trace captures NetTrace.etl files on Windows the way Microsoft's
// HCW article describes — netsh winhttp tracing on, netsh trace start
// scenario=InternetClient, reproduce, netsh trace stop — and always leaves
// the machine as it found it: the trace is stopped and WinHTTP tracing
// restored on every path, including errors, timeouts and Ctrl-C. It also
// holds doctor (the TLS registry check) and watch (a live ETW view).
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
	"path/filepath"
	"strings"
	"time"
)

// System answers the questions capture and doctor ask the OS.
type System interface {
	IsElevated() (bool, error)
	OSBuild() (uint32, error) // the Windows build number, e.g. 9200, 17763
	Is64BitOS() (bool, error)
}

// ErrNotWindows is returned by the System and Registry of non-Windows
// builds. Commands wrap it with what the user can do instead.
var ErrNotWindows = errors.New("this command runs on Windows only")

// ErrInterrupted is wrapped by Capture's error when ctx was cancelled
// (Ctrl-C) while tracing.
var ErrInterrupted = errors.New("capture interrupted")

// ErrOutputExists is wrapped by Capture's error when the output file (or
// the .cab netsh writes next to it) exists and Options.Force is off.
var ErrOutputExists = errors.New("output file exists")

// Options configure a capture.
type Options struct {
	Output    string        // the .etl file to write (made absolute for netsh)
	Force     bool          // overwrite Output (and its .cab) if they exist
	Packets   bool          // netsh capture=yes
	MaxSizeMB int           // netsh maxsize in MB (default 512)
	Duration  time.Duration // stop after this long; with Run: the longest Run may take
	Run       string        // a PowerShell command line to run while tracing
	// Enter is read when Duration and Run are both unset: the capture
	// stops at the first line. Nil waits for ctx only.
	Enter io.Reader
	// Progress receives the elapsed time and output size once a second
	// while capturing and while netsh merges on stop. Nil is quiet; the
	// caller passes a writer only when it is a terminal.
	Progress io.Writer
	// ForceStopExisting stops a netsh trace session that is already
	// running instead of refusing to start.
	ForceStopExisting bool
	// Started, when set, is called once netsh trace start succeeded (to
	// tell the user to reproduce the problem now).
	Started func()
	// StopTimeout bounds netsh trace stop, which merges and compresses
	// the trace and writes the .cab report (default 15 minutes).
	StopTimeout time.Duration
}

// DefaultOutput is the output file when none is given:
// NetTrace-<date>-<time>.etl in the current directory. netsh's own default,
// %LOCALAPPDATA%\Temp\NetTraces\NetTrace.etl, is overwritten by the next
// capture and hard to find; a time-stamped file next to the user is neither.
func DefaultOutput(now time.Time) string {
	return "NetTrace-" + now.Format("20060102-150405") + ".etl"
}

// SuggestedRun is the reproduction command the CLI suggests for the HCW
// case: an HTTPS request to Exchange Online through WinHTTP (its COM
// object), the stack whose protocol choice (WebIO EnabledProtocols,
// DefaultSecureProtocols) the trace is about. PowerShell's
// Invoke-WebRequest would not do: it uses .NET's own HTTP stack, whose TLS
// versions follow the .NET keys, not WinHTTP's. (That the COM object honours
// DefaultSecureProtocols like HCW's WinRM client does is believed.)
const SuggestedRun = "$r = New-Object -ComObject WinHttp.WinHttpRequest.5.1; $r.Open('GET', 'https://outlook.office365.com/', $false); $r.Send(); $r.Status"

func (o *Options) maxSize() int {
	if o.MaxSizeMB <= 0 {
		return 512
	}
	return o.MaxSizeMB
}

func (o *Options) stopTimeout() time.Duration {
	if o.StopTimeout <= 0 {
		return 15 * time.Minute
	}
	return o.StopTimeout
}

// Command is one program invocation of the sequence.
type Command struct {
	Name string
	Args []string
}

// String returns the command line as it would be typed at a Windows
// prompt; arguments are quoted the way Go passes them to Windows programs
// (spaces: the whole argument in double quotes).
func (c Command) String() string {
	var b strings.Builder
	b.WriteString(c.Name)
	for _, a := range c.Args {
		b.WriteByte(' ')
		b.WriteString(quoteArg(a))
	}
	return b.String()
}

// quoteArg quotes a for the Windows command-line convention
// (CommandLineToArgvW): backslashes are literal except before a double
// quote.
func quoteArg(a string) string {
	if a != "" && !strings.ContainsAny(a, " \t\"") {
		return a
	}
	var b strings.Builder
	b.WriteByte('"')
	slashes := 0
	for i := 0; i < len(a); i++ {
		switch a[i] {
		case '\\':
			slashes++
		case '"':
			b.WriteString(strings.Repeat(`\`, slashes+1))
			slashes = 0
		default:
			slashes = 0
		}
		b.WriteByte(a[i])
	}
	b.WriteString(strings.Repeat(`\`, slashes))
	b.WriteByte('"')
	return b.String()
}

func netsh(args ...string) Command { return Command{Name: "netsh", Args: args} }

// The fixed commands of the sequence.
var (
	cmdShowWinHTTP = netsh("winhttp", "show", "tracing")
	cmdShowTrace   = netsh("trace", "show", "status")
	cmdWinHTTPOn   = netsh("winhttp", "set", "tracing", "level=verbose", "format=hex", "output=file", "max-trace-file-size=512000", "state=enabled")
	cmdWinHTTPOff  = netsh("winhttp", "set", "tracing", "state=disabled")
	cmdTraceStop   = netsh("trace", "stop")
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

// Plan returns the commands a capture runs, in order, for --dry-run. The
// last one restores WinHTTP tracing as it is on most machines (off); when
// tracing was configured before, Capture re-applies the recorded settings
// instead (see WinHTTPTracing.RestoreCommand).
func Plan(o Options) []Command {
	cmds := []Command{cmdShowWinHTTP, cmdShowTrace, cmdWinHTTPOn, startCommand(&o)}
	if o.Run != "" {
		cmds = append(cmds, runCommand(&o))
	}
	return append(cmds, cmdTraceStop, cmdWinHTTPOff)
}

// Result describes a finished capture.
type Result struct {
	Output  string        // the trace file (absolute)
	Elapsed time.Duration // from netsh trace start to netsh trace stop
	// RunOutput is what the reproduction command printed (at most
	// maxRunOutput bytes); RunErr is its failure. A failing reproduction
	// is expected when reproducing a TLS failure, so it does not fail the
	// capture: the trace is complete.
	RunOutput []byte
	RunErr    error
	Previous  WinHTTPTracing // WinHTTP tracing before the capture
	Restore   Command        // the command that restored it
	Warnings  []string       // things the user should know (state not understood, …)
}

// Capture runs the sequence. Whatever happens after it started to change
// the machine, the trace is stopped (if it started) and WinHTTP tracing is
// restored; errors of the stop and the restore are joined to the one that
// ended the capture. The Result is non-nil whenever the trace was started.
func Capture(ctx context.Context, r Runner, sys System, o Options) (res *Result, err error) {
	out, err := checkOutput(o.Output, o.Force)
	if err != nil {
		return nil, err
	}
	o.Output = out
	ok, err := sys.IsElevated()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errors.New("netsh trace needs administrator rights: run etlscope from an elevated prompt (right-click the command prompt or PowerShell, Run as administrator)")
	}
	run := func(ctx context.Context, c Command) ([]byte, error) { return r.Run(ctx, c.Name, c.Args...) }

	result := &Result{Output: o.Output}
	show, serr := run(ctx, cmdShowWinHTTP)
	result.Previous = ParseWinHTTPTracing(show)
	if serr != nil {
		result.Previous = WinHTTPTracing{}
	}
	if !result.Previous.Known {
		result.Warnings = append(result.Warnings, "could not read the WinHTTP tracing settings (`netsh winhttp show tracing`); WinHTTP tracing will be switched off afterwards")
	}
	result.Restore = result.Previous.RestoreCommand()

	status, serr := run(ctx, cmdShowTrace)
	if st := ParseTraceStatus(status); serr == nil && st.Running {
		if !o.ForceStopExisting {
			where := ""
			if st.File != "" {
				where = " (writing " + st.File + ")"
			}
			return nil, fmt.Errorf("a netsh trace session is already running%s: stop it with `netsh trace stop`, or pass --force-stop-existing to let etlscope stop it", where)
		}
		// Not cancelled by Ctrl-C either: netsh is merging that trace.
		if _, err := stopTrace(context.WithoutCancel(ctx), r, &o, "stopping the netsh trace that was already running"); err != nil {
			return nil, fmt.Errorf("stop the netsh trace that was already running: %w", err)
		}
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%w before anything was changed: %w", ErrInterrupted, ctx.Err())
	}

	// From here on the machine is changed: restore on every path. The
	// cleanup runs even when ctx is cancelled (Ctrl-C).
	cleanupCtx := context.WithoutCancel(ctx)
	var started time.Time
	defer func() {
		var errs []error
		if !started.IsZero() {
			if _, serr := stopTrace(cleanupCtx, r, &o, "stopping the trace (netsh merges and compresses; this can take minutes)"); serr != nil {
				errs = append(errs, fmt.Errorf("netsh trace stop failed (run `netsh trace stop` yourself): %w", serr))
			}
			result.Elapsed = time.Since(started)
		}
		if _, rerr := run(cleanupCtx, result.Restore); rerr != nil {
			errs = append(errs, fmt.Errorf("restoring WinHTTP tracing failed (run `%s` yourself): %w", result.Restore, rerr))
		}
		if len(errs) > 0 {
			err = errors.Join(append([]error{err}, errs...)...)
		}
		res = nil
		if !started.IsZero() {
			res = result
		}
	}()
	// These two are not cancelled by Ctrl-C: killing netsh half-way could
	// leave a session running that this function does not know to stop.
	// They take seconds; a Ctrl-C meanwhile ends the capture right after.
	if _, err := run(cleanupCtx, cmdWinHTTPOn); err != nil {
		return nil, fmt.Errorf("enable WinHTTP tracing: %w", err)
	}
	if _, err := run(cleanupCtx, startCommand(&o)); err != nil {
		return nil, fmt.Errorf("start the trace: %w", err)
	}
	started = time.Now()
	if o.Started != nil {
		o.Started()
	}
	result.RunOutput, result.RunErr, err = wait(ctx, r, &o)
	return result, err
}

// checkOutput makes the output path absolute (netsh resolves a relative
// tracefile against its own idea of the current directory) and refuses to
// overwrite an existing trace, or the .cab netsh writes next to it
// (believed: same base name), without force. Nothing has been run yet.
func checkOutput(p string, force bool) (string, error) {
	if p == "" {
		return "", errors.New("no output file")
	}
	if !strings.EqualFold(filepath.Ext(p), ".etl") {
		return "", fmt.Errorf("%s: the trace file name must end in .etl", p)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("output file %s: %w", p, err)
	}
	if st, err := os.Stat(filepath.Dir(abs)); err != nil || !st.IsDir() {
		return "", fmt.Errorf("output directory %s does not exist", filepath.Dir(abs))
	}
	for _, f := range []string{abs, strings.TrimSuffix(abs, filepath.Ext(abs)) + ".cab"} {
		st, err := os.Stat(f)
		if err != nil {
			continue
		}
		if st.IsDir() {
			return "", fmt.Errorf("%s is a directory", f)
		}
		if !force {
			return "", fmt.Errorf("%s: %w; choose another --file or pass --force to overwrite it", f, ErrOutputExists)
		}
	}
	return abs, nil
}

// stopTrace runs netsh trace stop with its own timeout and progress.
func stopTrace(ctx context.Context, r Runner, o *Options, what string) ([]byte, error) {
	sctx, cancel := context.WithTimeout(ctx, o.stopTimeout())
	defer cancel()
	done := progress(o.Progress, what, o.Output)
	out, err := r.Run(sctx, cmdTraceStop.Name, cmdTraceStop.Args...)
	done()
	if err != nil && sctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("no answer after %s: %w", o.stopTimeout(), err)
	}
	return out, err
}

// wait blocks until the capture should stop: the reproduction command
// ended, the duration passed, a line was read, or ctx was cancelled (the
// only case that returns err).
func wait(ctx context.Context, r Runner, o *Options) (runOut []byte, runErr, err error) {
	done := progress(o.Progress, "capturing", o.Output)
	defer done()
	interrupted := func() error { return fmt.Errorf("%w: %w", ErrInterrupted, context.Cause(ctx)) }
	if ctx.Err() != nil { // Ctrl-C while the trace was starting
		return nil, nil, interrupted()
	}
	if o.Run != "" {
		rctx := ctx
		if o.Duration > 0 {
			var cancel context.CancelFunc
			rctx, cancel = context.WithTimeout(ctx, o.Duration)
			defer cancel()
		}
		c := runCommand(o)
		out, rerr := r.Run(rctx, c.Name, c.Args...)
		out = capOutput(out)
		switch {
		case ctx.Err() != nil:
			return out, nil, interrupted()
		case rctx.Err() != nil:
			return out, fmt.Errorf("the reproduction command was still running after %s; it was stopped", o.Duration), nil
		case rerr != nil:
			return out, fmt.Errorf("the reproduction command failed: %w", rerr), nil
		}
		return out, nil, nil
	}
	if o.Duration > 0 {
		t := time.NewTimer(o.Duration)
		defer t.Stop()
		select {
		case <-t.C:
			return nil, nil, nil
		case <-ctx.Done():
			return nil, nil, interrupted()
		}
	}
	if o.Enter == nil {
		<-ctx.Done()
		return nil, nil, interrupted()
	}
	line := make(chan error, 1)
	go func() {
		_, err := bufio.NewReader(o.Enter).ReadString('\n')
		line <- err
	}()
	select {
	case rerr := <-line:
		if rerr != nil {
			return nil, nil, errors.New("standard input closed before Enter was pressed (in scripts use --duration or --run)")
		}
		return nil, nil, nil
	case <-ctx.Done():
		return nil, nil, interrupted()
	}
}

// maxRunOutput bounds what is kept of the reproduction command's output.
const maxRunOutput = 64 << 10

func capOutput(b []byte) []byte {
	if len(b) <= maxRunOutput {
		return b
	}
	return append(b[:maxRunOutput:maxRunOutput], "\n… (output cut)\n"...)
}

// progressEvery is how often progress lines are written.
var progressEvery = time.Second

// progress writes what is happening, the elapsed time and the size of
// file on one line, rewritten every progressEvery, until the returned
// function is called. It writes nothing when w is nil.
func progress(w io.Writer, what, file string) func() {
	if w == nil {
		return func() {}
	}
	stop := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-t.C:
				size := ""
				if st, err := os.Stat(file); err == nil {
					size = fmt.Sprintf(", %s %.1f MB", filepath.Base(file), float64(st.Size())/(1<<20))
				}
				fmt.Fprintf(w, "\r\033[K%s: %s%s", what, time.Since(start).Round(time.Second), size)
			}
		}
	}()
	return func() { close(stop); <-finished }
}
