package packet

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"iter"
	"net/netip"
	"runtime"
	"slices"
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
	OutcomeOK           OutcomeKind = iota + 1 // ServerHello and no fatal alert
	OutcomeAlert                               // a fatal alert ended the handshake
	OutcomeReset                               // TCP reset after the ClientHello
	OutcomeClosed                              // TCP FIN after the ClientHello, no ServerHello
	OutcomeNoReply                             // ClientHello without any answer in the capture
	OutcomeNoHandshake                         // TCP data but no ClientHello seen (capture started late, or not TLS)
	OutcomeNotTLS                              // the payload is not TLS
	OutcomeNoData                              // a TCP connection without payload
	OutcomeMidStream                           // TLS records, but the handshake happened before the capture
	OutcomeProxyRefused                        // the proxy answered the CONNECT with a non-2xx status
)

// Outcome says how a handshake ended and who ended it.
type Outcome struct {
	Kind      OutcomeKind
	By        Side // who sent the alert / reset / close
	Alert     uint8
	Encrypted bool // the alert was encrypted: its code is not readable
	Status    int  // OutcomeProxyRefused: the proxy's HTTP status
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
	case OutcomeMidStream:
		return "TLS, handshake not captured"
	case OutcomeProxyRefused:
		return fmt.Sprintf("proxy refused CONNECT (%d)", o.Status)
	}
	return "unknown"
}

