package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/etlscope/etlscope/report"
	"github.com/etlscope/etlscope/trace"
)

type doctorOptions struct {
	output string
}

// doctorDeps are the system hooks doctor uses; tests replace them.
var doctorDeps = struct {
	system   trace.System
	registry trace.Registry
	runner   trace.Runner
}{trace.LocalSystem{}, trace.LocalRegistry{}, trace.ExecRunner{}}

func newDoctorCmd(s *streams) *cobra.Command {
	o := &doctorOptions{}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check this Windows machine's TLS settings for WinHTTP and Schannel (Windows)",
		Long: `doctor reads the OS build, KB3140245 where it matters (Windows 7, 2008 R2, 2012),
DefaultSecureProtocols in both WinHttp registry keys, the SCHANNEL protocol keys,
the .NET strong-crypto keys and the Internet Options protocols, compares them with
the defaults of this Windows build and prints ready-to-paste fixes.
Exit status 3 when TLS 1.2 is not available to WinHTTP.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDoctor(cmd.Context(), o, s)
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "table", "output format: "+report.FormatList())
	return cmd
}

func runDoctor(ctx context.Context, o *doctorOptions, s *streams) error {
	format, err := report.ParseFormat(o.output)
	if err != nil {
		return usageError(err)
	}
	d, err := trace.Doctor(ctx, doctorDeps.system, doctorDeps.registry, doctorDeps.runner)
	if err != nil {
		if err == trace.ErrNotWindows {
			return usageError(err)
		}
		return err
	}
	if format == report.FormatJSON {
		if err := writeJSON(s.Out, d); err != nil {
			return err
		}
	} else {
		t := &report.Table{Title: "TLS configuration", Columns: []string{"area", "setting", "value", "status", "note"}}
		for _, c := range d.Checks {
			t.Add(c.Area, c.Setting, c.Value, c.Status, c.Note)
		}
		if err := t.Render(s.Out, format); err != nil {
			return err
		}
		fmt.Fprintf(s.Out, "\n%s\n", d.Verdict)
		if len(d.Fix) > 0 {
			fmt.Fprintf(s.Out, "\nFix:\n  %s\n", strings.Join(d.Fix, "\n  "))
		}
		fmt.Fprintf(s.Out, "\nBelieved, not verified: %s.\n", strings.Join(d.Believed, "; "))
	}
	if d.Problem {
		return &exitError{code: exitTLSProblem}
	}
	return nil
}
