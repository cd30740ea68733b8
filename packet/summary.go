package packet

import (
	"encoding/binary"
	"net/netip"

	"github.com/etlscope/etlscope/tlswire"
)

// Memory layout of the tracker (flat by design).
//
// A connection whose handshake is decided (Conversation.released: both
// sides sent application data, a fatal alert, a reset, "not TLS", …) can
// only change its counters afterwards. The tracker then folds it into a
// summary: a fixed-size value without pointers, stored in blocks, with
// its variable-length parts (SNI, offered versions, ALPN) interned in a
// string table and its rare parts (alerts, proxy, HelloRetryRequest) in a
// side table. The garbage collector never scans summaries, and a
// connection costs about 200 bytes whatever the size of the trace, so a
// trace with 100 000 connections fits in a few tens of megabytes with
// Go's default GC settings. Conversations are rebuilt from summaries when
// they are read (Tracker.All, Tracker.Conversations).

// summary is a decided connection folded to a fixed size (88 bytes),
// without pointers.
type summary struct {
	client, server uint32 // IPv4 address, or with sumClient6/sumServer6 an index into Tracker.addrs6
	cport, sport   uint16
	flags          sumFlags
	resetBy, finBy Side
	first          Stamp
	// at holds the other times (atLast…atFin) as nanoseconds after
	// first, plus one; 0 for none, outside for one that does not fit
	// (then in the side table).
	at [atCount]uint32
	// bytes are the stream bytes of the client and the server; outside
	// for a count that does not fit (then in the side table).
	bytes         [2]uint32
	pid           uint32
	frames        uint32
	duplicates    uint32
	keepAlives    uint32
	recordVersion [2]tlswire.Version
	sni           uint32 // string table index
	ch            uint32 // clientHello shape index, 0 for none
	sh            uint32 // serverHello shape index, 0 for none
	extra         uint32 // index into Tracker.extras, 0 for none
}

// Times of a summary besides first.
const (
	atLast = iota
	atClientHello
	atServerHello
	atReset
	atFin
	atCount
)

// outside marks a summary field whose value is in the side table.
const outside = 1<<32 - 1

func (t *Tracker) stamp(s *summary, i int) Stamp {
	switch v := s.at[i]; v {
	case 0:
		return 0
	case outside:
		return t.extras[s.extra].at[i]
	default:
		return s.first + Stamp(v-1)
	}
}

func (t *Tracker) setStamp(s *summary, i int, st Stamp) {
	d := int64(st - s.first)
	switch {
	case st == 0:
		s.at[i] = 0
	case d >= 0 && d < outside-1:
		s.at[i] = uint32(d + 1)
	default:
		t.extraOf(s).at[i] = st
		s.at[i] = outside
	}
}

func (t *Tracker) byteCount(s *summary, side int) int64 {
	if v := s.bytes[side]; v != outside {
		return int64(v)
	}
	return t.extras[s.extra].bytes[side]
}

func (t *Tracker) setBytes(s *summary, side int, n int64) {
	if n >= 0 && n < outside {
		s.bytes[side] = uint32(n)
		return
	}
	t.extraOf(s).bytes[side] = n
	s.bytes[side] = outside
}

type sumFlags uint16

const (
	sumClientKnown sumFlags = 1 << iota
	sumPIDKnown
	sumSYN
	sumGaps
	sumNotTLS
	sumAppDataClient
	sumAppDataServer
	sumMidStream
	sumTruncated
	sumClient6
	sumServer6
)

// chShape is what a ClientHello contributes besides its SNI; few distinct
// shapes occur in a trace (one per client TLS stack and configuration).
type chShape struct {
	versions, alpn string // encodeVersions, encodeStrings
	record, legacy tlswire.Version
	offeredSuites  int
	sessionIDLen   int
	sslv2          bool
	truncated      bool
}

// shShape is what a final ServerHello says.
type shShape struct {
	legacy, selected tlswire.Version
	cipher           uint16
	sentinel         string
	truncated        bool
}

// interner keeps distinct values of a comparable type; index 0 is none.
type interner[T comparable] struct {
	idx  map[T]uint32
	vals []T
}

func (n *interner[T]) intern(v T) uint32 {
	if i, ok := n.idx[v]; ok {
		return i
	}
	if n.idx == nil {
		n.idx = map[T]uint32{}
		var zero T
		n.vals = []T{zero}
	}
	i := uint32(len(n.vals))
	n.vals = append(n.vals, v)
	n.idx[v] = i
	return i
}

