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

// summary is a decided connection folded to a fixed size, without
// pointers.
type summary struct {
	client, server [16]byte // As16 form
	cport, sport   uint16
	flags          sumFlags
	resetBy, finBy Side
	sessionIDLen   uint8
	sentinel       uint8 // ServerHello.DowngradeSentinel: index into sentinels
	first, last    Stamp
	chAt, shAt     Stamp
	resetAt, finAt Stamp
	bytes          [2]int64 // client, server
	pid            uint32
	frames         uint32
	duplicates     uint32
	keepAlives     uint32
	zeroWindow     uint32
	drops          uint32
	dropReason     uint32
	dropLocation   uint32
	recordVersion  [2]tlswire.Version
	offeredSuites  uint32
	// ClientHello (sumClientHello set)
	sni, versions, alpn uint32 // string table indexes
	chRecord, chLegacy  tlswire.Version
	// ServerHello (sumServerHello set)
	shLegacy, shSelected tlswire.Version
	cipher               uint16
	extra                uint32 // index into Tracker.extras, 0 for none
}

type sumFlags uint32

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
	sumClient4 // client address is IPv4
	sumServer4
	sumClientHello
	sumCHTruncated
	sumCHSSLv2
	sumServerHello
	sumSHTruncated
)

// sentinels are the values of ServerHello.DowngradeSentinel.
var sentinels = [...]string{"", "TLS1.2", "TLS1.1-or-below"}

