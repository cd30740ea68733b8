package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/etlscope/etlscope/redact"
	"github.com/etlscope/etlscope/report"
	"github.com/etlscope/etlscope/trace"
)

type watchOptions struct {
	filter string
	redact bool
}

func newWatchCmd(s *streams) *cobra.Command {
	o := &watchOptions{}
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Live view of WebIO/WinHttp/Schannel events: EnabledProtocols and handshake results as they happen (Windows)",
		Long: `watch starts a real-time ETW session ("` + trace.SessionPrefix + `<pid>", one per run, so two
watches do not disturb each other) on Microsoft-Windows-WebIO, Microsoft-Windows-WinHttp,
Schannel and Microsoft-Windows-Schannel-Events and prints each event as it happens — time,
provider, event id, process id, then EnabledProtocols and the result/error fields decoded,
then the other fields — until Ctrl-C. The providers are disabled and the session stopped
on every exit. When ETW loses events (it counts them) watch says so, as it does for
events it had to drop itself.

Secrets (the password of WinHttp's credential event) are shown as
"` + trace.HiddenSecret + `" unless --show-secrets, as in events. --redact drops the WinHttp
credential events and replaces host names, addresses and user names with placeholders
(--redact-key and --public-name apply; there is no trace to learn names from first, so
the text patterns of events --redact do the work).

Needs an elevated prompt and a Windows build of etlscope made with cgo
(CGO_ENABLED=1 and a C compiler); other builds say so and exit 1.`,
		Example: `  etlscope watch
  etlscope watch -f 'id in (728, 729, 730)'
  etlscope watch -f 'EnabledProtocols && !(EnabledProtocols & 0x800)' --redact`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runWatch(cmd.Context(), o, s)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.filter, "filter", "f", "", "show only events matching this filter expression (as for events)")
	fl.BoolVar(&o.redact, "redact", false, "hide host names, IP addresses and user names; drop WinHttp credential events")
	return cmd
}

func runWatch(ctx context.Context, o *watchOptions, s *streams) error {
	showSecrets := s.privacy().showSecrets
	flt, err := compileFilter(o.filter)
	if err != nil {
		return err
	}
	var red *redact.Redactor
	if o.redact {
		red = s.privacy().newRedactor()
	}
	opts := trace.WatchOptions{
		Emit: func(e *trace.LiveEvent) {
			// The filter saw the real values; the output gets the safe ones.
			if red != nil && e.IsCredentialEvent() {
				return
			}
			if !showSecrets {
				e.HideSecrets()
			}
			if red != nil {
				e.Redact(red)
			}
			fmt.Fprintf(s.Out, "%s  %-34s %5d  pid %-6s %s\n", report.FormatTime(e.Time, nil), e.Provider, e.ID, idText(e.PID), e.Description())
		},
		Notice: func(msg string) { fmt.Fprintln(s.Err, "etlscope watch:", msg) },
	}
	if flt != nil {
		opts.Match = trace.MatchFunc(func(e *trace.LiveEvent) bool { return flt.Match(e) })
	}
	if err := s.machine().watch(ctx, opts); err != nil {
		if errors.Is(err, trace.ErrWatchUnsupported) {
			return usageError(err)
		}
		return err
	}
	return nil
}