// extra holds what few connections have.
type extra struct {
	alerts           []AlertSeen
	helloRetry       *tlswire.ServerHello
	clientHelloRetry *tlswire.ClientHello
	proxy            *Proxy
	zeroWindow       int
	drops            int
	dropReason       uint32
	dropLocation     uint32
	at               [atCount]Stamp // times that do not fit in summary.at
	bytes            [2]int64       // byte counts that do not fit in summary.bytes
}

// strtab interns strings: index 0 is "".
type strtab struct {
	idx  map[string]uint32
	strs []string
}

func (t *strtab) intern(s string) uint32 {
	if s == "" {
		return 0
	}
	if i, ok := t.idx[s]; ok {
		return i
	}
	if t.idx == nil {
		t.idx = map[string]uint32{}
		t.strs = []string{""}
	}
	i := uint32(len(t.strs))
	s = string([]byte(s)) // never keep a slice of a larger buffer alive
	t.strs = append(t.strs, s)
	t.idx[s] = i
	return i
}

func (t *strtab) get(i uint32) string {
	if i == 0 {
		return ""
	}
	return t.strs[i]
}

// blockSize is the number of summaries per block: growing the store never
// copies it, and each block is one allocation.
const blockSize = 4096

// store keeps one summary per connection, by slot, in blocks that
// newBlock allocates (outside the Go heap where the system allows).
type store struct {
	blocks   [][]summary
	releases []func()
	n        int
}

func (s *store) add() int {
	if s.n%blockSize == 0 {
		b, release := newBlock()
		s.blocks = append(s.blocks, b)
		if release != nil {
			s.releases = append(s.releases, release)
		}
	}
	s.n++
	return s.n - 1
}

// release frees the blocks; the store is empty afterwards.
func (s *store) release() {
	for _, r := range s.releases {
		r()
	}
	*s = store{}
}

func (s *store) at(slot int) *summary { return &s.blocks[slot/blockSize][slot%blockSize] }

// ref returns how a summary stores a: an IPv4 address itself, an IPv6
// one (v6 true) as an index into addrs6.
func (t *Tracker) ref(a netip.Addr) (r uint32, v6 bool) {
	if a.Is4() {
		b := a.As4()
		return binary.BigEndian.Uint32(b[:]), false
	}
	return t.addrs6.intern(a), true
}

func (t *Tracker) addr(r uint32, v6 bool) netip.Addr {
	if v6 {
		return t.addrs6.vals[r]
	}
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], r)
	return netip.AddrFrom4(b)
}

func (t *Tracker) clientAddr(s *summary) netip.AddrPort {
	return netip.AddrPortFrom(t.addr(s.client, s.flags&sumClient6 != 0), s.cport)
}

func (t *Tracker) serverAddr(s *summary) netip.AddrPort {
	return netip.AddrPortFrom(t.addr(s.server, s.flags&sumServer6 != 0), s.sport)
}

func sat32(n int) uint32 {
	switch {
	case n < 0:
		return 0
	case uint64(n) > 1<<32-1:
		return 1<<32 - 1
	}
	return uint32(n)
}

func setFlag(f *sumFlags, bit sumFlags, on bool) {
	if on {
		*f |= bit
	}
}

// encodeVersions packs a version list into a string (two bytes each, in
// order) for the string table.
func encodeVersions(vs []tlswire.Version) string {
	if len(vs) == 0 {
		return ""
	}
	b := make([]byte, 0, 2*len(vs))
	for _, v := range vs {
		b = binary.BigEndian.AppendUint16(b, uint16(v))
	}
	return string(b)
}

func decodeVersions(s string, into []tlswire.Version) []tlswire.Version {
	if s == "" {
		return nil
	}
	into = into[:0]
	for i := 0; i+1 < len(s); i += 2 {
		into = append(into, tlswire.Version(uint16(s[i])<<8|uint16(s[i+1])))
	}
	return into
}

// encodeStrings packs a string list (length-prefixed).
func encodeStrings(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	var b []byte
	for _, s := range ss {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return string(b)
}

func decodeStrings(s string, into []string) []string {
	if s == "" {
		return nil
	}
	into = into[:0]
	b := []byte(s)
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			break
		}
		into = append(into, s[len(s)-len(b)+k:len(s)-len(b)+k+int(n)])
		b = b[k+int(n):]
	}
	return into
}

