package trace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrInterrupted is wrapped by Capture's error when ctx was cancelled
// (Ctrl-C, or the console closing) while tracing.
var ErrInterrupted = errors.New("capture interrupted")

// ErrSessionEnding is the cancel cause the CLI gives ctx when Windows
// closes the console, logs the user off or shuts down (CTRL_CLOSE_EVENT,
// CTRL_LOGOFF_EVENT, CTRL_SHUTDOWN_EVENT; Go delivers them as SIGTERM).
// Windows ends the process a few seconds later (5 s after a console
// close), so Capture then restores WinHTTP tracing first — it takes a
// moment — and starts netsh trace stop last; netsh runs in its own hidden
// console (ExecRunner), so it is not closed with the user's and finishes
// the stop even after etlscope is gone.
var ErrSessionEnding = errors.New("the console is closing, or Windows is logging off or shutting down")

// ErrOutputExists is wrapped by Capture's error when the output file (or
// the .cab netsh writes next to it) exists and Options.Force is off.
var ErrOutputExists = errors.New("output file exists")

// ErrNoTrace is wrapped by Capture's error when netsh trace stop succeeded
// but the trace file is missing or empty.
var ErrNoTrace = errors.New("netsh wrote no trace")

// Options configure a capture.
type Options struct {
	Output  string // the .etl file to write (made absolute for netsh)
	Force   bool   // overwrite Output (and its .cab) if they exist
	Packets bool   // netsh capture=yes
	// MaxSizeMB is netsh's maxsize in MB (default DefaultMaxSizeMB). The
	// file mode is single (see FileMode): when the file is full, netsh
	// stops adding to it, so what was recorded first — the reproduction —
	// is kept.
	MaxSizeMB int
	Duration  time.Duration // stop after this long; with Run: the longest Run may take
	Run       string        // a PowerShell command line to run while tracing
	// Enter is read when Duration and Run are both unset: the capture
	// stops at the first line. Nil waits for ctx only.
	Enter io.Reader
	// Progress receives the elapsed time and output size once a second
	// while capturing and while netsh merges on stop. Nil is quiet; the
	// caller passes a writer only when it is a terminal.
	Progress io.Writer
	// Notice receives messages the user should see at once (the trace
	// file is full, the session is ending). Nil discards them; they are
	// in Result.Warnings too.
	Notice func(string)
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

// DefaultMaxSizeMB is netsh's maxsize when Options.MaxSizeMB is unset.
const DefaultMaxSizeMB = 512

// FileMode is the netsh trace file mode capture uses. netsh's default is
// circular: once the file reaches maxsize the oldest events are
// overwritten, so a capture left waiting after the reproduction loses the
// reproduction. In single mode netsh stops writing when the file is full
// instead; capture then says so (Result.Full), and the reproduction,
// which happens early, is kept.
const FileMode = "single"

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
		return DefaultMaxSizeMB
	}
	return o.MaxSizeMB
}

func (o *Options) stopTimeout() time.Duration {
	if o.StopTimeout <= 0 {
		return 15 * time.Minute
	}
	return o.StopTimeout
}

// The fixed commands of the sequence. cmdWinHTTPOn is the HCW article's
// exact command; Microsoft documents `netsh winhttp set tracing` only for
// Windows before 7 / Server 2008 R2 — later netsh points to netsh trace,
// which records WinHTTP itself (scenario=InternetClient) — so capture
// runs it on every build but treats it as best effort.
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
	args = append(args, "tracefile="+o.Output, "filemode="+FileMode, fmt.Sprintf("maxsize=%d", o.maxSize()), "overwrite=yes")
	return netsh(args...)
}

func runCommand(o *Options) Command {
	return Command{Name: "powershell.exe", Args: []string{"-NoProfile", "-NonInteractive", "-Command", o.Run}}
}

// Plan returns the commands a capture runs, in order, for --dry-run; Capture
// runs exactly these (it builds them with the same functions). The last
// one restores WinHTTP tracing as it is on most machines (off); it runs
// only when the WinHTTP step changed something, and when tracing was
// configured before, Capture re-applies the recorded settings instead (see
// WinHTTPTracing.RestoreCommand).
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
	Size    int64         // its size after netsh trace stop
	Elapsed time.Duration // from netsh trace start to netsh trace stop
	// Full is set when the trace reached maxsize: netsh stopped recording
	// (file mode single), so later events are missing.
	Full bool
	// RunOutput is what the reproduction command printed (at most
	// maxRunOutput bytes); RunErr is its failure. A failing reproduction
	// is expected when reproducing a TLS failure, so it does not fail the
	// capture: the trace is complete.
	RunOutput []byte
	RunErr    error
	Previous  WinHTTPTracing // WinHTTP tracing before the capture
	// Restore is the command that restored WinHTTP tracing; empty when
	// the WinHTTP step changed nothing (it failed, or netsh pointed to
	// netsh trace), so there was nothing to restore.
	Restore  Command
	Warnings []string // things the user should know (state not understood, …)
}

