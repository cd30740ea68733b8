// Package packet turns the packet events of a trace into frames, TCP
// conversations with their TLS handshakes, and pcapng files.
//
// Two capture sources are understood:
//
//   - Microsoft-Windows-NDIS-PacketCapture (netsh trace ... capture=yes):
//     event 1001 carries a frame fragment, the link type and direction are
//     in the event keywords; before Windows 8.1 one frame may span several
//     events between the PacketStart and PacketEnd keywords.
//   - Microsoft-Windows-PktMon (pktmon start --etw): event 160 carries a
//     frame with its payload type and direction tag, event 170 a frame
//     Windows dropped, with the drop reason and location. The same packet
//     is logged once per component it passes (AppearanceCount 1, 2, …).
//   - Microsoft-Windows-Ras-NdisWanPacketCapture (VPN captures): events
//     5001 (send) and 5002 (receive) carry the frame inside the tunnel,
//     with the routing domain and the RRAS user name.
//
// Frames are kept as Windows logged them (802.11 without an FCS, 802.1Q
// tags, raw IP); the TCP layer finds the IP header in each (tcp.go).
package packet

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"time"
	"unicode/utf16"

	"github.com/gopacket/gopacket/layers"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
)

// Provider GUIDs of the packet sources.
var (
	NDISPacketCapture = decode.NDISCapture
	PktMon            = decode.PktMon
	RasNdisWan        = decode.RasNdisWan
)

// NDIS-PacketCapture event ids and keywords (providers.md §2.9, verified).
const (
	ndisFragment       = 1001
	ndisMetadata       = 1002
	ndisVMSwitch       = 1003
	kwEthernet         = 0x1
	kwWWAN             = 0x200
	kwTunnel           = 0x8000
	kwNative80211      = 0x10000
	kwVMSwitch         = 0x1000000
	kwPacketTruncated  = 0x2000000
	kwPacketStart      = 0x40000000
	kwPacketEnd        = 0x80000000
	kwSendPath         = 0x100000000
	kwReceivePath      = 0x200000000
	pktmonPacket       = 160
	pktmonDrop         = 170
	pktmonHeaderSize   = 34
	ndisFragmentHeader = 12
	rasSend            = 5001
	rasReceive         = 5002
)

// MaxFrameSize bounds a reassembled frame; larger claims are corruption.
const MaxFrameSize = 256 << 10

// Direction says whether the capturing host sent or received a frame.
type Direction uint8

// Directions.
const (
	DirUnknown Direction = iota
	DirSent
	DirReceived
)

// String returns "sent", "received" or "unknown".
func (d Direction) String() string {
	switch d {
	case DirSent:
		return "sent"
	case DirReceived:
		return "received"
	}
	return "unknown"
}

// Source names where a frame came from.
type Source uint8

// Frame sources.
const (
	SourceNDIS Source = iota + 1
	SourcePktMon
	SourceRas
)

// String returns "ndis", "pktmon", "ras" or "unknown".
func (s Source) String() string {
	switch s {
	case SourceNDIS:
		return "ndis"
	case SourcePktMon:
		return "pktmon"
	case SourceRas:
		return "ras"
	}
	return "unknown"
}

// Frame is one captured packet.
type Frame struct {
	Time      time.Time
	Offset    int64 // file offset of the (first) event
	PID, TID  uint32
	Source    Source
	Interface uint32 // LowerIfIndex (NDIS) or component id (PktMon)
	Miniport  uint32 // MiniportIfIndex (NDIS)
	LinkType  layers.LinkType
	Direction Direction
	Truncated bool   // the capture kept only the start of the frame
	OrigLen   int    // original length: PktMon's OriginalPayloadSize, else from the IP header when the frame is cut, else len(Data)
	FCS       bool   // 802.11 frame that ends with a frame check sequence (Windows normally logs none)
	Data      []byte // may alias the event's payload: valid until the next Add (Clone to keep)

	// PktMon (events 160/170).
	Drop         bool   // event 170: Windows dropped this packet here
	DropReason   uint32 // PKTMON_DROP_REASON
	DropLocation uint32 // PKTMON_DROP_LOCATION
	PktGroupID   uint64 // with PktNumber, the same for every component copy of a packet
	PktNumber    uint16
	Appearance   uint16 // 1 for the first component that logged the packet, 2 for the next, …
	PktMonType   uint16 // PKTMON_PACKET_TYPE as logged
	Edge         uint16

	// Ras-NdisWanPacketCapture (events 5001/5002). User is personal data.
	RoutingDomain string
	User          string
}