// extra holds what few connections have.
type extra struct {
	alerts           []AlertSeen
	helloRetry       *tlswire.ServerHello
	clientHelloRetry *tlswire.ClientHello
	proxy            *Proxy
	sentinel         string // a DowngradeSentinel not in sentinels
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
const blockSize = 1024

// store keeps one summary per connection, by slot.
type store struct {
	blocks [][]summary
	n      int
}

func (s *store) add() int {
	if s.n%blockSize == 0 {
		s.blocks = append(s.blocks, make([]summary, blockSize))
	}
	s.n++
	return s.n - 1
}

func (s *store) at(slot int) *summary { return &s.blocks[slot/blockSize][slot%blockSize] }

func addr16(a netip.Addr) ([16]byte, bool) { return a.As16(), a.Is4() }

func addrOf(b [16]byte, is4 bool) netip.Addr {
	a := netip.AddrFrom16(b)
	if is4 {
		return a.Unmap()
	}
	return a
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
	var c4, s4 bool
	s.client, c4 = addr16(c.Client.Addr())
	s.server, s4 = addr16(c.Server.Addr())
	s.cport, s.sport = c.Client.Port(), c.Server.Port()
	f := &s.flags
	setFlag(f, sumClient4, c4)
	setFlag(f, sumServer4, s4)
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
	s.first, s.last = c.FirstSeen, c.LastSeen
	s.chAt, s.shAt, s.resetAt, s.finAt = c.ClientHelloAt, c.ServerHelloAt, c.ResetAt, c.FinAt
	s.bytes = [2]int64{int64(c.Bytes[Client]), int64(c.Bytes[Server])}
	s.pid = c.PID
	s.frames, s.duplicates = sat32(c.Frames), sat32(c.Duplicates)
	s.keepAlives, s.zeroWindow = sat32(c.KeepAlives), sat32(c.ZeroWindowProbes)
	s.drops, s.dropReason, s.dropLocation = sat32(c.Drops), c.DropReason, c.DropLocation
	s.recordVersion = [2]tlswire.Version{c.RecordVersion[Client], c.RecordVersion[Server]}
	s.offeredSuites = sat32(c.OfferedSuites)
	var x extra
	if ch := c.ClientHello; ch != nil {
		*f |= sumClientHello
		setFlag(f, sumCHTruncated, ch.Truncated)
		setFlag(f, sumCHSSLv2, ch.SSLv2)
		s.chRecord, s.chLegacy = ch.RecordVersion, ch.LegacyVersion
		s.sni = t.strs.intern(ch.SNI)
		s.versions = t.strs.intern(encodeVersions(ch.SupportedVersions))
		s.alpn = t.strs.intern(encodeStrings(ch.ALPN))
		s.sessionIDLen = uint8(min(max(ch.SessionIDLen, 0), 255))
	}
	if sh := c.ServerHello; sh != nil {
		*f |= sumServerHello
		setFlag(f, sumSHTruncated, sh.Truncated)
		s.shLegacy, s.shSelected, s.cipher = sh.LegacyVersion, sh.SelectedVersion, sh.CipherSuite
		s.sentinel = 255
		for i, v := range sentinels {
			if v == sh.DowngradeSentinel {
				s.sentinel = uint8(i)
			}
		}
		if s.sentinel == 255 {
			x.sentinel = sh.DowngradeSentinel
		}
	}
	x.alerts, x.helloRetry, x.clientHelloRetry, x.proxy = c.Alerts, c.HelloRetry, c.ClientHelloRetry, c.Proxy
	if x.alerts != nil || x.helloRetry != nil || x.clientHelloRetry != nil || x.proxy != nil || x.sentinel != "" {
		if len(t.extras) == 0 {
			t.extras = append(t.extras, nil) // index 0: none
		}
		s.extra = uint32(len(t.extras))
		t.extras = append(t.extras, &x)
	}
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
		ID:               slot + 1,
		Client:           netip.AddrPortFrom(addrOf(s.client, f&sumClient4 != 0), s.cport),
		Server:           netip.AddrPortFrom(addrOf(s.server, f&sumServer4 != 0), s.sport),
		ClientKnown:      f&sumClientKnown != 0,
		FirstSeen:        s.first,
		LastSeen:         s.last,
		PID:              s.pid,
		PIDKnown:         f&sumPIDKnown != 0,
		Frames:           int(s.frames),
		Duplicates:       int(s.duplicates),
		Bytes:            [3]int{Client: int(s.bytes[0]), Server: int(s.bytes[1])},
		SYN:              f&sumSYN != 0,
		ResetBy:          s.resetBy,
		ResetAt:          s.resetAt,
		FinBy:            s.finBy,
		FinAt:            s.finAt,
		Gaps:             f&sumGaps != 0,
		OfferedSuites:    int(s.offeredSuites),
		ClientHelloAt:    s.chAt,
		ServerHelloAt:    s.shAt,
		NotTLS:           f&sumNotTLS != 0,
		AppData:          [3]bool{Client: f&sumAppDataClient != 0, Server: f&sumAppDataServer != 0},
		MidStream:        f&sumMidStream != 0,
		RecordVersion:    [3]tlswire.Version{Client: s.recordVersion[0], Server: s.recordVersion[1]},
		KeepAlives:       int(s.keepAlives),
		ZeroWindowProbes: int(s.zeroWindow),
		Drops:            int(s.drops),
		DropReason:       s.dropReason,
		DropLocation:     s.dropLocation,
		Truncated:        f&sumTruncated != 0,
		released:         true,
	}
	if f&sumClientHello != 0 {
		sc.ch = tlswire.ClientHello{
			RecordVersion:     s.chRecord,
			LegacyVersion:     s.chLegacy,
			SupportedVersions: decodeVersions(t.strs.get(s.versions), sc.versions[:0]),
			SNI:               t.strs.get(s.sni),
			ALPN:              decodeStrings(t.strs.get(s.alpn), sc.alpn[:0]),
			SSLv2:             f&sumCHSSLv2 != 0,
			SessionIDLen:      int(s.sessionIDLen),
			Truncated:         f&sumCHTruncated != 0,
		}
		c.ClientHello = &sc.ch
	}
	var x *extra
	if s.extra != 0 {
		x = t.extras[s.extra]
		c.Alerts, c.HelloRetry, c.ClientHelloRetry, c.Proxy = x.alerts, x.helloRetry, x.clientHelloRetry, x.proxy
	}
	if f&sumServerHello != 0 {
		sc.sh = tlswire.ServerHello{LegacyVersion: s.shLegacy, SelectedVersion: s.shSelected, CipherSuite: s.cipher, Truncated: f&sumSHTruncated != 0}
		if int(s.sentinel) < len(sentinels) {
			sc.sh.DowngradeSentinel = sentinels[s.sentinel]
		} else if x != nil {
			sc.sh.DowngradeSentinel = x.sentinel
		}
		c.ServerHello = &sc.sh
	}
	return c
}

// addFolded updates the summary at slot with a segment of its connection,
// as Conversation.add does for a released connection.
func (s *summary) add(seg *Segment) {
	f := seg.Frame
	side := Server
	if a, _ := addr16(seg.Src.Addr()); a == s.client && seg.Src.Port() == s.cport {
		side = Client
	}
	s.frames = satInc(s.frames)
	at := StampOf(f.Time)
	if at > s.last {
		s.last = at
	}
	if seg.RST && s.resetBy == SideNone {
		s.resetBy, s.resetAt = side, at
	}
	if seg.FIN && s.finBy == SideNone {
		s.finBy, s.finAt = side, at
	}
	s.bytes[side-1] += int64(len(seg.Payload))
}

func satInc(n uint32) uint32 {
	if n == 1<<32-1 {
		return n
	}
	return n + 1
}

// finished reports whether a SYN on this connection's 4-tuple starts a new
// connection (port reuse), as Tracker.Add decides for a live one.
func (s *summary) finished() bool {
	return (s.resetBy != SideNone || s.finBy != SideNone) && s.bytes[0]+s.bytes[1] > 0
}
