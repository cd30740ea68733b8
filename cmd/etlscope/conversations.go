package main

import (
	"context"
	"fmt"
	"html"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/etlscope/etlscope/diagnose"
	"github.com/etlscope/etlscope/etl/scan"
	"github.com/etlscope/etlscope/packet"
	"github.com/etlscope/etlscope/redact"
	"github.com/etlscope/etlscope/report"
	"github.com/etlscope/etlscope/tlswire"
)

type conversationsOptions struct {
	example bool
	output  string
	filter  string
	redact  bool
}

func newConversationsCmd(s *streams) *cobra.Command {
	o := &conversationsOptions{}
	cmd := &cobra.Command{
		Use:   "conversations FILE.etl | --example",
		Short: "One row per TCP connection in the packet capture, with its TLS handshake",
		Long: `conversations reads the packets a trace captured (netsh trace capture=yes:
Microsoft-Windows-NDIS-PacketCapture, or pktmon --etw: Microsoft-Windows-PktMon),
reassembles TCP and parses the TLS handshake of every connection: endpoints, SNI,
the client's highest and offered versions, the version and cipher the server
selected, and the outcome (ok, alert NN by client|server, reset, no reply).

A connection through an explicit proxy (HTTP CONNECT) shows the proxy and the
requested host; the TLS handshake inside the tunnel is parsed as usual. When a fact is
partial the row says so: "≥ TLS 1.2 (hello truncated)" for a hello cut by the
capture's snap length, "TLS, handshake not captured" for a connection that was
already set up when the capture started. Frames that are not TCP or cannot be
decoded are counted in a note on stderr, never shown as connections.

--filter takes the same language as events, over the fields tls.version, tls.client_max,
tls.offered, tls.sni, tls.alert, tls.cipher, tls.record_version, proxy.target,
tcp.srcport, tcp.dstport, ip.src, ip.dst, pid and outcome.`,
		Args: traceArgs(&o.example),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConversations(cmd.Context(), o, args, s)
		},
	}
	exampleFlag(cmd, &o.example)
	cmd.Flags().StringVarP(&o.output, "output", "o", "table", "output format: "+report.FormatList())
	cmd.Flags().StringVarP(&o.filter, "filter", "f", "", "show only conversations matching this filter expression")
	cmd.Flags().BoolVar(&o.redact, "redact", false, "replace host names and IP addresses with stable placeholders")
	return cmd
}

// trackConversations reads the packets of t into a tracker, which then
// yields the TCP conversations one by one (Tracker.All) without holding
// them all.
func trackConversations(ctx context.Context, s *streams, t *scan.Trace) (*packet.Tracker, *scan.Result, error) {
	tr := packet.NewTracker()
	res, _, err := readPackets(ctx, s, t, func(fr *packet.Frame) error { tr.Add(fr); return nil }, diagnose.IsOwnerEvent, ownerVisitor(tr.SetOwner))
	if err != nil {
		return tr, res, err
	}
	if n := tr.Dropped(); n > 0 {
		fmt.Fprintf(s.Err, "warning: %s: %d connections beyond the tracker's limit were ignored\n", t.Name, n)
	}
	return tr, res, nil
}

// frameNote summarises what became of the frames: how many were not TCP,
// could not be decoded (never shown as connections), were PktMon copies
// of one packet, or were dropped by Windows. "" when all were TCP.
func frameNote(st packet.FrameStats) string {
	if st.Frames == 0 || (st.NotTCP == 0 && st.Undecodable == 0 && st.Copies == 0 && st.Drops == 0) {
		return ""
	}
	parts := []string{fmt.Sprintf("%d frames: %d TCP", st.Frames, st.TCP)}
	if st.NotTCP > 0 {
		parts = append(parts, fmt.Sprintf("%d not TCP", st.NotTCP))
	}
	if st.Undecodable > 0 {
		parts = append(parts, fmt.Sprintf("%d undecodable (damaged, cut inside a header, encrypted 802.11 or unknown link type; not shown as connections)", st.Undecodable))
	}
	if st.Copies > 0 {
		parts = append(parts, fmt.Sprintf("%d PktMon copies of packets already seen at another component (counted once)", st.Copies))
	}
	if st.Drops > 0 {
		parts = append(parts, fmt.Sprintf("%d dropped by Windows (PktMon drop events)", st.Drops))
	}
	return strings.Join(parts, ", ")
}

