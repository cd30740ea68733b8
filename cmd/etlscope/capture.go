package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/etlscope/etlscope/report"
	"github.com/etlscope/etlscope/trace"
)

type captureOptions struct {
	file         string
	force        bool
	noPackets    bool
	maxSize      int
	duration     time.Duration
	stopTimeout  time.Duration
	run          string
	dryRun       bool
	stopExisting bool
	noAnalyze    bool
	output       string
	redact       bool
}

// sessionEndSignal reports SIGTERM, which Go delivers on Windows for
// CTRL_CLOSE_EVENT, CTRL_LOGOFF_EVENT and CTRL_SHUTDOWN_EVENT. While it is
// subscribed, Go's console handler blocks, which gives capture the few
// seconds Windows allows (5 s after a console close) to restore WinHTTP
// tracing and start netsh trace stop.
func sessionEndSignal() (<-chan struct{}, func()) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	ended := make(chan struct{})
	done := make(chan struct{})
	go func() {
		select {
		case <-sig:
			close(ended)
		case <-done:
		}
	}()
	return ended, func() { signal.Stop(sig); close(done) }
}

func newCaptureCmd(s *streams) *cobra.Command {
	o := &captureOptions{}
	cmd := &cobra.Command{
		Use:   "capture",
		Short: "Capture a NetTrace.etl on Windows (the netsh sequence, made safe), then analyze it",
		Long: `capture runs Microsoft's procedure for you, from an elevated prompt on the Windows
machine that fails:

  netsh winhttp set tracing level=verbose format=hex output=file max-trace-file-size=512000 state=enabled
  netsh trace start scenario=InternetClient capture=yes tracefile=FILE filemode=single maxsize=N overwrite=yes
  (reproduce: press Enter when done, or --duration, or --run "COMMAND")
  netsh trace stop
  netsh winhttp set tracing state=disabled   (or the WinHTTP tracing settings found before)

The WinHTTP tracing step is the HCW article's; Microsoft documents it only before
Windows 7 / Server 2008 R2 (later netsh points to netsh trace, which records WinHTTP
itself). It is best effort: when it fails, capture warns and traces anyway, and it
restores WinHTTP tracing only when that step changed it.

The trace file is written in single mode: when it reaches --max-size netsh stops
recording (capture says so at once), so the reproduction is never overwritten the
way netsh's default circular mode would overwrite it during a long wait.

Before it changes anything it checks that it runs elevated, that no other netsh trace
is running (--force-stop-existing stops it) and that FILE and FILE's .cab do not exist
(--force overwrites them). FILE defaults to NetTrace-<date>-<time>.etl in the current
directory, not netsh's %LOCALAPPDATA%\Temp\NetTraces\NetTrace.etl, which the next
capture would overwrite.

Whatever happens — an error, a timeout, Ctrl-C, a failing --run command, the console
window closing, logoff or shutdown — it stops the trace and restores WinHTTP tracing
(netsh runs in a hidden console of its own, so a stop that is merging finishes even
if Windows ends etlscope). After the stop it checks that FILE exists and is not
empty; if not, capture fails. A --run command that fails does not fail the
capture: reproducing the TLS failure is the point. For the HCW case, reproduce through
WinHTTP (the first example below); Invoke-WebRequest and Test-NetConnection use .NET's
HTTP stack and plain TCP, not WinHTTP. The examples are for cmd.exe; from PowerShell
put --% before --run so that PowerShell passes the command on unchanged.
Then it analyzes FILE (exit status
as for analyze: 3 when a TLS problem was found).

--dry-run prints the exact commands, on any OS.`,
		Example: `  etlscope capture --run "` + trace.SuggestedRun + `"
  etlscope capture --run "Test-NetConnection outlook.office365.com -Port 443"
  etlscope capture --duration 2m --file C:\temp\hcw.etl
  etlscope capture --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCapture(cmd.Context(), o, s)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.file, "file", "", "trace file to write (default NetTrace-<date>-<time>.etl in the current directory)")
	fl.BoolVar(&o.force, "force", false, "overwrite the trace file (and its .cab) if they exist")
	fl.BoolVar(&o.noPackets, "no-packets", false, "do not capture packets (capture=yes is on by default: packets show the TLS versions offered and negotiated)")
	fl.IntVar(&o.maxSize, "max-size", trace.DefaultMaxSizeMB, "netsh maxsize in MB (file mode single: netsh stops recording when it is reached)")
	fl.DurationVar(&o.duration, "duration", 0, "stop after this long (e.g. 90s, 2m); with --run, the longest the command may take")
	fl.DurationVar(&o.stopTimeout, "stop-timeout", 15*time.Minute, "give up waiting for netsh trace stop (it merges the trace) after this long")
	fl.StringVar(&o.run, "run", "", "PowerShell command that reproduces the problem; the capture stops when it ends")
	fl.BoolVar(&o.dryRun, "dry-run", false, "print the commands instead of running them (any OS)")
	fl.BoolVar(&o.stopExisting, "force-stop-existing", false, "stop a netsh trace session that is already running")
	fl.BoolVar(&o.noAnalyze, "no-analyze", false, "only capture; do not analyze the trace")
	fl.StringVarP(&o.output, "output", "o", "table", "format of the analysis: "+report.FormatList())
	fl.BoolVar(&o.redact, "redact", false, "redact the analysis for a ticket")
	return cmd
}

func runCapture(ctx context.Context, o *captureOptions, s *streams) error {
	if _, err := report.ParseFormat(o.output); err != nil {
		return usageError(err)
	}
	if o.maxSize <= 0 {
		return usageError(fmt.Errorf("--max-size must be positive, not %d", o.maxSize))
	}
	if o.duration < 0 {
		return usageError(fmt.Errorf("--duration must not be negative"))
	}
	file := o.file
	if file == "" {
		file = trace.DefaultOutput(time.Now())
	}
	opts := trace.Options{Output: file, Force: o.force, Packets: !o.noPackets, MaxSizeMB: o.maxSize,
		Duration: o.duration, Run: o.run, ForceStopExisting: o.stopExisting, StopTimeout: o.stopTimeout}
	if o.dryRun {
		if s.machine().goos == "windows" {
			if abs, err := filepath.Abs(file); err == nil {
				opts.Output = abs
			}
		}
		for _, c := range trace.Plan(opts) {
			fmt.Fprintln(s.Out, c)
		}
		fmt.Fprintln(s.Err, "(dry run: nothing was run. The last command restores WinHTTP tracing; if it was configured before, capture re-applies the settings it found instead.)")
		return nil
	}
	if s.machine().goos != "windows" {
		return usageError(fmt.Errorf("capture: %w; use --dry-run to see the commands, or capture on the Windows machine and run analyze on the .etl here", trace.ErrNotWindows))
	}
	switch {
	case o.run != "":
		opts.Started = func() { fmt.Fprintf(s.Err, "Tracing; running %s\n", o.run) }
	case o.duration > 0:
		opts.Started = func() {
			fmt.Fprintf(s.Err, "Tracing for %s. Reproduce the problem now (e.g. run the Hybrid Configuration Wizard).\n", o.duration)
		}
	default:
		opts.Enter = s.In
		opts.Started = func() {
			fmt.Fprintf(s.Err, "Tracing. Reproduce the problem now (e.g. run the Hybrid Configuration Wizard, or in another PowerShell window:\n  %s\n), then press Enter here.\n", trace.SuggestedRun)
		}
	}
	if !s.ui.quiet && isTerminal(s.Err) {
		opts.Progress = s.Err
	}
	opts.Notice = func(msg string) { fmt.Fprintln(s.Err, "warning:", msg) }
	ended, stopWatching := s.machine().sessionEnding()
	defer stopWatching()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case <-ended:
			cancel(trace.ErrSessionEnding)
		case <-ctx.Done():
		}
	}()
	res, err := trace.Capture(ctx, s.machine().runner, s.machine().system, opts)
	if res != nil {
		if res.RunErr != nil {
			fmt.Fprintf(s.Err, "%v (expected when it reproduces the TLS failure)\n", res.RunErr)
			if out := bytes.TrimSpace(res.RunOutput); len(out) > 0 {
				fmt.Fprintf(s.Err, "  %s\n", strings.ReplaceAll(string(out), "\n", "\n  "))
			}
		}
	}
	if err != nil {
		if res != nil {
			if _, serr := os.Stat(res.Output); serr == nil {
				fmt.Fprintf(s.Err, "the trace file %s was kept; analyze it with: etlscope analyze %s\n", res.Output, quoteIfSpace(res.Output))
			}
		}
		return err
	}
	restored := "WinHTTP tracing was not changed"
	if res.Restore.Name != "" {
		restored = fmt.Sprintf("WinHTTP tracing restored (%s)", res.Restore)
	}
	fmt.Fprintf(s.Err, "wrote %s (%.1f MB, %s of tracing); %s\n", res.Output, float64(res.Size)/(1<<20), res.Elapsed.Round(time.Second), restored)
	if o.noAnalyze {
		fmt.Fprintf(s.Err, "analyze it with: etlscope analyze %s\n", quoteIfSpace(res.Output))
		return nil
	}
	fmt.Fprintln(s.Err)
	return s.machine().analyze(ctx, res.Output, o, s)
}

// analyzeCaptured runs the analyze command on the new trace.
func analyzeCaptured(ctx context.Context, path string, o *captureOptions, s *streams) error {
	return runAnalyze(ctx, &analyzeOptions{output: o.output, redact: o.redact}, []string{path}, s)
}

// quoteIfSpace puts a path with spaces in double quotes, for a command
// line the user can paste.
func quoteIfSpace(p string) string {
	if strings.ContainsAny(p, " \t") {
		return `"` + p + `"`
	}
	return p
}

// isTerminal reports whether w is a character device (a console).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