// Clone returns a copy of f that owns its data.
func (f *Frame) Clone() *Frame {
	c := *f
	c.Data = append([]byte(nil), f.Data...)
	return &c
}

// Extractor turns packet events into frames. It keeps the state needed to
// join the fragments of multi-event frames (pre-8.1 NDIS captures).
type Extractor struct {
	pending map[uint32]*Frame // by CPU: the frame being assembled
	one     Frame             // a frame logged in one event, returned by Add (reused)
	buf     []byte            // its data when it cannot alias the event
}

// NewExtractor returns an Extractor.
func NewExtractor() *Extractor {
	return &Extractor{pending: map[uint32]*Frame{}}
}

// IsPacketEvent reports whether ev comes from a packet capture provider.
func IsPacketEvent(ev *etl.Event) bool {
	return ev.Kind == etl.KindEventHeader && (ev.Provider == NDISPacketCapture || ev.Provider == PktMon || ev.Provider == RasNdisWan)
}

// Add consumes one event. It returns a complete frame when the event
// completes one, nil otherwise (events that carry no packet, or the first
// fragments of a multi-event frame). The frame is valid until the next
// call of Add, and its data, which may alias the event, until the next
// event is read: Clone it to keep it. (A capture logs millions of frames:
// they are not allocated one by one.)
func (x *Extractor) Add(ev *etl.Event) (*Frame, error) {
	if ev.Kind != etl.KindEventHeader {
		return nil, nil
	}
	switch ev.Provider {
	case NDISPacketCapture:
		if ev.ID == ndisFragment {
			return x.addNDIS(ev)
		}
	case PktMon:
		if ev.ID == pktmonPacket || ev.ID == pktmonDrop {
			return addPktMon(ev)
		}
	case RasNdisWan:
		if ev.ID == rasSend || ev.ID == rasReceive {
			return addRas(ev)
		}
	}
	return nil, nil
}

