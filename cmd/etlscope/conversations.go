package main

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/etlscope/etlscope/etl/decode"
	"github.com/etlscope/etlscope/etl/scan"
	"github.com/etlscope/etlscope/packet"
	"github.com/etlscope/etlscope/redact"
	"github.com/etlscope/etlscope/report"
	"github.com/etlscope/etlscope/tlswire"
)

type conversationsOptions struct {
	output string
	filter string
	redact bool
}

func newConversationsCmd(s *streams) *cobra.Command {
	o := &conversationsOptions{}
	cmd := &cobra.Command{
		Use:   "conversations FILE.etl",
		Short: "One row per TCP connection in the packet capture, with its TLS handshake",
		Long: `conversations reads the packets a trace captured (netsh trace capture=yes:
Microsoft-Windows-NDIS-PacketCapture, or pktmon --etw: Microsoft-Windows-PktMon),
reassembles TCP and parses the TLS handshake of every connection: endpoints, SNI,
the client's highest and offered versions, the version and cipher the server
selected, and the outcome (ok, alert NN by client|server, reset, no reply).

--filter takes the same language as events, over the fields tls.version, tls.client_max,
tls.offered, tls.sni, tls.alert, tls.cipher, tcp.srcport, tcp.dstport, ip.src, ip.dst,
pid and outcome.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConversations(cmd.Context(), o, args[0], s)
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "table", "output format: "+report.FormatList())
	cmd.Flags().StringVarP(&o.filter, "filter", "f", "", "show only conversations matching this filter expression")
	cmd.Flags().BoolVar(&o.redact, "redact", false, "replace host names and IP addresses with stable placeholders")
	return cmd
}

// readConversations returns the TCP conversations of t, the scan result
// and the number of frames seen.
func readConversations(ctx context.Context, s *streams, t *scan.Trace) ([]*packet.Conversation, *scan.Result, int, error) {
	tr := packet.NewTracker()
	res, frames, err := readPackets(ctx, s, t, func(fr *packet.Frame) error { tr.Add(fr); return nil }, tr.SetOwner)
	if err != nil {
		return nil, res, frames, err
	}
	if n := tr.Dropped(); n > 0 {
		fmt.Fprintf(s.Err, "warning: %s: %d connections beyond the tracker's limit were ignored\n", t.Name, n)
	}
	return tr.Conversations(), res, frames, nil
}

func runConversations(ctx context.Context, o *conversationsOptions, path string, s *streams) error {
	format, flt, err := formatAndFilter(o.output, o.filter)
	if err != nil {
		return err
	}
	t, err := openTrace(path, s)
	if err != nil {
		return err
	}
	defer t.Close()
	defer startProgress(s, t.File, false)()
	convs, res, frames, err := readConversations(ctx, s, t)
	if err != nil {
		return badInput(err)
	}
	if frames == 0 {
		fmt.Fprintln(s.Err, "note: no packets in this trace (capture with `netsh trace start ... capture=yes`); nothing to show")
	}
	var red *redact.Redactor
	if o.redact {
		red = redact.NewRedactor()
	}
	tbl := &report.Table{Title: "TCP conversations", Columns: conversationColumns}
	for _, c := range convs {
		if flt != nil && !flt.Match(convFields{c}) {
			continue
		}
		tbl.Add(conversationRow(c, red)...)
	}
	return renderWithIntegrity(s.Out, format, tbl, "conversations", &res.Integrity)
}

var conversationColumns = []string{"first seen", "client", "server", "pid", "sni", "client max", "offered", "selected", "cipher", "outcome"}

func conversationRow(c *packet.Conversation, red *redact.Redactor) []string {
	client, server, sni := c.Client.String(), c.Server.String(), ""
	if c.ClientHello != nil {
		sni = c.ClientHello.SNI
	}
	if red != nil {
		client, server, sni = red.AddrPort(c.Client), red.AddrPort(c.Server), red.Host(sni)
	}
	pid := ""
	if c.PIDKnown {
		pid = strconv.FormatUint(uint64(c.PID), 10)
	}
	var clientMax, offered, selected, cipher string
	if ch := c.ClientHello; ch != nil {
		clientMax = ch.MaxVersion().String()
		offered = versionList(ch.Offered())
	}
	if sh := c.ServerHello; sh != nil {
		selected = c.NegotiatedVersion().String()
		if sh.HelloRetryRequest {
			selected = "HelloRetryRequest"
		}
		cipher = tlswire.CipherSuiteName(sh.CipherSuite)
	}
	outcome := c.Outcome().String()
	if c.Gaps {
		outcome += " (capture incomplete)"
	}
	return []string{formatTime(c.FirstSeen.Time()), client, server, pid, sni, clientMax, offered, selected, cipher, outcome}
}

func versionList(vs []tlswire.Version) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = v.String()
	}
	return strings.Join(s, ", ")
}

// propAddr returns a socket-address property.
func propAddr(d *decode.Decoded, name string) (netip.AddrPort, bool) {
	v, ok := d.Prop(name)
	if !ok {
		return netip.AddrPort{}, false
	}
	ap, ok := v.AddrPort()
	return ap, ok && ap.IsValid()
}

// convFields exposes a conversation to filters.
type convFields struct{ c *packet.Conversation }

func (f convFields) Lookup(name string) (any, bool) {
	c := f.c
	switch strings.ToLower(name) {
	case "tls.version":
		if v := c.NegotiatedVersion(); v != 0 {
			return v.String(), true
		}
	case "tls.client_max":
		if c.ClientHello != nil {
			return c.ClientHello.MaxVersion().String(), true
		}
	case "tls.offered":
		if c.ClientHello != nil {
			var s []string
			for _, v := range c.ClientHello.Offered() {
				s = append(s, v.String())
			}
			return s, true
		}
	case "tls.sni":
		if c.ClientHello != nil {
			return c.ClientHello.SNI, true
		}
	case "tls.alert":
		var a []int64
		for _, x := range c.Alerts {
			if !x.Alert.Encrypted {
				a = append(a, int64(x.Alert.Description))
			}
		}
		if len(a) > 0 {
			return a, true
		}
	case "tls.cipher":
		if c.ServerHello != nil {
			return tlswire.CipherSuiteName(c.ServerHello.CipherSuite), true
		}
	case "tcp.srcport":
		return uint64(c.Client.Port()), true
	case "tcp.dstport", "tcp.port":
		return uint64(c.Server.Port()), true
	case "ip.src":
		return c.Client.Addr().String(), true
	case "ip.dst":
		return c.Server.Addr().String(), true
	case "pid":
		return uint64(c.PID), true
	case "outcome":
		return c.Outcome().String(), true
	}
	return nil, false
}
