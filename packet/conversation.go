package packet

import (
	"fmt"
	"net/netip"
	"sort"
	"time"

	"github.com/etlscope/etlscope/tlswire"
)

// Side names one end of a TCP connection.
type Side uint8

// Sides.
const (
	SideNone Side = iota
	Client
	Server
)

// String returns "client", "server" or "".
func (s Side) String() string {
	switch s {
	case Client:
		return "client"
	case Server:
		return "server"
	}
	return ""
}

func (s Side) other() Side {
	switch s {
	case Client:
		return Server
	case Server:
		return Client
	}
	return SideNone
}

// OutcomeKind classifies how a connection's TLS handshake ended.
type OutcomeKind uint8

// Outcomes, roughly from best to worst.
const (
	OutcomeOK          OutcomeKind = iota + 1 // ServerHello and no fatal alert
	OutcomeAlert                              // a fatal alert ended the handshake
	OutcomeReset                              // TCP reset after the ClientHello
	OutcomeClosed                             // TCP FIN after the ClientHello, no ServerHello
	OutcomeNoReply                            // ClientHello without any answer in the capture
	OutcomeNoHandshake                        // TCP data but no ClientHello seen (capture started late, or not TLS)
	OutcomeNotTLS                             // the payload is not TLS
	OutcomeNoData                             // a TCP connection without payload
)

// Outcome says how a handshake ended and who ended it.
type Outcome struct {
	Kind      OutcomeKind
	By        Side // who sent the alert / reset / close
	Alert     uint8
	Encrypted bool // the alert was encrypted: its code is not readable
}

// String renders the outcome as the conversations table shows it.
func (o Outcome) String() string {
	switch o.Kind {
	case OutcomeOK:
		return "ok"
	case OutcomeAlert:
		if o.Encrypted {
			return "encrypted alert by " + o.By.String()
		}
		return fmt.Sprintf("alert %d %s by %s", o.Alert, tlswire.AlertName(o.Alert), o.By)
	case OutcomeReset:
		return "reset by " + o.By.String()
	case OutcomeClosed:
		return "closed by " + o.By.String()
	case OutcomeNoReply:
		return "no reply"
	case OutcomeNoHandshake:
		return "no handshake seen"
	case OutcomeNotTLS:
		return "not TLS"
	case OutcomeNoData:
		return "no data"
	}
	return "unknown"
}

// Failed reports whether the outcome is a failed TLS handshake.
func (o Outcome) Failed() bool {
	switch o.Kind {
	case OutcomeAlert, OutcomeReset, OutcomeClosed, OutcomeNoReply:
		return true
	}
	return false
}

// Stamp is a compact UTC time: nanoseconds since the Unix epoch, 0 for
// none. Conversations keep several; at 8 bytes instead of time.Time's 24
// they keep the tracker small on traces with many connections.
type Stamp int64

// StampOf converts t.
func StampOf(t time.Time) Stamp {
	if t.IsZero() {
		return 0
	}
	return Stamp(t.UnixNano())
}

// Time converts s back (the zero time for 0).
func (s Stamp) Time() time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(s)).UTC()
}

// AlertSeen is one TLS alert record with its sender.
type AlertSeen struct {
	Time  time.Time
	From  Side
	Alert tlswire.Alert
}

// Conversation is one TCP connection and what its TLS handshake showed.
type Conversation struct {
	ID             int
	Client, Server netip.AddrPort
	ClientKnown    bool // false when neither a SYN nor a ClientHello told which side is the client
	FirstSeen      Stamp
	LastSeen       Stamp
	PID            uint32 // owning process when PIDKnown; else the first frame's event PID (often not the owner: DPC context)
	PIDKnown       bool   // PID comes from a TCPIP connect event
	Frames         int
	Duplicates     int // frames seen again at another layer or interface
	Bytes          [3]int
	SYN            bool
	ResetBy        Side
	ResetAt        Stamp
	FinBy          Side
	FinAt          Stamp
	Gaps           bool // data missing (truncated capture or lost segments)

	ClientHello   *tlswire.ClientHello // its CipherSuites and Extensions are dropped once the handshake is decided
	OfferedSuites int                  // number of cipher suites the client offered
	ClientHelloAt Stamp
	ServerHello   *tlswire.ServerHello
	ServerHelloAt Stamp
	Alerts        []AlertSeen
	NotTLS        bool
	AppData       [3]bool // application data seen from client / server

	half     [3]*halfStream
	released bool // the handshake is decided: byte streams no longer followed
}

