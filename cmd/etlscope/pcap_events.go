package main

import (
	"context"

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
	ew := packet.NewETWWriter(pw)
	notFrame := func(ev *etl.Event) bool { return !packet.CarriesFrame(ev) }
	res, frames, err := readPackets(ctx, s, t, pw.Write, notFrame, func(e *scan.Event) error {
		return ew.Write(e.Event, providerLabel(e.Decoded), e.Decoded.Description())
	})
	return res, frames, ew.Events(), err
}
