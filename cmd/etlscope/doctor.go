package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/etlscope/etlscope/report"
	"github.com/etlscope/etlscope/trace"
)

type doctorOptions struct {
	output string
}

func newDoctorCmd(s *streams) *cobra.Command {
	o := &doctorOptions{}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check this Windows machine's TLS settings for WinHTTP and Schannel (Windows)",
		Long: `doctor reads, without changing anything:
  - the Windows build and product type (RtlGetVersion: Windows 8 and Server 2012 share
    build 9200) and whether Windows is 64-bit;
  - KB3140245 where it exists (Windows 7 SP1 / 2008 R2 SP1 / Server 2012; never Windows 8),
    from the installed-updates list (wmic qfe, else PowerShell Get-HotFix; output it cannot
    read makes the row "unknown", never "not installed");
  - DefaultSecureProtocols under HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Internet
    Settings\WinHttp and its Wow6432Node twin;
  - the SCHANNEL protocol keys (TLS 1.0 to 1.3, Client and Server: Enabled, DisabledByDefault);
  - the .NET SchUseStrongCrypto / SystemDefaultTlsVersions keys (v4.0.30319, v2.0.50727,
    both registry views);
  - the Internet Options SecureProtocols values (HKCU, HKLM and their policies).
It compares them with the defaults of this Windows build and prints ready-to-paste
fixes: reg add lines carry /reg:64 on 64-bit Windows, so they write the key they name
even from a 32-bit console, and each fix says what must restart (SCHANNEL: reboot). Conclusions that rest on believed (not verified) facts are marked [believed].
Exit status 3 when TLS 1.2 is not available to WinHTTP. Windows only.`,
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
	d, err := trace.Doctor(ctx, s.machine().system, s.machine().registry, s.machine().runner)
	if err != nil {
		if errors.Is(err, trace.ErrNotWindows) {
			return usageError(fmt.Errorf("doctor: %w: it reads the registry of the machine that fails; run it there (analyze works on any OS)", err))
		}
		return err
	}
	if err := renderDiagnosis(s, format, d); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if d.Problem {
		return &exitError{code: exitTLSProblem}
	}
	return nil
}

// renderDiagnosis writes d as JSON, or as a table followed by the verdict,
// the fix and the believed facts.
func renderDiagnosis(s *streams, format report.Format, d *trace.Diagnosis) error {
	if format == report.FormatJSON {
		return writeJSON(s.Out, d)
	}
	t := &report.Table{Title: "TLS configuration", Columns: []string{"area", "setting", "value", "status", "note"},
		Shape: report.Shape{Fixed: []string{"status"}, Wrap: true}}
	for _, c := range d.Checks {
		note := c.Note
		if c.Believed {
			note = strings.TrimSpace(note + " [believed]")
		}
		t.Add(c.Area, c.Setting, c.Value, c.Status.String(), note)
	}
	if err := t.RenderOpts(s.Out, format, report.Options{Width: termWidth(s), Wide: s.ui.wide}); err != nil {
		return err
	}
	if format == report.FormatCSV {
		return nil // one table only, so the CSV stays machine-readable
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%s\n", d.Verdict)
	if len(d.Fix) > 0 {
		fmt.Fprintf(&b, "\nFix (from an elevated prompt):\n  %s\n", strings.Join(d.Fix, "\n  "))
	}
	if len(d.Recommended) > 0 {
		fmt.Fprintf(&b, "\nAlso recommended (.NET applications that make their own TLS connections):\n  %s\n", strings.Join(d.Recommended, "\n  "))
	}
	if len(d.Believed) > 0 {
		fmt.Fprintf(&b, "\nBelieved, not verified: %s.\n", strings.Join(d.Believed, "; "))
	}
	_, err := fmt.Fprint(s.Out, b.String())
	return err
}