func runConversations(ctx context.Context, o *conversationsOptions, args []string, s *streams) error {
	format, flt, err := formatAndFilter(o.output, o.filter, conversationFields)
	if err != nil {
		return err
	}
	t, err := openInput(args, o.example, s)
	if err != nil {
		return err
	}
	defer t.Close()
	defer startProgress(s, t.File, false)()
	tr, res, err := trackConversations(ctx, s, t)
	if err != nil {
		return badInput(err)
	}
	st := tr.Stats()
	if st.Frames == 0 {
		fmt.Fprintln(s.Err, "note: no packets in this trace (capture with `netsh trace start ... capture=yes`); nothing to show")
	}
	if n := frameNote(st); n != "" {
		fmt.Fprintln(s.Err, "note:", n)
	}
	var red *redact.Redactor
	if o.redact {
		if red, err = s.privacy().learnRedactor(ctx, t, nil); err != nil {
			return err
		}
	}
	// Rows are written as the tracker yields them: a trace with 100 000
	// connections never holds them all, nor their rows.
	rows := func(emit func(ConversationJSON) error) error {
		for c := range tr.All() {
			if flt != nil && !flt.Match(convFields{c}) {
				continue
			}
			if err := emit(conversationRow(c, red)); err != nil {
				return err
			}
		}
		return nil
	}
	if format == report.FormatJSON {
		doc := ConversationsJSON{Conversations: []ConversationJSON{}, Frames: framesJSON(st), Integrity: report.Integrity(&res.Integrity)}
		return writeJSONRows(s.Out, doc, "conversations", rows)
	}
	ro := renderOptions(s, t.Header())
	rw, err := report.NewTableWriter(s.Out, format, "TCP conversations", conversationColumns, conversationShape, ro)
	if err != nil {
		return err
	}
	if err := rows(func(r ConversationJSON) error { return rw.Write(conversationCells(r, ro)) }); err != nil {
		return err
	}
	if err := rw.Close(); err != nil {
		return err
	}
	if format == report.FormatTable {
		fmt.Fprintln(s.Out)
	}
	if err := report.WriteIntegrity(s.Out, format, &res.Integrity); err != nil {
		return err
	}
	return writeFrameNote(s.Out, format, st)
}

// FramesJSON counts what became of the captured frames.
type FramesJSON struct {
	Total       int `json:"total"`
	TCP         int `json:"tcp"`
	NotTCP      int `json:"not_tcp"`
	Undecodable int `json:"undecodable"` // never shown as connections
	Copies      int `json:"copies"`      // PktMon copies of a packet seen at another component
	Drops       int `json:"drops"`       // PktMon drop events
}

func framesJSON(st packet.FrameStats) FramesJSON {
	return FramesJSON{Total: st.Frames, TCP: st.TCP, NotTCP: st.NotTCP, Undecodable: st.Undecodable, Copies: st.Copies, Drops: st.Drops}
}

// writeFrameNote writes the frame counts after the table: a line in the
// table, a "#" line after CSV, a paragraph in Markdown and HTML.
func writeFrameNote(w io.Writer, f report.Format, st packet.FrameStats) error {
	n := frameNote(st)
	if n == "" {
		n = fmt.Sprintf("%d frames, all TCP", st.Frames)
	}
	var err error
	switch f {
	case report.FormatCSV:
		_, err = fmt.Fprintf(w, "# frames: %s\n", n)
	case report.FormatMarkdown:
		_, err = fmt.Fprintf(w, "\n**Frames:** %s\n", report.MarkdownEscape(n))
	case report.FormatHTML:
		_, err = fmt.Fprintf(w, "<p class=\"frames\"><b>Frames:</b> %s</p>\n", html.EscapeString(n))
	default:
		_, err = fmt.Fprintf(w, "frames: %s\n", n)
	}
	return err
}

// conversationCells renders a row for the human-readable formats.
func conversationCells(r ConversationJSON, ro report.Options) []string {
	pid := ""
	if r.PID != nil {
		pid = idText(*r.PID)
	}
	server := r.Server
	if r.Proxy != "" {
		server = "proxy " + r.Proxy + " → CONNECT " + r.Server
	}
	outcome := r.Outcome
	if len(r.Notes) > 0 {
		outcome += " (" + strings.Join(r.Notes, "; ") + ")"
	}
	return []string{report.FormatTime(r.FirstSeen, ro.Loc), r.Client, server, pid, r.SNI, r.ClientMax, strings.Join(r.Offered, ", "), r.Selected, r.Cipher, outcome}
}

var conversationColumns = []string{"first seen", "client", "server", "pid", "sni", "client max", "offered", "selected", "cipher", "outcome"}

// conversationShape fits the table in a terminal: the handshake and the
// outcome matter most.
var conversationShape = report.Shape{
	Drop:  []string{"cipher", "client max", "first seen", "client", "pid"},
	Fixed: []string{"first seen", "pid"},
	Wrap:  true,
}

