package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/etlscope/etlscope/diagnose"
	"github.com/etlscope/etlscope/etl/decode"
	"github.com/etlscope/etlscope/report"
)

type analyzeOptions struct {
	example bool
	output  string
	redact  bool
	filter  string
}

func newAnalyzeCmd(s *streams) *cobra.Command {
	o := &analyzeOptions{}
	cmd := &cobra.Command{
		Use:   "analyze [FILE.etl] | --example",
		Short: "Diagnose TLS: enabled protocols, offered and negotiated versions, failures, fixes",
		Long: `analyze answers in one screen which TLS versions each WinHTTP/WinINet client
enabled (WebIO EnabledProtocols), what it offered and negotiated per connection
(from the packet capture), what failed and why (alerts, SEC_E_* and WinHTTP errors,
certificate validation), and how to fix it for the Windows build that wrote the trace:
KB3140245, DefaultSecureProtocols in both WinHttp registry keys (ready-to-paste
reg add lines), SCHANNEL TLS 1.2 client keys. When a provider the answer needs is
missing from the trace, it says so instead of guessing. Without FILE, on Windows, it
reads %LOCALAPPDATA%\Temp\NetTraces\NetTrace.etl, where netsh trace writes by default.

Exit status:
  0  no TLS problem found, in a complete trace that holds what the diagnosis needs
  3  a TLS problem found (even in an incomplete trace)
  4  inconclusive: the trace is damaged, truncated, wrapped or lost events, or lacks
     a provider or the packets the diagnosis needs, and nothing wrong was found in
     what could be read ("cannot tell", never "no TLS problem found")
  2  unreadable input
  1  usage error`,
		Example: `  etlscope analyze NetTrace.etl
  etlscope analyze NetTrace.etl --output html --redact > report.html`,
		// No file and no --example: netsh's default trace on Windows
		// (defaultpath.go).
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && !o.example {
				return nil
			}
			return traceArgs(&o.example)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if !o.example {
				path, err := analyzePath(args, s)
				if err != nil {
					return err
				}
				args = []string{path}
			}
			return runAnalyze(cmd.Context(), o, args, s)
		},
	}
	exampleFlag(cmd, &o.example)
	cmd.Flags().StringVarP(&o.output, "output", "o", "table", "output format: "+report.FormatList())
	cmd.Flags().StringVarP(&o.filter, "filter", "f", "", "use only the events matching this filter expression (packets are always used)")
	cmd.Flags().BoolVar(&o.redact, "redact", false, "replace host names, IPs and user names with stable placeholders (ticket-safe)")
	return cmd
}

func runAnalyze(ctx context.Context, o *analyzeOptions, args []string, s *streams) error {
	format, flt, err := formatAndFilter(o.output, o.filter, decode.New().KnownFields())
	if err != nil {
		return err
	}
	t, err := openInput(args, o.example, s)
	if err != nil {
		return err
	}
	defer t.Close()
	defer startProgress(s, t.File, false)()
	opts := diagnose.Options{Filter: flt, OnIssue: issueWarner(s, t.Name)}
	name := t.Name
	if o.redact {
		if opts.Redact, err = s.privacy().learnRedactor(ctx, t, nil); err != nil {
			return err
		}
		name = "NetTrace.etl (name redacted)"
	}
	a, err := diagnose.Analyze(ctx, t.File, name, opts)
	if err != nil {
		return badInput(fmt.Errorf("%s: %w", t.Name, err))
	}
	if err := report.RenderAnalysisOpts(s.Out, format, a, renderOptions(s, t.Header())); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	switch a.Result {
	case diagnose.ResultProblem:
		return &exitError{code: exitTLSProblem}
	case diagnose.ResultInconclusive:
		return &exitError{code: exitInconclusive}
	}
	return nil
}
