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
//     frame with its payload type and direction tag.
package packet

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
)

// Provider GUIDs of the packet sources.
var (
	NDISPacketCapture = decode.NDISCapture
	PktMon            = decode.PktMon
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
	pktmonHeaderSize   = 34
	ndisFragmentHeader = 12
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
)

// String returns "ndis", "pktmon" or "unknown".
func (s Source) String() string {
	switch s {
	case SourceNDIS:
		return "ndis"
	case SourcePktMon:
		return "pktmon"
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
	OrigLen   int    // original length when known (PktMon), else len(Data)
	Data      []byte // may alias the event's payload: valid until the next Add (Clone to keep)
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
}

// NewExtractor returns an Extractor.
func NewExtractor() *Extractor {
	return &Extractor{pending: map[uint32]*Frame{}}
}

// IsPacketEvent reports whether ev comes from a packet capture provider.
func IsPacketEvent(ev *etl.Event) bool {
	return ev.Kind == etl.KindEventHeader && (ev.Provider == NDISPacketCapture || ev.Provider == PktMon)
}

// Add consumes one event. It returns a complete frame when the event
// completes one, nil otherwise (events that carry no packet, or the first
// fragments of a multi-event frame). The frame's data may alias the event:
// it is valid until the next event is read; Clone it to keep it.
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
		if ev.ID == pktmonPacket {
			return addPktMon(ev)
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
		f = &Frame{
			Time: ev.Time, Offset: ev.Offset, PID: ev.PID, TID: ev.TID, Source: SourceNDIS,
			Interface: lower, Miniport: miniport, LinkType: ndisLinkType(kw), Direction: ndisDirection(kw),
			Truncated: kw&kwPacketTruncated != 0,
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
	}
	if kw&kwPacketTruncated != 0 {
		f.Truncated = true
	}
	if !end {
		x.pending[key] = f
		return nil, nil
	}
	delete(x.pending, key)
	f.OrigLen = len(f.Data)
	if f.LinkType == layers.LinkTypeIEEE802_11 {
		clearProtected(f.Data)
	}
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

// PktMon payload types (PKTMON_PACKET_TYPE).
const (
	pktmonEthernet = 1
	pktmonWiFi     = 2
	pktmonIP       = 3
)

// addPktMon decodes a PktMon packet event (id 160): PktGroupId u64,
// PktNumber, AppearanceCount, DirTag, PacketType, ComponentId, EdgeId,
// FilterId u16, DropReason, DropLocation u32, OriginalPayloadSize,
// LoggedPayloadSize u16, Payload.
func addPktMon(ev *etl.Event) (*Frame, error) {
	p := ev.UserData
	if len(p) < pktmonHeaderSize {
		return nil, fmt.Errorf("packet: PktMon event at offset %#x: payload of %d bytes is too short", ev.Offset, len(p))
	}
	le := binary.LittleEndian
	dirTag := le.Uint16(p[12:])
	ptype := le.Uint16(p[14:])
	component := le.Uint16(p[16:])
	orig := int(le.Uint16(p[30:]))
	logged := int(le.Uint16(p[32:]))
	if logged > len(p)-pktmonHeaderSize {
		return nil, fmt.Errorf("packet: PktMon event at offset %#x: logged size %d exceeds the %d payload bytes", ev.Offset, logged, len(p)-pktmonHeaderSize)
	}
	f := &Frame{
		Time: ev.Time, Offset: ev.Offset, PID: ev.PID, TID: ev.TID, Source: SourcePktMon,
		Interface: uint32(component), Data: p[pktmonHeaderSize : pktmonHeaderSize+logged],
		OrigLen: orig, Truncated: orig > logged,
	}
	// DirTag: 1 inbound (Rx), 2 outbound (Tx). Believed, from pktmon's
	// text output; not in the manifest.
	switch dirTag {
	case 1:
		f.Direction = DirReceived
	case 2:
		f.Direction = DirSent
	}
	switch ptype {
	case pktmonEthernet:
		f.LinkType = layers.LinkTypeEthernet
	case pktmonWiFi:
		f.LinkType = layers.LinkTypeIEEE802_11
	case pktmonIP:
		f.LinkType = layers.LinkTypeRaw
	default:
		return nil, nil // HTTP/TCP/UDP/ARP/ICMP-only payloads: no frame to export
	}
	if f.OrigLen < len(f.Data) {
		f.OrigLen = len(f.Data)
	}
	return f, nil
}