// fold stores c, decided, as the summary at slot.
func (t *Tracker) fold(slot int, c *Conversation) {
	s := t.sums.at(slot)
	*s = summary{}
	var c6, s6 bool
	s.client, c6 = t.ref(c.Client.Addr())
	s.server, s6 = t.ref(c.Server.Addr())
	s.cport, s.sport = c.Client.Port(), c.Server.Port()
	f := &s.flags
	setFlag(f, sumClient6, c6)
	setFlag(f, sumServer6, s6)
	setFlag(f, sumClientKnown, c.ClientKnown)
	setFlag(f, sumPIDKnown, c.PIDKnown)
	setFlag(f, sumSYN, c.SYN)
	setFlag(f, sumGaps, c.Gaps)
	setFlag(f, sumNotTLS, c.NotTLS)
	setFlag(f, sumAppDataClient, c.AppData[Client])
	setFlag(f, sumAppDataServer, c.AppData[Server])
	setFlag(f, sumMidStream, c.MidStream)
	setFlag(f, sumTruncated, c.Truncated)
	s.resetBy, s.finBy = c.ResetBy, c.FinBy
	s.first = c.FirstSeen
	for i, st := range [atCount]Stamp{atLast: c.LastSeen, atClientHello: c.ClientHelloAt, atServerHello: c.ServerHelloAt, atReset: c.ResetAt, atFin: c.FinAt} {
		t.setStamp(s, i, st)
	}
	t.setBytes(s, 0, int64(c.Bytes[Client]))
	t.setBytes(s, 1, int64(c.Bytes[Server]))
	s.pid = c.PID
	s.frames, s.duplicates, s.keepAlives = sat32(c.Frames), sat32(c.Duplicates), sat32(c.KeepAlives)
	s.recordVersion = [2]tlswire.Version{c.RecordVersion[Client], c.RecordVersion[Server]}
	shape := chShape{offeredSuites: c.OfferedSuites}
	if ch := c.ClientHello; ch != nil {
		s.sni = t.strs.intern(ch.SNI)
		shape.versions, shape.alpn = encodeVersions(ch.SupportedVersions), encodeStrings(ch.ALPN)
		shape.record, shape.legacy = ch.RecordVersion, ch.LegacyVersion
		shape.sessionIDLen, shape.sslv2, shape.truncated = ch.SessionIDLen, ch.SSLv2, ch.Truncated
		s.ch = t.chShapes.intern(shape)
	}
	if sh := c.ServerHello; sh != nil {
		s.sh = t.shShapes.intern(shShape{legacy: sh.LegacyVersion, selected: sh.SelectedVersion, cipher: sh.CipherSuite, sentinel: sh.DowngradeSentinel, truncated: sh.Truncated})
	}
	if c.Alerts != nil || c.HelloRetry != nil || c.ClientHelloRetry != nil || c.Proxy != nil ||
		c.ZeroWindowProbes != 0 || c.Drops != 0 || c.DropReason != 0 || c.DropLocation != 0 {
		x := t.extraOf(s)
		x.alerts, x.helloRetry, x.clientHelloRetry, x.proxy = c.Alerts, c.HelloRetry, c.ClientHelloRetry, c.Proxy
		x.zeroWindow, x.drops, x.dropReason, x.dropLocation = c.ZeroWindowProbes, c.Drops, c.DropReason, c.DropLocation
	}
}

// extraOf returns the side record of s, adding one if it has none.
func (t *Tracker) extraOf(s *summary) *extra {
	if s.extra == 0 {
		if len(t.extras) == 0 {
			t.extras = append(t.extras, nil) // index 0: none
		}
		s.extra = uint32(len(t.extras))
		t.extras = append(t.extras, &extra{})
	}
	return t.extras[s.extra]
}

// scratch is the storage a summary is rebuilt into.
type scratch struct {
	c        Conversation
	ch       tlswire.ClientHello
	sh       tlswire.ServerHello
	versions [8]tlswire.Version
	alpn     [4]string
}

