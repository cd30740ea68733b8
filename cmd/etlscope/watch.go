package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/etlscope/etlscope/report"
	"github.com/etlscope/etlscope/trace"
)

type watchOptions struct {
	filter string
}

// watchDeps is the live session watch runs; tests replace it.
var watchDeps = struct {
	watch func(ctx context.Context, o trace.WatchOptions) error
}{trace.Watch}

func newWatchCmd(s *streams) *cobra.Command {
	o := &watchOptions{}
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Live view of WebIO/WinHttp/Schannel events: EnabledProtocols and handshake results as they happen (Windows)",
		Long: `watch starts a real-time ETW session ("` + trace.DefaultSessionName + `") on Microsoft-Windows-WebIO,
Microsoft-Windows-WinHttp, Schannel and Microsoft-Windows-Schannel-Events and prints each
event as it happens — time, provider, event id, process id, then EnabledProtocols and the
result/error fields decoded, then the other fields — until Ctrl-C. The providers are
disabled and the session stopped on every exit.

Needs an elevated prompt and a Windows build of etlscope made with cgo
(CGO_ENABLED=1 and a C compiler); other builds say so and exit 1.`,
		Example: `  etlscope watch
  etlscope watch -f 'id in (728, 729, 730)'
  etlscope watch -f 'EnabledProtocols && !(EnabledProtocols & 0x800)'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runWatch(cmd.Context(), o, s)
		},
	}
	cmd.Flags().StringVarP(&o.filter, "filter", "f", "", "show only events matching this filter expression (as for events)")
	return cmd
}

func runWatch(ctx context.Context, o *watchOptions, s *streams) error {
	flt, err := compileFilter(o.filter)
	if err != nil {
		return err
	}
	opts := trace.WatchOptions{
		Emit: func(e *trace.LiveEvent) {
			fmt.Fprintf(s.Out, "%s  %-34s %5d  pid %-6s %s\n", report.FormatTime(e.Time, nil), e.Provider, e.ID, idText(e.PID), e.Description())
		},
		Notice: func(msg string) { fmt.Fprintln(s.Err, "etlscope watch:", msg) },
	}
	if flt != nil {
		opts.Match = trace.MatchFunc(func(e *trace.LiveEvent) bool { return flt.Match(e) })
	}
	if err := watchDeps.watch(ctx, opts); err != nil {
		if errors.Is(err, trace.ErrWatchUnsupported) {
			return usageError(err)
		}
		return err
	}
	return nil
}
