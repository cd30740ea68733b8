package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/etlscope/etlscope/etl/scan"
	"github.com/etlscope/etlscope/packet"
	"github.com/etlscope/etlscope/report"
)

type pcapOptions struct {
	out    string
	format string
	force  bool
	events bool
}

func newPcapCmd(s *streams) *cobra.Command {
	o := &pcapOptions{}
	cmd := &cobra.Command{
		Use:   "pcap IN.etl OUT.pcapng",
		Short: "Export the captured packets as pcapng for Wireshark (etl2pcapng replacement)",
		Long: `pcap writes every packet of the trace (NDIS-PacketCapture, PktMon or, for VPN
captures, Ras-NdisWanPacketCapture events) to a pcapng file, one pcapng packet per
packet event as etl2pcapng does: one interface per adapter (PktMon component) and
link type, nanosecond timestamps, the direction in the packet flags, the original
length of frames the capture cut (from the IP header), and the process id of the
capturing event as a packet comment. PktMon drop events are included, with their
drop reason and location in the comment and a "drop" verdict; PktMon's copies of a
packet at each component are all written. 802.11 frames are written as Windows logs
them (no FCS). The output file is the second argument, as with etl2pcapng (or -w FILE, as with
tshark); "-" writes to standard output. It refuses to overwrite an existing file
unless --force is given. As everywhere in etlscope, -o is the output format; pcap
writes pcapng only.`,
		Example: `  etlscope pcap NetTrace.etl NetTrace.pcapng
  etlscope pcap NetTrace.etl -w - | tshark -r -`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.resolve(args); err != nil {
				return err
			}
			return runPcap(cmd.Context(), o, args[0], s)
		},
	}
	cmd.Flags().StringVarP(&o.out, "write", "w", "", "pcapng file to write, instead of the second argument (- for stdout)")
	cmd.Flags().StringVarP(&o.format, "output", "o", "pcapng", "output format: pcapng (the only one)")
	cmd.Flags().BoolVar(&o.force, "force", false, "overwrite an existing output file")
	cmd.Flags().BoolVar(&o.events, "events", false, `also write every other event, as Wireshark "Event Tracing for Windows" records (link type 290) with the decoded description as message, in time order with the packets`)
	return cmd
}

// resolve checks the output format and takes the output file from the
// second argument or -w: exactly one of them.
func (o *pcapOptions) resolve(args []string) error {
	if f := strings.ToLower(o.format); f != "pcapng" && f != "" {
		return usageError(fmt.Errorf("-o is the output format and pcap writes pcapng only, not %q; give the output file as the second argument (etlscope pcap IN.etl OUT.pcapng) or with -w", o.format))
	}
	switch {
	case len(args) == 2 && o.out != "":
		return usageError(fmt.Errorf("two output files (%s and -w %s): give one", args[1], o.out))
	case len(args) == 2:
		o.out = args[1]
	case o.out == "":
		return usageError(errors.New("no output file: etlscope pcap IN.etl OUT.pcapng (or -w FILE; - for stdout)"))
	}
	return nil
}

func runPcap(ctx context.Context, o *pcapOptions, path string, s *streams) (err error) {
	t, err := openTrace(path, s)
	if err != nil {
		return err
	}
	defer t.Close()
	defer startProgress(s, t.File, false)()
	var w io.Writer = s.Out
	if o.out != "-" {
		flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
		if o.force {
			flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		}
		fh, oerr := os.OpenFile(o.out, flags, 0o644)
		if oerr != nil {
			if errors.Is(oerr, os.ErrExist) {
				return usageError(fmt.Errorf("%s exists; use --force to overwrite it", o.out))
			}
			return usageError(oerr)
		}
		defer func() {
			if cerr := fh.Close(); err == nil && cerr != nil {
				err = cerr
			}
			if err != nil {
				// Do not leave a half-written capture behind (a rerun
				// would then need --force).
				os.Remove(o.out)
			}
		}()
		w = fh
	}
	pw := packet.NewPcapWriter(w, "etlscope")
	var res *scan.Result
	var frames, events int
	if o.events {
		res, frames, events, err = readPacketsAndEvents(ctx, s, t, pw)
	} else {
		res, frames, err = readPackets(ctx, s, t, pw.Write, nil, nil)
	}
	if err != nil {
		return badInput(err)
	}
	if err := pw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", o.out, err)
	}
	if frames == 0 && !o.events {
		fmt.Fprintln(s.Err, "note: no packets in this trace (capture with `netsh trace start ... capture=yes`); wrote an empty capture")
	}
	if o.out != "-" {
		if o.events {
			fmt.Fprintf(s.Err, "wrote %d packets and %d events to %s\n", pw.Packets(), events, o.out)
		} else {
			fmt.Fprintf(s.Err, "wrote %d packets to %s\n", pw.Packets(), o.out)
		}
	}
	if !res.Complete() {
		fmt.Fprintf(s.Err, "warning: %s: %s\n", t.Name, report.IntegritySummary(&res.Integrity))
	}
	return nil
}