// unfold rebuilds the Conversation of the summary at slot into sc (fresh
// when sc is nil) and returns it.
func (t *Tracker) unfold(slot int, sc *scratch) *Conversation {
	if sc == nil {
		sc = &scratch{}
	}
	s := t.sums.at(slot)
	f := s.flags
	c := &sc.c
	*c = Conversation{
		ID:            slot + 1,
		Client:        t.clientAddr(s),
		Server:        t.serverAddr(s),
		ClientKnown:   f&sumClientKnown != 0,
		FirstSeen:     s.first,
		LastSeen:      t.stamp(s, atLast),
		PID:           s.pid,
		PIDKnown:      f&sumPIDKnown != 0,
		Frames:        int(s.frames),
		Duplicates:    int(s.duplicates),
		Bytes:         [3]int{Client: int(t.byteCount(s, 0)), Server: int(t.byteCount(s, 1))},
		SYN:           f&sumSYN != 0,
		ResetBy:       s.resetBy,
		ResetAt:       t.stamp(s, atReset),
		FinBy:         s.finBy,
		FinAt:         t.stamp(s, atFin),
		Gaps:          f&sumGaps != 0,
		ClientHelloAt: t.stamp(s, atClientHello),
		ServerHelloAt: t.stamp(s, atServerHello),
		NotTLS:        f&sumNotTLS != 0,
		AppData:       [3]bool{Client: f&sumAppDataClient != 0, Server: f&sumAppDataServer != 0},
		MidStream:     f&sumMidStream != 0,
		RecordVersion: [3]tlswire.Version{Client: s.recordVersion[0], Server: s.recordVersion[1]},
		KeepAlives:    int(s.keepAlives),
		Truncated:     f&sumTruncated != 0,
		released:      true,
	}
	if s.ch != 0 {
		sh := &t.chShapes.vals[s.ch]
		c.OfferedSuites = sh.offeredSuites
		sc.ch = tlswire.ClientHello{
			RecordVersion:     sh.record,
			LegacyVersion:     sh.legacy,
			SupportedVersions: decodeVersions(sh.versions, sc.versions[:0]),
			SNI:               t.strs.get(s.sni),
			ALPN:              decodeStrings(sh.alpn, sc.alpn[:0]),
			SSLv2:             sh.sslv2,
			SessionIDLen:      sh.sessionIDLen,
			Truncated:         sh.truncated,
		}
		c.ClientHello = &sc.ch
	}
	if s.sh != 0 {
		sh := &t.shShapes.vals[s.sh]
		sc.sh = tlswire.ServerHello{LegacyVersion: sh.legacy, SelectedVersion: sh.selected, CipherSuite: sh.cipher, DowngradeSentinel: sh.sentinel, Truncated: sh.truncated}
		c.ServerHello = &sc.sh
	}
	if s.extra != 0 {
		x := t.extras[s.extra]
		c.Alerts, c.HelloRetry, c.ClientHelloRetry, c.Proxy = x.alerts, x.helloRetry, x.clientHelloRetry, x.proxy
		c.ZeroWindowProbes, c.Drops, c.DropReason, c.DropLocation = x.zeroWindow, x.drops, x.dropReason, x.dropLocation
	}
	return c
}

// add updates the summary with a segment of its connection, as
// Conversation.add does for a released connection.
func (t *Tracker) addFolded(s *summary, seg *Segment) {
	f := seg.Frame
	side := Server
	if seg.Src == t.clientAddr(s) {
		side = Client
	}
	s.frames = satInc(s.frames)
	at := StampOf(f.Time)
	if at > t.stamp(s, atLast) {
		t.setStamp(s, atLast, at)
	}
	if seg.RST && s.resetBy == SideNone {
		s.resetBy = side
		t.setStamp(s, atReset, at)
	}
	if seg.FIN && s.finBy == SideNone {
		s.finBy = side
		t.setStamp(s, atFin, at)
	}
	if n := len(seg.Payload); n > 0 {
		t.setBytes(s, int(side-1), t.byteCount(s, int(side-1))+int64(n))
	}
}

func satInc(n uint32) uint32 {
	if n == 1<<32-1 {
		return n
	}
	return n + 1
}

// finished reports whether a SYN on this connection's 4-tuple starts a new
// connection (port reuse), as Tracker.Add decides for a live one.
func (t *Tracker) finished(s *summary) bool {
	return (s.resetBy != SideNone || s.finBy != SideNone) && t.byteCount(s, 0)+t.byteCount(s, 1) > 0
}