// Key returns the connection's client → server text, e.g.
// "10.0.0.5:50123 → 52.97.1.2:443".
func (c *Conversation) Key() string { return c.Client.String() + " → " + c.Server.String() }

// Outcome classifies the handshake.
func (c *Conversation) Outcome() Outcome {
	for _, a := range c.Alerts {
		if a.Alert.Level == 2 || (a.Alert.Encrypted && !c.handshakeDone()) {
			return Outcome{Kind: OutcomeAlert, By: a.From, Alert: a.Alert.Description, Encrypted: a.Alert.Encrypted}
		}
		if !a.Alert.Encrypted && a.Alert.Description != 0 && c.ServerHello == nil {
			return Outcome{Kind: OutcomeAlert, By: a.From, Alert: a.Alert.Description}
		}
	}
	switch {
	case c.ServerHello != nil:
		return Outcome{Kind: OutcomeOK}
	case c.ClientHello != nil:
		if c.ResetBy != SideNone {
			return Outcome{Kind: OutcomeReset, By: c.ResetBy}
		}
		if c.FinBy != SideNone {
			return Outcome{Kind: OutcomeClosed, By: c.FinBy}
		}
		return Outcome{Kind: OutcomeNoReply}
	case c.NotTLS:
		return Outcome{Kind: OutcomeNotTLS}
	case c.Bytes[Client]+c.Bytes[Server] > 0:
		return Outcome{Kind: OutcomeNoHandshake}
	}
	return Outcome{Kind: OutcomeNoData}
}

// handshakeDone reports whether the client sent application data after
// the ServerHello, i.e. the handshake finished from the client's view.
func (c *Conversation) handshakeDone() bool {
	return c.ServerHello != nil && c.AppData[Client]
}

// NegotiatedVersion returns the version the server selected, or 0.
func (c *Conversation) NegotiatedVersion() tlswire.Version {
	if c.ServerHello == nil || c.ServerHello.HelloRetryRequest {
		return 0
	}
	return c.ServerHello.SelectedVersion
}

// connKey identifies a connection regardless of direction.
type connKey struct {
	a, b netip.AddrPort
}

func keyOf(xa, ya netip.Addr, xp, yp uint16) connKey {
	x, y := netip.AddrPortFrom(xa, xp), netip.AddrPortFrom(ya, yp)
	if xa.Less(ya) || (xa == ya && xp < yp) {
		return connKey{x, y}
	}
	return connKey{y, x}
}

// Limits that bound the tracker's memory.
const (
	maxConversations = 100000
	maxStreamBytes   = 256 << 10 // bytes per direction fed to the TLS parser
	maxOutOfOrder    = 32        // buffered out-of-order segments per direction
	tlsBuffer        = 64 << 10
)

// Tracker follows TCP connections and parses their TLS handshakes.
type Tracker struct {
	dec      *decoder
	owners   map[connKey]uint32 // process ids from TCPIP connect events
	conns    map[connKey]*Conversation
	list     []*Conversation
	dropped  int
	segments int
}

// NewTracker returns an empty Tracker.
func NewTracker() *Tracker {
	return &Tracker{dec: newDecoder(), conns: map[connKey]*Conversation{}, owners: map[connKey]uint32{}}
}

// maxOwners bounds the process table.
const maxOwners = 200000

// SetOwner records that process pid owns the connection between local and
// remote (from Microsoft-Windows-TCPIP connect events, which name the
// process; packet events are logged in whatever context the driver ran).
func (t *Tracker) SetOwner(local, remote netip.AddrPort, pid uint32) {
	if len(t.owners) < maxOwners && pid != 0 {
		t.owners[keyOf(local.Addr().Unmap(), remote.Addr().Unmap(), local.Port(), remote.Port())] = pid
	}
}

// Dropped returns how many connections were ignored because the tracker
// reached its limit.
func (t *Tracker) Dropped() int { return t.dropped }

// Segments returns how many TCP segments were seen.
func (t *Tracker) Segments() int { return t.segments }

