package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
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
	run          string
	dryRun       bool
	stopExisting bool
	output       string
	redact       bool
	quiet        bool
}

// captureDeps are the system hooks capture uses; tests replace them.
var captureDeps = struct {
	runner trace.Runner
	system trace.System
	goos   string
}{trace.ExecRunner{}, trace.LocalSystem{}, runtime.GOOS}

func newCaptureCmd(s *streams) *cobra.Command {
	o := &captureOptions{}
	cmd := &cobra.Command{
		Use:   "capture",
		Short: "Capture a NetTrace.etl on Windows (netsh sequence made safe), then analyze it",
		Long: `capture runs Microsoft's procedure for you on the Windows machine that fails:

  netsh winhttp set tracing level=verbose format=hex output=file max-trace-file-size=512000 state=enabled
  netsh trace start scenario=InternetClient capture=yes tracefile=FILE maxsize=N overwrite=yes
  (reproduce: press Enter when done, or --duration, or --run "COMMAND")
  netsh trace stop
  netsh winhttp set tracing state=disabled

It checks first that it runs elevated, that no other netsh trace is running and
that FILE does not exist (--force to overwrite). Whatever happens — an error, a
timeout, Ctrl-C — it stops the trace and restores WinHTTP tracing. Then it runs
analyze on FILE. --dry-run prints the exact commands, on any OS.`,
		Example: `  etlscope capture --run "Invoke-WebRequest https://outlook.office365.com"
  etlscope capture --duration 2m --file C:\temp\hcw.etl
  etlscope capture --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCapture(cmd.Context(), o, s)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.file, "file", "", "trace file to write (default NetTrace-<date>-<time>.etl in the current directory)")
	fl.BoolVar(&o.force, "force", false, "overwrite the trace file if it exists")
	fl.BoolVar(&o.noPackets, "no-packets", false, "do not capture packets (capture=yes is on by default: packets show the negotiated TLS version)")
	fl.IntVar(&o.maxSize, "max-size", 512, "netsh maxsize in MB")
	fl.DurationVar(&o.duration, "duration", 0, "stop after this long (e.g. 90s, 2m)")
	fl.StringVar(&o.run, "run", "", "PowerShell command that reproduces the problem; the capture stops when it ends")
	fl.BoolVar(&o.dryRun, "dry-run", false, "print the commands instead of running them (any OS)")
	fl.BoolVar(&o.stopExisting, "force-stop-existing", false, "stop a netsh trace session that is already running")
	fl.StringVarP(&o.output, "output", "o", "table", "format of the analysis: "+report.FormatList())
	fl.BoolVar(&o.redact, "redact", false, "redact the analysis for a ticket")
	return cmd
}

func runCapture(ctx context.Context, o *captureOptions, s *streams) error {
	if _, err := report.ParseFormat(o.output); err != nil {
		return usageError(err)
	}
	file := o.file
	if file == "" {
		file = trace.DefaultOutput(time.Now())
	}
	opts := trace.Options{Output: file, Force: o.force, Packets: !o.noPackets, MaxSizeMB: o.maxSize,
		Duration: o.duration, Run: o.run, ForceStopExisting: o.stopExisting}
	if o.dryRun {
		for _, c := range trace.Plan(opts) {
			fmt.Fprintln(s.Out, c)
		}
		return nil
	}
	if captureDeps.goos != "windows" {
		return usageError(trace.ErrNotWindows)
	}
	if o.duration == 0 && o.run == "" {
		opts.Enter = s.In
		fmt.Fprintln(s.Err, "Tracing. Reproduce the problem now (e.g. run the Hybrid Configuration Wizard), then press Enter.")
	}
	if !quietFlag && isTerminal(s.Err) {
		opts.Progress = s.Err
	}
	if err := trace.Capture(ctx, captureDeps.runner, captureDeps.system, opts); err != nil {
		if _, serr := os.Stat(file); serr == nil {
			fmt.Fprintf(s.Err, "the trace file %s was kept\n", file)
		}
		return err
	}
	fmt.Fprintf(s.Err, "wrote %s; analyzing\n\n", file)
	return runAnalyze(ctx, &analyzeOptions{output: o.output, redact: o.redact}, file, s)
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