// ConversationsJSON is the document of `etlscope conversations --output json`.
type ConversationsJSON struct {
	Conversations []ConversationJSON   `json:"conversations"`
	Frames        FramesJSON           `json:"frames"`
	Integrity     report.IntegrityJSON `json:"integrity"`
}

// ConversationJSON is one TCP connection. The keys are those of analyze's
// "connections" where they mean the same thing.
type ConversationJSON struct {
	FirstSeen         time.Time `json:"first_seen"`
	Client            string    `json:"client"`
	Server            string    `json:"server"`          // through a proxy: the CONNECT target
	Proxy             string    `json:"proxy,omitempty"` // the HTTP proxy of a CONNECT tunnel (RFC 9110 §9.3.6)
	PID               *uint32   `json:"pid"`             // owning process from the TCPIP connect events; null when unknown
	SNI               string    `json:"sni"`
	ClientMax         string    `json:"client_max"` // highest version the ClientHello offered; "" without one
	Offered           []string  `json:"offered"`    // versions the ClientHello offered
	Selected          string    `json:"selected"`   // version the server selected
	Cipher            string    `json:"cipher"`
	Outcome           string    `json:"outcome"`
	Failed            bool      `json:"failed"`
	CaptureIncomplete bool      `json:"capture_incomplete"` // packets of the connection are missing from the capture
	Notes             []string  `json:"notes"`              // partial facts: mid-stream record version, proxy reply, drops, snap length
}

func conversationRow(c *packet.Conversation, red *redact.Redactor) ConversationJSON {
	r := ConversationJSON{FirstSeen: c.FirstSeen.Time().UTC(), Client: c.Client.String(), Server: c.Server.String(),
		Offered: []string{}, Outcome: c.Outcome().String(), Failed: c.Outcome().Failed(), CaptureIncomplete: c.Gaps || c.Truncated, Notes: []string{}}
	if c.ClientHello != nil {
		r.SNI = c.ClientHello.SNI
	}
	target := ""
	if c.Proxy != nil {
		target = c.Proxy.Target
	}
	if red != nil {
		r.Client, r.Server, r.SNI = red.AddrPort(c.Client), red.AddrPort(c.Server), red.Host(r.SNI)
		if target != "" {
			host, port, ok := strings.Cut(target, ":")
			target = red.Host(host)
			if ok {
				target += ":" + port
			}
		}
	}
	if c.Proxy != nil {
		// RFC 9110 §9.3.6: the client asked the proxy for a tunnel.
		r.Proxy, r.Server = r.Server, target
	}
	if c.PIDKnown {
		pid := c.PID
		r.PID = &pid
	}
	var offered []string
	r.ClientMax, offered = diagnose.HelloVersions(c.ClientHello)
	r.Offered = append(r.Offered, offered...)
	r.Selected = diagnose.SelectedVersion(c)
	if sh := c.ServerHello; sh != nil && sh.CipherSuite != 0 {
		r.Cipher = tlswire.CipherSuiteName(sh.CipherSuite)
	}
	if c.MidStream {
		if v := max(c.RecordVersion[packet.Client], c.RecordVersion[packet.Server]); v != 0 {
			r.Notes = append(r.Notes, "record version "+v.String())
		}
		if by := c.EncryptedAlert(); by != packet.SideNone {
			r.Notes = append(r.Notes, "encrypted alert by "+by.String())
		}
	}
	if p := c.Proxy; p != nil && p.Status >= 200 && p.Status <= 299 {
		r.Notes = append(r.Notes, fmt.Sprintf("tunnel via proxy, %d", p.Status))
	} else if p != nil && p.Status == 0 {
		r.Notes = append(r.Notes, "proxy reply not captured")
	}
	if c.Drops > 0 {
		noun := "packets"
		if c.Drops == 1 {
			noun = "packet"
		}
		r.Notes = append(r.Notes, fmt.Sprintf("%d %s dropped by Windows, reason %#x location %#x", c.Drops, noun, c.DropReason, c.DropLocation))
	}
	if c.Truncated {
		r.Notes = append(r.Notes, "frames cut by the capture's snap length")
	} else if c.Gaps {
		r.Notes = append(r.Notes, "capture incomplete")
	}
	return r
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
	case "tls.record_version":
		if v := max(c.RecordVersion[packet.Client], c.RecordVersion[packet.Server]); v != 0 {
			return v.String(), true
		}
	case "proxy.target":
		if c.Proxy != nil {
			return c.Proxy.Target, true
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