// Failed reports whether the outcome is a failed TLS handshake.
func (o Outcome) Failed() bool {
	switch o.Kind {
	case OutcomeAlert, OutcomeReset, OutcomeClosed, OutcomeNoReply, OutcomeProxyRefused:
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

	ClientHello   *tlswire.ClientHello // the first ClientHello; its CipherSuites and Extensions are dropped once the handshake is decided
	OfferedSuites int                  // number of cipher suites the client offered
	ClientHelloAt Stamp
	ServerHello   *tlswire.ServerHello // the final ServerHello (never a HelloRetryRequest)
	ServerHelloAt Stamp
	Alerts        []AlertSeen
	NotTLS        bool
	AppData       [3]bool // application data seen from client / server

	// HelloRetry is the server's HelloRetryRequest (TLS 1.3, RFC 8446
	// §4.1.4; recognised by its fixed random, §4.1.3) when it sent one.
	// ClientHelloRetry is then the client's second ClientHello, and
	// ServerHello the final one. A HelloRetryRequest is a normal TLS 1.3
	// step (the client's first key share did not suit the server), not a
	// failure.
	HelloRetry       *tlswire.ServerHello
	ClientHelloRetry *tlswire.ClientHello

	// MidStream: the byte streams carry TLS records but no hello: the
	// capture started after the handshake (HandshakeCaptured is false).
	// Versions, SNI and cipher are then unknown; RecordVersion is what the
	// records tell. Encrypted alerts in such a stream are usually the
	// close_notify of a finished connection, not a failure.
	MidStream bool
	// RecordVersion is the record-layer version (legacy_record_version)
	// of the first TLS record each side sent ([Client], [Server]); for a
	// MidStream connection the only version evidence. TLS 1.3 records
	// say TLS 1.2 (0x0303) by design.
	RecordVersion [3]tlswire.Version

	// Proxy is set when the connection is an HTTP CONNECT tunnel through
	// an explicit proxy (RFC 9110 §9.3.6): Server is then the proxy, and
	// Proxy.Target the host:port the client asked for; the TLS fields
	// describe the handshake inside the tunnel.
	Proxy *Proxy

	// KeepAlives counts TCP keep-alives (one garbage byte, or none, at
	// sequence number next−1; RFC 9293 §3.8.4), ZeroWindowProbes the
	// one-byte probes sent into a zero window (§3.8.6.1). Neither is
	// stream data.
	KeepAlives       int
	ZeroWindowProbes int
	// Drops counts this connection's packets that Windows dropped
	// (PktMon event 170); DropReason and DropLocation are the first
	// drop's PKTMON_DROP_REASON / PKTMON_DROP_LOCATION codes.
	Drops        int
	DropReason   uint32
	DropLocation uint32
	// Truncated: frames were cut by the capture's snap length; a hello
	// may be partial (its Truncated field says so).
	Truncated bool

	half     [3]*halfStream
	released bool        // the handshake is decided: byte streams no longer followed
	pool     *streamPool // where released TLS parsers go for reuse (nil: none)
	key      connKey
}

// Proxy describes an HTTP CONNECT tunnel (RFC 9110 §9.3.6).
type Proxy struct {
	Target string // request target of the CONNECT, "host:port"
	Status int    // status code of the proxy's reply, 0 when not captured
	Reason string // reason phrase of the reply
}

// HandshakeCaptured reports whether a ClientHello or ServerHello of the
// connection was captured (false for MidStream connections and
// connections without TLS).
func (c *Conversation) HandshakeCaptured() bool {
	return c.ClientHello != nil || c.ServerHello != nil || c.HelloRetry != nil
}

// EncryptedAlert returns the sender of the first encrypted alert record
// (an alert sent after encryption started: its level and code are not
// readable), or SideNone.
func (c *Conversation) EncryptedAlert() Side {
	for _, a := range c.Alerts {
		if a.Alert.Encrypted {
			return a.From
		}
	}
	return SideNone
}

// Key returns the connection's client → server text, e.g.
// "10.0.0.5:50123 → 52.97.1.2:443".
func (c *Conversation) Key() string { return c.Client.String() + " → " + c.Server.String() }

// Outcome classifies the handshake.
func (c *Conversation) Outcome() Outcome {
	if p := c.Proxy; p != nil && p.Status != 0 && (p.Status < 200 || p.Status > 299) {
		return Outcome{Kind: OutcomeProxyRefused, By: Server, Status: p.Status}
	}
	for _, a := range c.Alerts {
		if a.Alert.Encrypted && c.MidStream {
			continue // most likely close_notify of a connection set up before the capture
		}
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
	case c.ClientHello != nil || c.HelloRetry != nil:
		if c.ResetBy != SideNone {
			return Outcome{Kind: OutcomeReset, By: c.ResetBy}
		}
		if c.FinBy != SideNone {
			return Outcome{Kind: OutcomeClosed, By: c.FinBy}
		}
		return Outcome{Kind: OutcomeNoReply}
	case c.MidStream:
		return Outcome{Kind: OutcomeMidStream}
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
// For a ServerHello cut by the capture before its extensions it is the
// legacy version (see ServerHello.VersionKnown).
func (c *Conversation) NegotiatedVersion() tlswire.Version {
	if c.ServerHello == nil || c.ServerHello.HelloRetryRequest {
		return 0
	}
	return c.ServerHello.SelectedVersion
}

// connKey identifies a connection regardless of direction; it holds no
// pointers (netip.Addr does), so the maps keyed by it are never scanned
// by the garbage collector.
type connKey struct {
	a, b   [16]byte // As16 form: an IPv4 address and its IPv4-mapped IPv6 form are one
	pa, pb uint16
}

func keyOf(xa, ya netip.Addr, xp, yp uint16) connKey {
	return keyOf2(xa.As16(), ya.As16(), xp, yp)
}

func keyOf2(x, y [16]byte, xp, yp uint16) connKey {
	c := bytes.Compare(x[:], y[:])
	if c < 0 || (c == 0 && xp < yp) {
		return connKey{x, y, xp, yp}
	}
	return connKey{y, x, yp, xp}
}

// Limits that bound the tracker's memory.
const (
	maxConversations = 100000
	maxStreamBytes   = 256 << 10 // bytes per direction fed to the TLS parser
	maxOutOfOrder    = 32        // buffered out-of-order segments per direction
	tlsBuffer        = 64 << 10
)

// Tracker follows TCP connections and parses their TLS handshakes.
//
// Memory stays flat: a connection is followed with its full state (a
// Conversation with reassembly buffers and TLS parsers) only until its
// handshake is decided; it is then folded into a fixed-size summary (see
// summary.go) that later segments only update counters of.
type Tracker struct {
	dec      *decoder
	pending  map[connKey]uint32 // owners (TCPIP connect events) of connections not seen yet
	seed     maphash.Seed
	index    map[uint64]int32        // slot of the latest connection of each 4-tuple, by hash of its key
	overflow map[connKey]int32       // the same for keys whose hash another key in index has
	live     map[int32]*Conversation // connections not folded yet, by slot
	sums     *store                  // one summary per connection, by slot (ID-1); zero while live
	strs     strtab                  // SNIs of the summaries
	chShapes interner[chShape]       // the rest of their ClientHellos
	shShapes interner[shShape]       // their ServerHellos
	addrs6   interner[netip.Addr]    // their IPv6 addresses
	extras   []*extra                // alerts, proxies, HelloRetryRequests of the summaries
	pool     streamPool              // TLS parsers of released connections, for reuse
	collide  bool                    // tests: every key hashes alike
	noFold   bool                    // tests: keep every connection live
	dropped  int
	segments int
	stats    FrameStats
	seen     map[pktID]struct{} // PktMon packets already fed (component copies)
	seenRing []pktID
	seenNext int
}

// FrameStats counts what the tracker made of the frames it was given.
// Frames = TCP + NotTCP + Undecodable.
type FrameStats struct {
	Frames      int // frames given to the tracker
	TCP         int // TCP segments (including copies and drops)
	NotTCP      int // valid frames without TCP: UDP, ARP, 802.11 management and null frames, IP fragments, …
	Undecodable int // frames whose headers could not be read: damaged, cut inside a header, unknown link type, still encrypted 802.11
	Copies      int // PktMon copies of a packet already seen at another component (not fed twice)
	Drops       int // packets Windows dropped (PktMon event 170)
}

// pktID identifies one packet across PktMon's component copies.
type pktID struct {
	group  uint64
	number uint16
}

// maxSeen bounds the PktMon copy table: copies of one packet are logged
// within microseconds of each other.
const maxSeen = 8192

// NewTracker returns an empty Tracker.
func NewTracker() *Tracker {
	t := &Tracker{dec: newDecoder(), seed: maphash.MakeSeed(), index: map[uint64]int32{}, live: map[int32]*Conversation{},
		pending: map[connKey]uint32{}, seen: map[pktID]struct{}{}, sums: &store{}}
	// The summaries may live outside the Go heap: release them with the
	// tracker.
	runtime.AddCleanup(t, (*store).release, t.sums)
	return t
}

// maxOwners bounds the table of owners of connections not seen yet.
const maxOwners = 200000

// SetOwner records that process pid owns the connection between local and
// remote (from Microsoft-Windows-TCPIP connect events, which name the
// process; packet events are logged in whatever context the driver ran).
// The owner goes to the connection of that 4-tuple when it is still open
// or has no owner yet, else to the next connection on the 4-tuple.
func (t *Tracker) SetOwner(local, remote netip.AddrPort, pid uint32) {
	if pid == 0 {
		return
	}
	k := keyOf(local.Addr(), remote.Addr(), local.Port(), remote.Port())
	if slot, ok := t.lookup(k); ok {
		if c := t.live[slot]; c != nil {
			if !c.PIDKnown || !c.finished() {
				c.PID, c.PIDKnown = pid, true
				return
			}
		} else if s := t.sums.at(int(slot)); s.flags&sumPIDKnown == 0 || !t.finished(s) {
			s.pid, s.flags = pid, s.flags|sumPIDKnown
			return
		}
	}
	if len(t.pending) < maxOwners {
		t.pending[k] = pid
	}
}

// Dropped returns how many connections were ignored because the tracker
// reached its limit.
func (t *Tracker) Dropped() int { return t.dropped }

// Segments returns how many TCP segments were seen.
func (t *Tracker) Segments() int { return t.segments }

// Stats returns the frame counts so far.
func (t *Tracker) Stats() FrameStats { return t.stats }

// Len returns the number of connections.
func (t *Tracker) Len() int { return t.sums.n }

// firstCopy reports whether f is the first copy of its PktMon packet
// (PktGroupId and PktNumber are shared by the copies each component logs).
func (t *Tracker) firstCopy(f *Frame) bool {
	if f.Source != SourcePktMon || f.PktGroupID == 0 {
		return true
	}
	id := pktID{f.PktGroupID, f.PktNumber}
	if _, ok := t.seen[id]; ok {
		return false
	}
	if len(t.seenRing) < maxSeen {
		t.seenRing = append(t.seenRing, id)
	} else {
		delete(t.seen, t.seenRing[t.seenNext])
		t.seenRing[t.seenNext] = id
		t.seenNext = (t.seenNext + 1) % maxSeen
	}
	t.seen[id] = struct{}{}
	return true
}

// Add feeds one frame. Frames that are not TCP are counted (Stats) and
// never become connections; PktMon component copies and drop events are
// counted on their connection but not fed to it twice.
func (t *Tracker) Add(f *Frame) {
	t.stats.Frames++
	if f.Drop {
		t.stats.Drops++
	}
	s, class := t.dec.segment(f)
	switch class {
	case classNotTCP:
		t.stats.NotTCP++
		return
	case classTCP:
	default:
		t.stats.Undecodable++
		return
	}
	t.stats.TCP++
	t.segments++
	first := f.Drop || t.firstCopy(f)
	k := keyOf(s.Src.Addr(), s.Dst.Addr(), s.Src.Port(), s.Dst.Port())
	slot, found := t.lookup(k)
	var c *Conversation
	var sum *summary
	if found {
		if c = t.live[slot]; c == nil {
			sum = t.sums.at(int(slot))
		}
	}
	// A SYN on a finished connection starts a new one (port reuse).
	if found && s.SYN && !s.ACK && (c != nil && c.finished() || sum != nil && t.finished(sum)) {
		found, c, sum = false, nil, nil
	}
	if !found {
		if t.sums.n >= maxConversations {
			t.dropped++
			return
		}
		slot = int32(t.sums.add())
		c = &Conversation{ID: int(slot) + 1, FirstSeen: StampOf(f.Time), PID: f.PID, pool: &t.pool}
		if pid, ok := t.pending[k]; ok {
			c.PID, c.PIDKnown = pid, true
			delete(t.pending, k)
		}
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
		c.key = k
		t.insert(k, slot)
		t.live[slot] = c
	}
	if sum != nil {
		switch {
		case f.Drop:
			x := t.extraOf(sum)
			if x.drops == 0 {
				x.dropReason, x.dropLocation = f.DropReason, f.DropLocation
			}
			x.drops++
		case !first:
			t.stats.Copies++
			sum.duplicates = satInc(sum.duplicates)
		default:
			t.addFolded(sum, &s)
		}
		return
	}
	switch {
	case f.Drop:
		if c.Drops == 0 {
			c.DropReason, c.DropLocation = f.DropReason, f.DropLocation
		}
		c.Drops++
		return
	case !first:
		t.stats.Copies++
		c.Duplicates++
		return
	}
	c.add(&s)
	if c.released && !t.noFold {
		t.fold(int(slot), c)
		delete(t.live, slot)
	}
}

// lookup returns the slot of the latest connection of k. The index is
// keyed by a 64-bit hash of k (16 bytes an entry instead of 40); the rare
// key whose hash collides with another's lives in overflow.
func (t *Tracker) lookup(k connKey) (int32, bool) {
	if slot, ok := t.index[t.hash(k)]; ok && t.keyAt(slot) == k {
		return slot, true
	}
	if t.overflow != nil {
		slot, ok := t.overflow[k]
		return slot, ok
	}
	return 0, false
}

func (t *Tracker) hash(k connKey) uint64 {
	if t.collide {
		return 0
	}
	return maphash.Comparable(t.seed, k)
}

// insert makes slot the latest connection of k.
func (t *Tracker) insert(k connKey, slot int32) {
	h := t.hash(k)
	if old, ok := t.index[h]; ok && t.keyAt(old) != k {
		if t.overflow == nil {
			t.overflow = map[connKey]int32{}
		}
		t.overflow[k] = slot
		return
	}
	t.index[h] = slot
}

// keyAt returns the key of the connection at slot.
func (t *Tracker) keyAt(slot int32) connKey {
	if c := t.live[slot]; c != nil {
		return c.key
	}
	s := t.sums.at(int(slot))
	c, v := t.clientAddr(s), t.serverAddr(s)
	return keyOf(c.Addr(), v.Addr(), c.Port(), v.Port())
}

// finished reports whether a SYN on the connection's 4-tuple starts a new
// connection: it was reset or closed after carrying data.
func (c *Conversation) finished() bool {
	return (c.ResetBy != SideNone || c.FinBy != SideNone) && c.Bytes[Client]+c.Bytes[Server] > 0
}

// finishLive settles what only the end of the capture decides for the
// connections still followed: a lone byte before any data, never
// followed, was a keep-alive (RFC 9293 §3.8.4).
func (t *Tracker) finishLive() {
	for _, c := range t.live {
		for side, h := range c.half {
			if h != nil && h.held != nil {
				h.held = nil
				c.KeepAlives++
				c.Bytes[side]--
			}
		}
	}
}

// order returns the slots in order of first appearance (FirstSeen, ties
// in order of creation).
func (t *Tracker) order() []int32 {
	out := make([]int32, t.sums.n)
	sorted := true
	var prev Stamp
	for i := range out {
		out[i] = int32(i)
		fs := t.firstSeen(i)
		if fs < prev {
			sorted = false
		}
		prev = fs
	}
	if !sorted {
		sort.SliceStable(out, func(i, j int) bool { return t.firstSeen(int(out[i])) < t.firstSeen(int(out[j])) })
	}
	return out
}

func (t *Tracker) firstSeen(slot int) Stamp {
	if c := t.live[int32(slot)]; c != nil {
		return c.FirstSeen
	}
	return t.sums.at(slot).first
}

// All yields the connections in order of first appearance, with the
// owning process where a TCPIP event named it (PIDKnown). The
// Conversation passed to yield is only valid until yield returns: a
// decided connection is rebuilt from its summary into storage reused for
// the next one (call Clone to keep one). Memory stays flat whatever the
// number of connections. Call it after the last Add.
func (t *Tracker) All() iter.Seq[*Conversation] {
	return func(yield func(*Conversation) bool) {
		t.finishLive()
		sc := &scratch{}
		for _, slot := range t.order() {
			c := t.live[slot]
			if c == nil {
				c = t.unfold(int(slot), sc)
			}
			if !yield(c) {
				return
			}
		}
	}
}

// Conversations returns all the connections as All yields them, each
// kept (it holds every connection in memory at once: prefer All for
// large traces).
func (t *Tracker) Conversations() []*Conversation {
	t.finishLive()
	out := make([]*Conversation, 0, t.sums.n)
	for _, slot := range t.order() {
		c := t.live[slot]
		if c == nil {
			c = t.unfold(int(slot), nil)
		}
		out = append(out, c)
	}
	return out
}

// Clone returns a copy of c that stays valid after the iteration that
// yielded c moves on (without the reassembly state of a connection still
// followed).
func (c *Conversation) Clone() *Conversation {
	n := *c
	n.half, n.pool, n.key = [3]*halfStream{}, nil, connKey{}
	if c.ClientHello != nil {
		ch := *c.ClientHello
		ch.SupportedVersions = slices.Clone(ch.SupportedVersions)
		ch.ALPN = slices.Clone(ch.ALPN)
		n.ClientHello = &ch
	}
	if c.ServerHello != nil {
		sh := *c.ServerHello
		n.ServerHello = &sh
	}
	return &n
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
	held    *pendingSeg // a first 1-byte segment: a keep-alive unless data continues from it
	window  uint16      // last window this side advertised
	winSeen bool
	http    *httpHead // HTTP CONNECT request or reply being read
}

type pendingSeg struct {
	seq     uint32
	data    []byte
	missing int
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
		h = &halfStream{tls: c.pool.get()}
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
	if s.Missing > 0 {
		c.Truncated, c.Gaps = true, true
	}
	if s.SYN {
		c.SYN = true
		h.started, h.next = true, s.Seq+1
	}
	if s.RST && c.ResetBy == SideNone {
		c.ResetBy, c.ResetAt = side, StampOf(f.Time)
		c.release()
	}
	if len(s.Payload) == 1 && h.started && s.Seq == h.next {
		if o := c.half[side.other()]; o != nil && o.winSeen && o.window == 0 {
			c.ZeroWindowProbes++ // real data, sent into a zero window (RFC 9293 §3.8.6.1)
		}
	}
	h.window, h.winSeen = s.Window, true
	if len(s.Payload) > 0 || s.Missing > 0 {
		c.Bytes[side] += len(s.Payload) + s.Missing
		if !c.released {
			c.reassemble(side, h, s.Seq, s.Payload, s.Missing, f.Time)
		}
	}
	if s.FIN && c.FinBy == SideNone {
		c.FinBy, c.FinAt = side, StampOf(f.Time)
	}
}

// reassemble feeds in-order bytes of one direction to its TLS parser.
// missing bytes follow data on the wire but were cut by the capture.
func (c *Conversation) reassemble(side Side, h *halfStream, seq uint32, data []byte, missing int, at time.Time) {
	if h.stopped {
		return
	}
	if !h.started {
		// No SYN: the capture joined the connection. A first segment of
		// one byte may be a keep-alive (seq = next−1, RFC 9293 §3.8.4):
		// hold it until the next data shows where the stream goes on.
		if h.held == nil && len(data) == 1 && missing == 0 {
			h.held = &pendingSeg{seq: seq, data: append([]byte(nil), data...)}
			return
		}
		if held := h.held; held != nil {
			switch {
			case len(data) == 1 && seq == held.seq: // the keep-alive repeated
				c.KeepAlives++
				c.Bytes[side]--
				return
			case seq == held.seq+1: // data continues after it: it was a keep-alive
				c.KeepAlives++
				c.Bytes[side]--
				h.held = nil
			case seq == held.seq: // data resent from the same point
				h.held = nil
			default:
				h.held = nil
				h.started, h.next = true, held.seq
				h.tls.SetUnanchored()
				c.reassemble(side, h, held.seq, held.data, 0, at)
				c.reassemble(side, h, seq, data, missing, at)
				return
			}
		}
		h.started, h.next = true, seq
		if h.tls != nil {
			h.tls.SetUnanchored()
		}
	}
	diff := int32(seq - h.next)
	if len(data) <= 1 && missing == 0 && diff == -1 {
		// Keep-alive on a followed stream: one byte (Windows) or none at
		// next−1.
		c.KeepAlives++
		c.Bytes[side] -= len(data)
		return
	}
	switch {
	case diff > 0: // a gap: keep for later
		if len(h.ooo) >= maxOutOfOrder {
			// Give up waiting: skip the hole.
			c.Gaps = true
			h.ooo = h.ooo[:0]
			c.skip(side, h, int(diff), at)
			c.feed(side, h, data, at)
			c.skip(side, h, missing, at)
			return
		}
		h.ooo = append(h.ooo, pendingSeg{seq: seq, data: append([]byte(nil), data...), missing: missing})
		return
	case diff < 0: // retransmission or overlap
		skip := int(-diff)
		if skip >= len(data) {
			return
		}
		data = data[skip:]
	}
	c.feed(side, h, data, at)
	c.skip(side, h, missing, at)
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
				c.skip(side, h, p.missing, at)
			}
			progress = true
		}
	}
}