func (x *Extractor) addNDIS(ev *etl.Event) (*Frame, error) {
	p := ev.UserData
	if len(p) < ndisFragmentHeader {
		return nil, fmt.Errorf("packet: NDIS event at offset %#x: payload of %d bytes is too short", ev.Offset, len(p))
	}
	le := binary.LittleEndian
	miniport, lower, size := le.Uint32(p), le.Uint32(p[4:]), le.Uint32(p[8:])
	if uint64(size) > uint64(len(p)-ndisFragmentHeader) {
		return nil, fmt.Errorf("packet: NDIS event at offset %#x: fragment size %d exceeds the %d payload bytes", ev.Offset, size, len(p)-ndisFragmentHeader)
	}
	frag := p[ndisFragmentHeader : ndisFragmentHeader+int(size)]
	kw := ev.Keywords
	start, end := kw&kwPacketStart != 0, kw&kwPacketEnd != 0
	key := uint32(ev.CPU)
	f := x.pending[key]
	if !start && !end && f == nil {
		// Neither flag and nothing pending: a capture that does not mark
		// fragments; one event is one frame. (With a frame pending, it is
		// a middle fragment.)
		start, end = true, true
	}
	if start {
		if f != nil {
			// A new frame starts before the previous one ended: emit what
			// was collected as truncated? Drop it: it cannot be parsed
			// reliably.
			delete(x.pending, key)
		}
		fr := Frame{
			Time: ev.Time, Offset: ev.Offset, PID: ev.PID, TID: ev.TID, Source: SourceNDIS,
			Interface: lower, Miniport: miniport, LinkType: ndisLinkType(kw), Direction: ndisDirection(kw),
			Truncated: kw&kwPacketTruncated != 0,
		}
		if end {
			x.one = fr
			f = &x.one
			if fr.LinkType == layers.LinkTypeIEEE802_11 {
				f.Data = x.buf[:0] // modified below: a copy
			}
		} else {
			// Only a frame in several events is allocated (fr itself
			// must not escape: one-event frames are most of a capture).
			f = new(Frame)
			*f = fr
		}
	} else if f == nil {
		return nil, fmt.Errorf("packet: NDIS event at offset %#x: continuation fragment without a start", ev.Offset)
	}
	if len(f.Data)+len(frag) > MaxFrameSize {
		delete(x.pending, key)
		return nil, fmt.Errorf("packet: NDIS event at offset %#x: frame larger than %d bytes", ev.Offset, MaxFrameSize)
	}
	if start && end && f.LinkType != layers.LinkTypeIEEE802_11 {
		f.Data = frag // a whole frame in one event: no copy
	} else {
		f.Data = append(f.Data, frag...)
		if f == &x.one {
			x.buf = f.Data[:0]
		}
	}
	if kw&kwPacketTruncated != 0 {
		f.Truncated = true
	}
	if !end {
		x.pending[key] = f
		return nil, nil
	}
	delete(x.pending, key)
	if f.LinkType == layers.LinkTypeIEEE802_11 {
		clearProtected(f.Data)
		f.FCS = hasFCS(f.Data)
	}
	f.OrigLen = inferOrigLen(f)
	return f, nil
}

// ndisLinkType maps NDIS keywords to a pcap link type, as etl2pcapng does.
func ndisLinkType(kw uint64) layers.LinkType {
	switch {
	case kw&kwNative80211 != 0:
		return layers.LinkTypeIEEE802_11
	case kw&kwWWAN != 0:
		return layers.LinkTypeRaw
	}
	return layers.LinkTypeEthernet
}

func ndisDirection(kw uint64) Direction {
	switch {
	case kw&kwSendPath != 0:
		return DirSent
	case kw&kwReceivePath != 0:
		return DirReceived
	}
	return DirUnknown
}

// clearProtected clears the Protected Frame bit of an 802.11 frame control
// field: netsh logs decrypted frames with the bit still set.
func clearProtected(b []byte) {
	if len(b) >= 2 {
		b[1] &^= 0x40
	}
}

// PktMon payload types (PKTMON_PACKET_TYPE, pktmonnpik.h).
const (
	pktmonUnknown  = 0
	pktmonEthernet = 1
	pktmonWiFi     = 2
	pktmonIP       = 3
)

// LinkTypeUnknown is the pcapng link type given to PktMon payloads that
// start at layer 4 or above (PKTMON_PACKET_TYPE TCP, UDP, HTTP, …): pcapng
// has no link type for them, so they are written as LINKTYPE_USER0 to keep
// one pcapng packet per event.
const LinkTypeUnknown = layers.LinkType(147)