// Add feeds one frame. Frames that are not TCP are ignored.
func (t *Tracker) Add(f *Frame) {
	s, ok := t.dec.segment(f)
	if !ok {
		return
	}
	t.segments++
	k := keyOf(s.Src.Addr(), s.Dst.Addr(), s.Src.Port(), s.Dst.Port())
	c := t.conns[k]
	// A SYN on a finished connection starts a new one (port reuse).
	if c != nil && s.SYN && !s.ACK && (c.ResetBy != SideNone || c.FinBy != SideNone) && c.Bytes[Client]+c.Bytes[Server] > 0 {
		c = nil
	}
	if c == nil {
		if len(t.list) >= maxConversations {
			t.dropped++
			return
		}
		c = &Conversation{ID: len(t.list) + 1, FirstSeen: StampOf(f.Time), PID: f.PID}
		// Provisional roles: the SYN sender, else the higher port.
		switch {
		case s.SYN && !s.ACK:
			c.Client, c.Server, c.ClientKnown = s.Src, s.Dst, true
		case s.SYN && s.ACK:
			c.Client, c.Server, c.ClientKnown = s.Dst, s.Src, true
		case s.Src.Port() >= s.Dst.Port():
			c.Client, c.Server = s.Src, s.Dst
		default:
			c.Client, c.Server = s.Dst, s.Src
		}
		t.conns[k] = c
		t.list = append(t.list, c)
	}
	c.add(&s)
}

// Conversations returns the connections in order of first appearance,
// with the owning process where a TCPIP event named it (PIDKnown).
func (t *Tracker) Conversations() []*Conversation {
	for _, c := range t.list {
		if pid, ok := t.owners[keyOf(c.Client.Addr().Unmap(), c.Server.Addr().Unmap(), c.Client.Port(), c.Server.Port())]; ok {
			c.PID, c.PIDKnown = pid, true
		}
	}
	out := append([]*Conversation(nil), t.list...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].FirstSeen < out[j].FirstSeen })
	return out
}

func (c *Conversation) side(s *Segment) Side {
	if s.Src == c.Client {
		return Client
	}
	return Server
}

// halfStream reassembles one direction.
type halfStream struct {
	started bool
	next    uint32
	fed     int
	ooo     []pendingSeg
	tls     *tlswire.Stream
	stopped bool
	last    lastSeg
}

type pendingSeg struct {
	seq  uint32
	data []byte
}

// lastSeg remembers the previous segment to recognise a copy of it seen
// at another capture layer.
type lastSeg struct {
	seq, ack uint32
	n        int
	flags    uint8
	iface    uint32
	at       time.Time
}

func flagsOf(s *Segment) uint8 {
	var f uint8
	if s.SYN {
		f |= 1
	}
	if s.FIN {
		f |= 2
	}
	if s.RST {
		f |= 4
	}
	if s.ACK {
		f |= 8
	}
	return f
}

func (c *Conversation) add(s *Segment) {
	f := s.Frame
	side := c.side(s)
	if c.released {
		c.Frames++
		if at := StampOf(f.Time); at > c.LastSeen {
			c.LastSeen = at
		}
		if s.RST && c.ResetBy == SideNone {
			c.ResetBy, c.ResetAt = side, StampOf(f.Time)
		}
		if s.FIN && c.FinBy == SideNone {
			c.FinBy, c.FinAt = side, StampOf(f.Time)
		}
		c.Bytes[side] += len(s.Payload)
		return
	}
	h := c.half[side]
	if h == nil {
		h = &halfStream{tls: tlswire.NewStream(tlsBuffer)}
		c.half[side] = h
	}
	ls := lastSeg{seq: s.Seq, ack: s.Ack, n: len(s.Payload), flags: flagsOf(s), iface: f.Interface, at: f.Time}
	if h.last.at != (time.Time{}) && ls.seq == h.last.seq && ls.ack == h.last.ack && ls.n == h.last.n &&
		ls.flags == h.last.flags && ls.iface != h.last.iface && f.Time.Sub(h.last.at) < 50*time.Millisecond {
		c.Duplicates++
		return
	}
	h.last = ls
	c.Frames++
	if at := StampOf(f.Time); at > c.LastSeen {
		c.LastSeen = at
	}
	if f.Truncated {
		c.Gaps = true
	}
	if s.SYN {
		c.SYN = true
		h.started, h.next = true, s.Seq+1
	}
	if s.RST && c.ResetBy == SideNone {
		c.ResetBy, c.ResetAt = side, StampOf(f.Time)
		c.release()
	}
	if len(s.Payload) > 0 {
		c.Bytes[side] += len(s.Payload)
		c.reassemble(side, h, s.Seq, s.Payload, f.Time)
	}
	if s.FIN && c.FinBy == SideNone {
		c.FinBy, c.FinAt = side, StampOf(f.Time)
	}
}