// skip accounts for n stream bytes the capture does not have.
func (c *Conversation) skip(side Side, h *halfStream, n int, at time.Time) {
	if n <= 0 {
		return
	}
	h.next += uint32(n)
	c.Gaps = true
	if h.stopped || h.tls == nil || h.http != nil && !h.http.done {
		return
	}
	h.fed += n
	c.messages(side, h.tls.Skip(n), at)
}

func (c *Conversation) feed(side Side, h *halfStream, data []byte, at time.Time) {
	h.next += uint32(len(data))
	if h.stopped || h.tls == nil || len(data) == 0 {
		return
	}
	if h.fed >= maxStreamBytes {
		h.stopped = true
		return
	}
	first := h.fed == 0
	h.fed += len(data)
	if first && h.http == nil && startsHTTP(c, side, data) {
		h.http = &httpHead{}
	}
	if h.http != nil && !h.http.done {
		var rest []byte
		side, rest = c.readHTTP(side, h, data)
		if c.released || h.http == nil || !h.http.done || len(rest) == 0 {
			return
		}
		data = rest
	}
	c.messages(side, h.tls.Write(data), at)
}

// messages applies what the TLS parser of one side found.
func (c *Conversation) messages(side Side, msgs []tlswire.Message, at time.Time) {
	for _, m := range msgs {
		if m.Record != 0 && c.RecordVersion[side] == 0 && m.Record != tlswire.SSL20 {
			c.RecordVersion[side] = m.Record
		}
		switch m.Kind {
		case tlswire.SyncMsg:
			c.MidStream = !c.HandshakeCaptured()
		case tlswire.ClientHelloMsg:
			if m.ClientHello == nil {
				break
			}
			switch {
			case c.ClientHello == nil:
				c.ClientHello, c.ClientHelloAt = m.ClientHello, StampOf(at)
				if side == Server {
					c.swap()
					side = Client
				}
				c.ClientKnown = true
				c.MidStream = false
			case c.HelloRetry != nil && c.ClientHelloRetry == nil:
				c.ClientHelloRetry = m.ClientHello
			}
		case tlswire.ServerHelloMsg:
			sh := m.ServerHello
			if sh == nil {
				break
			}
			c.MidStream = false
			if sh.HelloRetryRequest {
				if c.HelloRetry == nil {
					c.HelloRetry = sh
				}
				break
			}
			if c.ServerHello == nil {
				c.ServerHello, c.ServerHelloAt = sh, StampOf(at)
				if side == Client && c.ClientHello == nil {
					c.swap()
					side = Server
				}
				if sh.VersionKnown() {
					for _, hs := range c.half {
						if hs != nil && hs.tls != nil {
							hs.tls.Negotiated(sh.SelectedVersion)
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
			if h := c.half[side]; h != nil {
				h.stopped = true
			}
		}
	}
	// Once the handshake is decided, nothing more is needed from this
	// connection's byte streams: free them (memory stays flat on big
	// captures).
	if c.NotTLS || (c.AppData[Client] && c.AppData[Server]) || (len(c.Alerts) > 0 && c.ServerHello == nil && !c.MidStream) {
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
			c.pool.put(h.tls)
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
	c.RecordVersion[Client], c.RecordVersion[Server] = c.RecordVersion[Server], c.RecordVersion[Client]
	c.ResetBy, c.FinBy = c.ResetBy.other(), c.FinBy.other()
	for i := range c.Alerts {
		c.Alerts[i].From = c.Alerts[i].From.other()
	}
}

// streamPool keeps the TLS parsers of released connections for reuse: a
// parser's buffers then grow once, not once per connection.
type streamPool struct {
	free []*tlswire.Stream
}

// Bounds of the pool: parsers kept, and the buffer size beyond which a
// parser is left to the garbage collector instead.
const (
	maxPooled    = 64
	maxPooledBuf = 32 << 10
)

func (p *streamPool) get() *tlswire.Stream {
	if p == nil || len(p.free) == 0 {
		return tlswire.NewStream(tlsBuffer)
	}
	s := p.free[len(p.free)-1]
	p.free = p.free[:len(p.free)-1]
	return s
}

func (p *streamPool) put(s *tlswire.Stream) {
	if p == nil || s == nil || len(p.free) >= maxPooled || s.BufferCap() > maxPooledBuf {
		return
	}
	s.Reset()
	p.free = append(p.free, s)
}