// addPktMon decodes a PktMon packet event (160, and 170 for drops, which
// has the same layout): PktGroupId u64, PktNumber, AppearanceCount,
// DirTag, PacketType, ComponentId, EdgeId, FilterId u16, DropReason,
// DropLocation u32, OriginalPayloadSize, LoggedPayloadSize u16, Payload
// (field order of the provider manifest, message "PktGroupId %1, PktNumber
// %2, Appearance %3, Direction %4, Type %5, Component %6, Edge %7, Filter
// %8, … OriginalSize %11, LoggedSize %12").
func addPktMon(ev *etl.Event) (*Frame, error) {
	p := ev.UserData
	if len(p) < pktmonHeaderSize {
		return nil, fmt.Errorf("packet: PktMon event %d at offset %#x: payload of %d bytes is too short", ev.ID, ev.Offset, len(p))
	}
	le := binary.LittleEndian
	dirTag := le.Uint16(p[12:])
	ptype := le.Uint16(p[14:])
	component := le.Uint16(p[16:])
	orig := int(le.Uint16(p[30:]))
	logged := int(le.Uint16(p[32:]))
	if logged > len(p)-pktmonHeaderSize {
		return nil, fmt.Errorf("packet: PktMon event %d at offset %#x: logged size %d exceeds the %d payload bytes", ev.ID, ev.Offset, logged, len(p)-pktmonHeaderSize)
	}
	f := &Frame{
		Time: ev.Time, Offset: ev.Offset, PID: ev.PID, TID: ev.TID, Source: SourcePktMon,
		Interface: uint32(component), Data: p[pktmonHeaderSize : pktmonHeaderSize+logged],
		OrigLen: orig, Truncated: orig > logged, Direction: pktmonDirection(dirTag),
		PktGroupID: le.Uint64(p), PktNumber: le.Uint16(p[8:]), Appearance: le.Uint16(p[10:]),
		PktMonType: ptype, Edge: le.Uint16(p[18:]),
	}
	if ev.ID == pktmonDrop {
		f.Drop, f.DropReason, f.DropLocation = true, le.Uint32(p[22:]), le.Uint32(p[26:])
	}
	switch ptype {
	case pktmonEthernet:
		f.LinkType = layers.LinkTypeEthernet
	case pktmonWiFi:
		f.LinkType = layers.LinkTypeIEEE802_11
		f.Data = append([]byte(nil), f.Data...) // clearProtected writes
		clearProtected(f.Data)
		f.FCS = hasFCS(f.Data)
	case pktmonIP:
		f.LinkType = layers.LinkTypeRaw
	default:
		// Unknown (0) and the layer-4 types: some components log a whole
		// frame under them; look at the bytes.
		f.LinkType = sniffLink(f.Data, LinkTypeUnknown)
	}
	if f.OrigLen < len(f.Data) {
		f.OrigLen = len(f.Data)
	}
	return f, nil
}

// pktmonDirection maps PKTMON_DIRECTION_TAG: In (1), Rx (3, reported by a
// network interface, as in Windows 11 captures) and Ingress (5, vmswitch)
// are the receive path; Out (2), Tx (4) and Egress (6) the send path.
func pktmonDirection(tag uint16) Direction {
	switch tag {
	case 1, 3, 5:
		return DirReceived
	case 2, 4, 6:
		return DirSent
	}
	return DirUnknown
}

// addRas decodes Microsoft-Windows-Ras-NdisWanPacketCapture 5001/5002:
// RoutingDomainID (UTF-16 string), RRASUserName (UTF-16 string),
// FragmentSize u32, Fragment. etl2pcapng and Message Analyzer read the
// fragment as an Ethernet frame; a fragment that is plainly an IP packet
// is taken as raw IP.
func addRas(ev *etl.Event) (*Frame, error) {
	p := ev.UserData
	domain, n1, ok1 := utf16z(p)
	user, n2, ok2 := utf16z(p[n1:])
	rest := p[n1+n2:]
	if !ok1 || !ok2 || len(rest) < 4 {
		return nil, fmt.Errorf("packet: Ras-NdisWanPacketCapture event %d at offset %#x: payload of %d bytes is too short", ev.ID, ev.Offset, len(p))
	}
	size := binary.LittleEndian.Uint32(rest)
	if uint64(size) > uint64(len(rest)-4) {
		return nil, fmt.Errorf("packet: Ras-NdisWanPacketCapture event %d at offset %#x: fragment size %d exceeds the %d payload bytes", ev.ID, ev.Offset, size, len(rest)-4)
	}
	f := &Frame{Time: ev.Time, Offset: ev.Offset, PID: ev.PID, TID: ev.TID, Source: SourceRas,
		Data: rest[4 : 4+size], RoutingDomain: domain, User: user, Direction: DirReceived}
	if ev.ID == rasSend {
		f.Direction = DirSent
	}
	f.Interface = rasInterface(domain)
	f.LinkType = sniffLink(f.Data, layers.LinkTypeEthernet)
	f.OrigLen = inferOrigLen(f)
	return f, nil
}