// reassemble feeds in-order bytes of one direction to its TLS parser.
func (c *Conversation) reassemble(side Side, h *halfStream, seq uint32, data []byte, at time.Time) {
	if h.stopped {
		return
	}
	if !h.started {
		h.started, h.next = true, seq
	}
	diff := int32(seq - h.next)
	switch {
	case diff > 0: // a gap: keep for later
		if len(h.ooo) >= maxOutOfOrder {
			// Give up waiting: skip the hole.
			c.Gaps = true
			h.ooo = h.ooo[:0]
			h.next = seq
			c.feed(side, h, data, at)
			return
		}
		h.ooo = append(h.ooo, pendingSeg{seq: seq, data: append([]byte(nil), data...)})
		return
	case diff < 0: // retransmission or overlap
		skip := int(-diff)
		if skip >= len(data) {
			return
		}
		data = data[skip:]
	}
	c.feed(side, h, data, at)
	// Drain buffered segments that now fit.
	for progress := true; progress && len(h.ooo) > 0; {
		progress = false
		for i := 0; i < len(h.ooo); i++ {
			p := h.ooo[i]
			d := int32(p.seq - h.next)
			if d > 0 {
				continue
			}
			h.ooo = append(h.ooo[:i], h.ooo[i+1:]...)
			i--
			if skip := int(-d); skip < len(p.data) {
				c.feed(side, h, p.data[skip:], at)
			}
			progress = true
		}
	}
}

func (c *Conversation) feed(side Side, h *halfStream, data []byte, at time.Time) {
	h.next += uint32(len(data))
	if h.stopped || h.tls == nil {
		return
	}
	if h.fed >= maxStreamBytes {
		h.stopped = true
		return
	}
	h.fed += len(data)
	for _, m := range h.tls.Write(data) {
		switch m.Kind {
		case tlswire.ClientHelloMsg:
			if c.ClientHello == nil && m.ClientHello != nil {
				c.ClientHello, c.ClientHelloAt = m.ClientHello, StampOf(at)
				if side == Server {
					c.swap()
					side = Client
				}
				c.ClientKnown = true
			}
		case tlswire.ServerHelloMsg:
			if m.ServerHello != nil && (c.ServerHello == nil || c.ServerHello.HelloRetryRequest) {
				c.ServerHello, c.ServerHelloAt = m.ServerHello, StampOf(at)
				if m.ServerHello.SelectedVersion >= tlswire.Version(0x0304) && !m.ServerHello.HelloRetryRequest {
					for _, hs := range c.half {
						if hs != nil && hs.tls != nil {
							hs.tls.SetEncrypted()
						}
					}
				}
			}
		case tlswire.AlertMsg:
			if m.Alert != nil && len(c.Alerts) < 16 {
				c.Alerts = append(c.Alerts, AlertSeen{Time: at, From: side, Alert: *m.Alert})
			}
		case tlswire.ApplicationDataMsg:
			c.AppData[side] = true
		case tlswire.NotTLS:
			c.NotTLS = true
			h.stopped = true
		}
	}
	// Once the handshake is decided, nothing more is needed from this
	// connection's byte streams: free them (memory stays flat on big
	// captures).
	if c.NotTLS || (c.AppData[Client] && c.AppData[Server]) || (len(c.Alerts) > 0 && c.ServerHello == nil) {
		c.release()
	}
}

// release drops the reassembly state of both directions, and the parts of
// the ClientHello nothing reports (cipher and extension lists).
func (c *Conversation) release() {
	if c.ClientHello != nil {
		c.OfferedSuites = len(c.ClientHello.CipherSuites)
		c.ClientHello.CipherSuites, c.ClientHello.Extensions = nil, nil
	}
	for i, h := range c.half {
		if h != nil {
			h.stopped = true
			h.tls = nil
			h.ooo = nil
			c.half[i] = nil
		}
	}
	c.released = true
}

// swap exchanges the client and server roles (a ClientHello proved the
// first guess wrong).
func (c *Conversation) swap() {
	c.Client, c.Server = c.Server, c.Client
	c.half[Client], c.half[Server] = c.half[Server], c.half[Client]
	c.Bytes[Client], c.Bytes[Server] = c.Bytes[Server], c.Bytes[Client]
	c.AppData[Client], c.AppData[Server] = c.AppData[Server], c.AppData[Client]
	c.ResetBy, c.FinBy = c.ResetBy.other(), c.FinBy.other()
	for i := range c.Alerts {
		c.Alerts[i].From = c.Alerts[i].From.other()
	}
}
