package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"

	"github.com/etlscope/etlscope/diagnose"
	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/scan"
	"github.com/etlscope/etlscope/packet"
	"github.com/etlscope/etlscope/report"
	"github.com/etlscope/etlscope/testdata"
	"github.com/spf13/cobra"
)

// exampleFlag adds --example to a command that reads a trace.
func exampleFlag(cmd *cobra.Command, p *bool) {
	cmd.Flags().BoolVar(p, "example", false, "read the embedded example trace instead of a file (the seed case: HCW on Windows Server 2012, TLS 1.0 only, alert 70)")
}

// traceArgs accepts FILE, or no argument with --example.
func traceArgs(example *bool) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case *example && len(args) > 0:
			return usageError(fmt.Errorf("--example reads the embedded trace: give no file (got %q)", args[0]))
		case !*example && len(args) == 0:
			return usageError(errors.New("no trace file: give FILE.etl (- for stdin), or --example for the embedded example trace"))
		case len(args) > 1:
			return usageError(fmt.Errorf("one trace file at a time (got %d arguments)", len(args)))
		}
		return nil
	}
}

// openInput opens the trace named by the arguments: args[0], or the
// embedded example with --example.
func openInput(args []string, example bool, s *streams) (*scan.Trace, error) {
	if !example {
		return openTrace(args[0], s)
	}
	f, err := etl.NewFile(bytes.NewReader(testdata.Example), int64(len(testdata.Example)))
	if err != nil {
		return nil, fmt.Errorf("the embedded example trace: %w", err) // a build defect, not bad input
	}
	return &scan.Trace{File: f, Name: testdata.ExampleName + " (embedded example)"}, nil
}

// openTrace opens the trace a command reads ("-" for stdin); a file that
// cannot be opened as a trace is bad input (exit 2).
func openTrace(path string, s *streams) (*scan.Trace, error) {
	t, err := scan.Open(path, s.In)
	if err != nil {
		return nil, badInput(err)
	}
	return t, nil
}

// maxIssueLines bounds the integrity warnings a command prints on stderr
// while it reads; the output's integrity section has them all.
const maxIssueLines = 20

// issueWarner returns an OnIssue callback that prints each integrity
// finding on stderr as the reader finds it, naming the file.
func issueWarner(s *streams, name string) func(etl.Issue) {
	n := 0
	return func(is etl.Issue) {
		n++
		switch {
		case n <= maxIssueLines:
			fmt.Fprintf(s.Err, "warning: %s: %s\n", name, is.Message)
		case n == maxIssueLines+1:
			fmt.Fprintf(s.Err, "warning: %s: further integrity findings are listed in the output only\n", name)
		}
	}
}

// readPackets extracts the frames of t and passes each to fn. Events that
// decode selects (nil: none) are decoded and passed to other instead. It
// returns the scan result and the number of frames.
func readPackets(ctx context.Context, s *streams, t *scan.Trace, fn func(*packet.Frame) error, decode func(*etl.Event) bool, other func(*scan.Event) error) (*scan.Result, int, error) {
	x := packet.NewExtractor()
	frames := 0
	if decode == nil {
		decode = func(*etl.Event) bool { return false }
	}
	opts := scan.Options{Decode: decode, OnIssue: issueWarner(s, t.Name)}
	res, err := scan.Run(ctx, t.File, opts, func(e *scan.Event) error {
		if e.Decoded != nil {
			return other(e)
		}
		if !packet.IsPacketEvent(e.Event) {
			return nil
		}
		fr, err := x.Add(e.Event)
		if err != nil {
			fmt.Fprintf(s.Err, "warning: %s: %v\n", t.Name, err)
			return nil
		}
		if fr == nil {
			return nil
		}
		frames++
		return fn(fr)
	})
	if err != nil {
		return res, frames, fmt.Errorf("%s: %w", t.Name, err)
	}
	return res, frames, nil
}

// ownerVisitor passes the 4-tuple and process of TCPIP connect events
// (selected by diagnose.IsOwnerEvent) to owner.
func ownerVisitor(owner func(local, remote netip.AddrPort, pid uint32)) func(*scan.Event) error {
	return func(e *scan.Event) error {
		if l, r, pid, ok := diagnose.ConnectOwner(e.Decoded); ok {
			owner(l, r, pid)
		}
		return nil
	}
}

// renderTable writes a table and the trace's integrity in a human-readable
// format f (JSON documents are typed, per command).
func renderTable(w io.Writer, f report.Format, t *report.Table, in *etl.Integrity, o report.Options) error {
	if err := t.RenderOpts(w, f, o); err != nil {
		return err
	}
	if f == report.FormatTable {
		fmt.Fprintln(w)
	}
	return report.WriteIntegrity(w, f, in)
}