// rasInterface numbers a routing domain (for the pcapng interface).
func rasInterface(domain string) uint32 {
	var h uint32 = 2166136261
	for i := 0; i < len(domain); i++ {
		h = (h ^ uint32(domain[i])) * 16777619
	}
	return h
}

// utf16z reads a NUL-terminated UTF-16LE string; n counts the bytes read
// including the terminator.
func utf16z(p []byte) (s string, n int, ok bool) {
	var u []uint16
	for i := 0; i+1 < len(p); i += 2 {
		c := binary.LittleEndian.Uint16(p[i:])
		if c == 0 {
			return string(utf16.Decode(u)), i + 2, true
		}
		if len(u) < 512 {
			u = append(u, c)
		}
	}
	return "", 0, false
}

// sniffLink tells an Ethernet frame from a raw IP packet by their bytes;
// def when neither fits.
func sniffLink(b []byte, def layers.LinkType) layers.LinkType {
	if looksEthernet(b) {
		return layers.LinkTypeEthernet
	}
	if looksIP(b) {
		return layers.LinkTypeRaw
	}
	return def
}

func looksEthernet(b []byte) bool {
	if len(b) < 14 {
		return false
	}
	switch binary.BigEndian.Uint16(b[12:]) {
	case 0x0800:
		return len(b) > 14 && b[14]>>4 == 4 && b[14]&0xf >= 5
	case 0x86dd:
		return len(b) > 14 && b[14]>>4 == 6
	case 0x8100, 0x88a8, 0x0806:
		return true
	}
	return false
}

func looksIP(b []byte) bool {
	if len(b) < 20 {
		return false
	}
	switch b[0] >> 4 {
	case 4:
		return b[0]&0xf >= 5 && int(binary.BigEndian.Uint16(b[2:])) >= 20
	case 6:
		return len(b) >= 40
	}
	return false
}

// hasFCS reports whether an 802.11 frame ends with a valid frame check
// sequence (CRC-32 over the rest, IEEE 802.11-2020 §9.2.4.8). Native
// 802.11 frames from NDIS and PktMon carry none; a frame whose last four
// bytes happen to be its CRC is treated as having one.
func hasFCS(b []byte) bool {
	if len(b) < 28 {
		return false
	}
	n := len(b) - 4
	return crc32.ChecksumIEEE(b[:n]) == binary.LittleEndian.Uint32(b[n:])
}

// inferOrigLen returns the original length of a frame cut by the capture:
// the link header plus the IP header's total length (etl2pcapng does the
// same), or len(Data) when that is not larger (also for LSO frames whose
// IP length is 0).
func inferOrigLen(f *Frame) int {
	n := len(f.Data)
	off, ok := ipOffset(f)
	if !ok || off+20 > len(f.Data) {
		return n
	}
	ip := f.Data[off:]
	var total int
	switch ip[0] >> 4 {
	case 4:
		total = int(binary.BigEndian.Uint16(ip[2:]))
	case 6:
		if len(ip) < 40 {
			return n
		}
		total = 40 + int(binary.BigEndian.Uint16(ip[4:]))
	default:
		return n
	}
	want := off + total
	if f.FCS {
		want += 4
	}
	if want > n && total > 0 {
		return want
	}
	return n
}
