package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
	"github.com/etlscope/etlscope/packet"
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

// readPackets extracts the frames of path, passing each to fn, and reports
// format problems through warn.
func readPackets(ctx context.Context, s *streams, path string, warn func(error), fn func(*packet.Frame) error) (int, error) {
	return readPacketsOwners(ctx, s, path, warn, fn, nil)
}

// readPacketsOwners is readPackets that also reports the connection owners
// named by TCPIP connect events.
func readPacketsOwners(ctx context.Context, s *streams, path string, warn func(error), fn func(*packet.Frame) error, owner func(local, remote netip.AddrPort, pid uint32)) (int, error) {
	f, err := etl.Open(path)
	if err != nil {
		return 0, badInput(err)
	}
	defer f.Close()
	defer startProgress(s, f, false)()
	x := packet.NewExtractor()
	dec := decode.New()
	frames := 0
	for ev, err := range f.Events(etl.ReadOptions{}) {
		if err != nil {
			var fe *etl.FormatError
			if errors.As(err, &fe) {
				warn(err)
				continue
			}
			return frames, badInput(fmt.Errorf("%s: %w", path, err))
		}
		if ctx.Err() != nil {
			return frames, ctx.Err()
		}
		if owner != nil && ev.Provider == decode.TCPIP && (ev.ID == 1033 || ev.ID == 1034) {
			d := dec.Decode(ev)
			l, lok := propAddr(d, "LocalAddress")
			r, rok := propAddr(d, "RemoteAddress")
			pid, pok := d.PropUint("ProcessId")
			if lok && rok && pok {
				owner(l, r, uint32(pid))
			}
			continue
		}
		if !packet.IsPacketEvent(ev) {
			continue
		}
		fr, err := x.Add(ev)
		if err != nil {
			warn(err)
			continue
		}
		if fr == nil {
			continue
		}
		frames++
		if err := fn(fr); err != nil {
			return frames, err
		}
	}
	return frames, nil
}

// readConversations returns the TCP conversations of path and the number
// of frames seen.
func readConversations(ctx context.Context, s *streams, path string, warn func(error)) ([]*packet.Conversation, int, error) {
	tr := packet.NewTracker()
	frames, err := readPacketsOwners(ctx, s, path, warn, func(fr *packet.Frame) error { tr.Add(fr); return nil }, tr.SetOwner)
	if err != nil {
		return nil, frames, err
	}
	if n := tr.Dropped(); n > 0 {
		warn(fmt.Errorf("%d connections beyond the tracker's limit were ignored", n))
	}
	return tr.Conversations(), frames, nil
}

func runConversations(ctx context.Context, o *conversationsOptions, path string, s *streams) error {
	format, flt, err := formatAndFilter(o.output, o.filter)
	if err != nil {
		return err
	}
	convs, frames, err := readConversations(ctx, s, path, func(err error) { fmt.Fprintln(s.Err, "warning:", err) })
	if err != nil {
		return err
	}
	if frames == 0 {
		fmt.Fprintln(s.Err, "note: no packets in this trace (capture with `netsh trace start ... capture=yes`); nothing to show")
	}
	var red *report.Redactor
	if o.redact {
		red = report.NewRedactor()
	}
	t := &report.Table{Title: "TCP conversations", Columns: conversationColumns}
	for _, c := range convs {
		if flt != nil && !flt.Match(convFields{c}) {
			continue
		}
		t.Add(conversationRow(c, red)...)
	}
	return t.Render(s.Out, format)
}

var conversationColumns = []string{"first seen", "client", "server", "pid", "sni", "client max", "offered", "selected", "cipher", "outcome"}

func conversationRow(c *packet.Conversation, red *report.Redactor) []string {
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
