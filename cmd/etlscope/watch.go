package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/etlscope/etlscope/trace"
)

type watchOptions struct {
	filter string
}

func newWatchCmd(s *streams) *cobra.Command {
	o := &watchOptions{}
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Live view of WebIO/WinHttp/Schannel events: EnabledProtocols and handshake results as they happen (Windows)",
		Long: `watch starts a real-time ETW session on Microsoft-Windows-WebIO, Microsoft-Windows-WinHttp
and Schannel and prints each event as it happens (EnabledProtocols decoded), until Ctrl-C.
The session is always stopped on exit. Needs an elevated prompt and a Windows build of
etlscope made with cgo.`,
		Example: `  etlscope watch -f 'description.contains("EnabledProtocols")'`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runWatch(cmd.Context(), o, s)
		},
	}
	cmd.Flags().StringVarP(&o.filter, "filter", "f", "", "show only events matching this filter expression")
	return cmd
}

func runWatch(ctx context.Context, o *watchOptions, s *streams) error {
	flt, err := compileFilter(o.filter)
	if err != nil {
		return err
	}
	opts := trace.WatchOptions{Emit: func(e *trace.LiveEvent) {
		fmt.Fprintf(s.Out, "%s  %-28s %5d  pid %-6d %s\n", formatTime(e.Time), e.Provider, e.ID, e.PID, e.Description())
	}}
	if flt != nil {
		opts.Match = func(e *trace.LiveEvent) bool { return flt.Match(e) }
	}
	if err := trace.Watch(ctx, opts); err != nil {
		if strings.Contains(err.Error(), "needs Windows") {
			return usageError(err)
		}
		return err
	}
	return nil
}