// Capture runs the sequence. Whatever happens after it started to change
// the machine, the trace is stopped (if it started) and WinHTTP tracing is
// restored (if it was changed). A failing WinHTTP step, or a failing
// restore of it once the trace ran, is a warning: the trace is what the
// user came for. A failing stop, or a stop that leaves no trace file, is
// joined to the error that ended the capture. The Result is non-nil
// whenever the trace was started.
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
	warn := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		result.Warnings = append(result.Warnings, msg)
		if o.Notice != nil {
			o.Notice(msg)
		}
	}
	show, serr := run(ctx, cmdShowWinHTTP)
	result.Previous = ParseWinHTTPTracing(show)
	if serr != nil {
		result.Previous = WinHTTPTracing{}
	}

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
		return nil, fmt.Errorf("%w before anything was changed: %w", ErrInterrupted, context.Cause(ctx))
	}

	// From here on the machine may be changed: restore on every path. The
	// cleanup runs even when ctx is cancelled (Ctrl-C).
	cleanupCtx := context.WithoutCancel(ctx)
	var started time.Time
	winHTTPChanged := false
	defer func() {
		var errs []error
		restore := func() {
			if !winHTTPChanged {
				return
			}
			if _, rerr := run(cleanupCtx, result.Restore); rerr != nil {
				msg := fmt.Sprintf("restoring WinHTTP tracing failed (run `%s` yourself): %v", result.Restore, rerr)
				if started.IsZero() {
					errs = append(errs, errors.New(msg))
				} else {
					warn("%s", msg)
				}
			}
		}
		ending := errors.Is(context.Cause(ctx), ErrSessionEnding)
		if ending {
			restore() // Windows ends etlscope soon: the quick step first
		}
		if !started.IsZero() {
			if _, serr := stopTrace(cleanupCtx, r, &o, "stopping the trace (netsh merges and compresses; this can take minutes)"); serr != nil {
				errs = append(errs, fmt.Errorf("netsh trace stop failed (run `netsh trace stop` yourself): %w", serr))
			} else if verr := result.verify(o.maxSize()); verr != nil {
				errs = append(errs, verr)
			}
			result.Elapsed = time.Since(started)
			if result.Full {
				warn("the trace reached its maximum size (%d MB) and netsh stopped recording: events after that are missing (use a larger --max-size, or stop sooner after reproducing)", o.maxSize())
			}
		}
		if !ending {
			restore()
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
	if on, werr := run(cleanupCtx, cmdWinHTTPOn); werr != nil {
		warn("`%s` failed, continuing without it (Microsoft documents netsh winhttp set tracing only before Windows 7 / Server 2008 R2; later, netsh trace scenario=InternetClient records WinHTTP itself): %v", cmdWinHTTPOn, werr)
	} else if RedirectsToNetshTrace(on) {
		warn("netsh did not change WinHTTP tracing: on this Windows it points to netsh trace, which records WinHTTP itself")
	} else {
		winHTTPChanged = true
		if !result.Previous.Known {
			warn("could not read the WinHTTP tracing settings (`%s`); WinHTTP tracing will be switched off afterwards", cmdShowWinHTTP)
		}
		result.Restore = result.Previous.RestoreCommand()
	}
	if o.Force {
		// netsh's overwrite=yes would do it too, but a stale file left in
		// place by a netsh that writes nothing would pass for the new trace.
		if err := removeOld(o.Output); err != nil {
			return nil, err
		}
	}
	if _, err := run(cleanupCtx, startCommand(&o)); err != nil {
		return nil, fmt.Errorf("start the trace: %w", err)
	}
	started = time.Now()
	if o.Started != nil {
		o.Started()
	}
	stopWatch := watchFull(o.Notice, o.Output, fullSize(o.maxSize()), fmt.Sprintf(
		"the trace file has reached its maximum size (%d MB): netsh records nothing more; stop now (press Enter or Ctrl-C) if the problem was reproduced, else capture again with a larger --max-size", o.maxSize()))
	result.RunOutput, result.RunErr, err = wait(ctx, r, &o)
	stopWatch()
	return result, err
}

// verify checks, after netsh trace stop succeeded, that the trace file
// exists and is not empty, and whether it reached maxsize.
func (res *Result) verify(maxSizeMB int) error {
	st, err := os.Stat(res.Output)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%w: netsh trace stop succeeded but %s does not exist (look for the file netsh names in `netsh trace show status` output, or capture again)", ErrNoTrace, res.Output)
	case err != nil:
		return fmt.Errorf("%w: %v", ErrNoTrace, err)
	case st.Size() == 0:
		return fmt.Errorf("%w: netsh trace stop succeeded but %s is empty", ErrNoTrace, res.Output)
	}
	res.Size = st.Size()
	res.Full = st.Size() >= fullSize(maxSizeMB)
	return nil
}

// fullSize is the size from which a trace of maxsize MB counts as full:
// netsh stops a little short of maxsize, as it writes whole buffers.
func fullSize(maxSizeMB int) int64 { return int64(maxSizeMB) << 20 * 98 / 100 }

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
	for _, f := range []string{abs, cabFile(abs)} {
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

// removeOld deletes the trace and the .cab an earlier capture left at
// output (--force).
func removeOld(output string) error {
	for _, f := range []string{output, cabFile(output)} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("--force: remove the old %s: %w", f, err)
		}
	}
	return nil
}

// cabFile is the report netsh writes next to the trace (believed: same
// base name, .cab).
func cabFile(output string) string {
	return strings.TrimSuffix(output, filepath.Ext(output)) + ".cab"
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
