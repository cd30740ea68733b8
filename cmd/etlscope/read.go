package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
	"github.com/etlscope/etlscope/etl/scan"
	"github.com/etlscope/etlscope/packet"
	"github.com/etlscope/etlscope/report"
)

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

// isOwnerEvent reports whether ev is a TCPIP connect event, which names
// the process that owns a connection.
func isOwnerEvent(ev *etl.Event) bool {
	return ev.Provider == decode.TCPIP && (ev.ID == 1033 || ev.ID == 1034)
}

// readPackets extracts the frames of t, passing each to fn, and, when
// owner is set, the connection owners named by TCPIP connect events. It
// returns the scan result and the number of frames.
func readPackets(ctx context.Context, s *streams, t *scan.Trace, fn func(*packet.Frame) error, owner func(local, remote netip.AddrPort, pid uint32)) (*scan.Result, int, error) {
	x := packet.NewExtractor()
	frames := 0
	opts := scan.Options{
		Decode:  func(ev *etl.Event) bool { return owner != nil && isOwnerEvent(ev) },
		OnIssue: issueWarner(s, t.Name),
	}
	res, err := scan.Run(ctx, t.File, opts, func(e *scan.Event) error {
		if e.Decoded != nil {
			l, lok := propAddr(e.Decoded, "LocalAddress")
			r, rok := propAddr(e.Decoded, "RemoteAddress")
			pid, pok := e.Decoded.PropUint("ProcessId")
			if lok && rok && pok {
				owner(l, r, uint32(pid))
			}
			return nil
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

// renderWithIntegrity writes a table and the trace's integrity in format
// f. JSON is one object: the rows under key, and "integrity".
func renderWithIntegrity(w io.Writer, f report.Format, t *report.Table, key string, in *etl.Integrity) error {
	if f != report.FormatJSON {
		if err := t.Render(w, f); err != nil {
			return err
		}
		if f == report.FormatTable {
			fmt.Fprintln(w)
		}
		return report.WriteIntegrity(w, f, in)
	}
	var rows bytes.Buffer
	if err := t.Render(&rows, f); err != nil {
		return err
	}
	return writeJSON(w, map[string]any{key: json.RawMessage(rows.Bytes()), "integrity": report.Integrity(in)})
}
