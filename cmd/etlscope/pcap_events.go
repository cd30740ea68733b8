package main

import (
	"context"
	"fmt"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/scan"
	"github.com/etlscope/etlscope/packet"
)

// readPacketsAndEvents writes the frames of t to pw and every other event
// as a LINKTYPE_ETW record whose message is the description `events`
// prints, all in the time order of the trace, so Wireshark shows a WebIO
// EnabledProtocols event next to the ClientHello it precedes. It returns
// the scan result, the number of frames and the number of events.
func readPacketsAndEvents(ctx context.Context, s *streams, t *scan.Trace, pw *packet.PcapWriter) (*scan.Result, int, int, error) {
	x := packet.NewExtractor()
	ew := packet.NewETWWriter(pw)
	frames := 0
	opts := scan.Options{
		Decode:  func(ev *etl.Event) bool { return !packet.CarriesFrame(ev) },
		OnIssue: issueWarner(s, t.Name),
	}
	res, err := scan.Run(ctx, t.File, opts, func(e *scan.Event) error {
		if d := e.Decoded; d != nil {
			return ew.Write(e.Event, providerLabel(d), d.Description)
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
		return pw.Write(fr)
	})
	if err != nil {
		return res, frames, ew.Events(), fmt.Errorf("%s: %w", t.Name, err)
	}
	return res, frames, ew.Events(), nil
}
