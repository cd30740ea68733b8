package packet

import (
	"encoding/binary"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Segment is the TCP view of one frame.
type Segment struct {
	Frame    *Frame
	Src, Dst netip.AddrPort
	Seq, Ack uint32
	Window   uint16
	SYN, ACK bool
	FIN, RST bool
	Payload  []byte // aliases Frame.Data
	Missing  int    // payload bytes the IP header announces but the capture cut off
}

// frameClass says what a frame turned out to be.
type frameClass uint8

const (
	classTCP         frameClass = iota + 1
	classNotTCP                 // a valid frame that carries no TCP (UDP, ARP, 802.11 management, …)
	classUndecodable            // a frame whose headers cannot be read (damaged, cut, unknown link type, still encrypted)
)

// ipOffset finds where the IP header starts in a frame, walking the link
// layer as Windows logs it:
//
//   - Ethernet II, with any number of 802.1Q / 802.1ad tags, or IEEE 802.3
//     with an LLC/SNAP header (RFC 1042);
//   - IEEE 802.11 data frames as NDIS and PktMon log them: no FCS unless
//     Frame.FCS says so, header of 24 bytes, 30 with four addresses, +2 for
//     QoS data, +4 for an HT control field (IEEE 802.11-2020 §9.3.2.1),
//     then LLC/SNAP;
//   - raw IP (WWAN, PktMon's IP type, VPN).
//
// gopacket's Dot11 decoder assumes a trailing FCS and would cut the last 4
// bytes of every Windows frame, so 802.11 is walked here.
func ipOffset(f *Frame) (int, bool) {
	off, class := linkWalk(f)
	return off, class == classTCP
}

// linkWalk returns the offset of the IP header, or the class of a frame
// that has none.
func linkWalk(f *Frame) (int, frameClass) {
	b := f.Data
	switch f.LinkType {
	case layers.LinkTypeEthernet:
		if len(b) < 14 {
			return 0, classUndecodable
		}
		return etherType(b, 12)
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
		if len(b) == 0 {
			return 0, classUndecodable
		}
		switch b[0] >> 4 {
		case 4, 6:
			return 0, classTCP
		}
		return 0, classUndecodable
	case layers.LinkTypeIEEE802_11:
		return dot11(b)
	}
	return 0, classUndecodable
}

// etherType follows the EtherType (or 802.3 length) at b[off:].
func etherType(b []byte, off int) (int, frameClass) {
	for tags := 0; ; tags++ {
		if off+2 > len(b) || tags > 4 {
			return 0, classUndecodable
		}
		et := binary.BigEndian.Uint16(b[off:])
		switch {
		case et == 0x8100 || et == 0x88a8 || et == 0x9100: // 802.1Q / 802.1ad tag
			off += 4
			continue
		case et < 0x0600: // 802.3 length: LLC follows
			return snap(b, off+2)
		case et == 0x0800 || et == 0x86dd:
			return off + 2, ipClass(b[off+2:])
		}
		return 0, classNotTCP // ARP, LLDP, …
	}
}

// snap reads an LLC/SNAP header (AA AA 03, OUI 00-00-00 or 00-00-F8, then
// an EtherType).
func snap(b []byte, off int) (int, frameClass) {
	if off+8 > len(b) {
		return 0, classUndecodable
	}
	l := b[off:]
	if l[0] != 0xaa || l[1] != 0xaa || l[2] != 0x03 {
		return 0, classNotTCP // other LLC (STP, …)
	}
	return etherType(b, off+6)
}

func ipClass(ip []byte) frameClass {
	if len(ip) == 0 {
		return classUndecodable
	}
	return classTCP
}

// dot11 walks an 802.11 header (IEEE 802.11-2020 §9.2.4.1, §9.3.2.1).
func dot11(b []byte) (int, frameClass) {
	if len(b) < 24 {
		return 0, classUndecodable
	}
	fc0, fc1 := b[0], b[1]
	if fc0&0x3 != 0 { // protocol version
		return 0, classUndecodable
	}
	if (fc0>>2)&0x3 != 2 { // not a data frame: management or control
		return 0, classNotTCP
	}
	subtype := fc0 >> 4
	if subtype&0x4 != 0 { // Null / QoS Null: no body
		return 0, classNotTCP
	}
	if fc1&0x40 != 0 { // still protected: not decrypted
		return 0, classUndecodable
	}
	off := 24
	if fc1&0x3 == 0x3 { // ToDS and FromDS: a fourth address
		off += 6
	}
	if subtype&0x8 != 0 { // QoS data
		off += 2
		if fc1&0x80 != 0 { // +HTC (order bit in a QoS data frame)
			off += 4
		}
	}
	return snap(b, off)
}

// decoder parses the network and transport layers without allocating per
// frame (gopacket's DecodingLayerParser over reused layer values).
type decoder struct {
	ip4      layers.IPv4
	ip6      layers.IPv6
	tcp      layers.TCP
	payload  gopacket.Payload
	rparser4 *gopacket.DecodingLayerParser
	rparser6 *gopacket.DecodingLayerParser
	decoded  []gopacket.LayerType
}

func newDecoder() *decoder {
	d := &decoder{}
	d.rparser4 = gopacket.NewDecodingLayerParser(layers.LayerTypeIPv4, &d.ip4, &d.tcp, &d.payload)
	d.rparser6 = gopacket.NewDecodingLayerParser(layers.LayerTypeIPv6, &d.ip6, &d.tcp, &d.payload)
	for _, p := range []*gopacket.DecodingLayerParser{d.rparser4, d.rparser6} {
		p.IgnoreUnsupported = true
	}
	return d
}

// segment decodes the TCP segment in f.
func (d *decoder) segment(f *Frame) (s Segment, class frameClass) {
	off, class := linkWalk(f)
	if class != classTCP {
		return s, class
	}
	data := f.Data[off:]
	if f.FCS && f.LinkType == layers.LinkTypeIEEE802_11 && !f.Truncated {
		data = data[:max(0, len(data)-4)]
	}
	if len(data) == 0 {
		return s, classUndecodable
	}
	var p *gopacket.DecodingLayerParser
	switch data[0] >> 4 {
	case 4:
		p = d.rparser4
	case 6:
		p = d.rparser6
	default:
		return s, classUndecodable
	}
	d.decoded = d.decoded[:0]
	_ = p.DecodeLayers(data, &d.decoded) // errors: truncated tails; use what decoded
	return d.fromLayers(f, d.decoded)
}

func (d *decoder) fromLayers(f *Frame, decoded []gopacket.LayerType) (s Segment, class frameClass) {
	var src, dst netip.Addr
	var haveIP, haveTCP bool
	var ipPayloadLen = -1
	var proto layers.IPProtocol
	for _, lt := range decoded {
		switch lt {
		case layers.LayerTypeIPv4:
			src, _ = netip.AddrFromSlice(d.ip4.SrcIP.To4())
			dst, _ = netip.AddrFromSlice(d.ip4.DstIP.To4())
			haveIP = true
			proto = d.ip4.Protocol
			if d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0 {
				return s, classNotTCP // IP fragments: not reassembled
			}
			if d.ip4.Length != 0 { // 0: large send offload, length not filled in
				ipPayloadLen = int(d.ip4.Length) - int(d.ip4.IHL)*4
			}
		case layers.LayerTypeIPv6:
			src, _ = netip.AddrFromSlice(d.ip6.SrcIP)
			dst, _ = netip.AddrFromSlice(d.ip6.DstIP)
			haveIP = true
			proto = d.ip6.NextHeader
			if d.ip6.Length != 0 {
				ipPayloadLen = int(d.ip6.Length)
			}
		case layers.LayerTypeTCP:
			haveTCP = true
		}
	}
	if !haveIP {
		return s, classUndecodable
	}
	if !haveTCP {
		if proto == layers.IPProtocolTCP {
			return s, classUndecodable // TCP header cut or damaged
		}
		return s, classNotTCP
	}
	t := &d.tcp
	if t.SrcPort == 0 || t.DstPort == 0 {
		return s, classUndecodable // port 0 is never used on the wire: misread headers
	}
	payload := t.Payload
	missing := 0
	// Ethernet padding of short frames is not TCP data: trust the IP length.
	if ipPayloadLen >= 0 {
		want := max(ipPayloadLen-int(t.DataOffset)*4, 0)
		if len(payload) > want {
			payload = payload[:want]
		}
		missing = want - len(payload)
	}
	return Segment{Frame: f, Src: netip.AddrPortFrom(src, uint16(t.SrcPort)), Dst: netip.AddrPortFrom(dst, uint16(t.DstPort)),
		Seq: t.Seq, Ack: t.Ack, Window: t.Window, SYN: t.SYN, ACK: t.ACK, FIN: t.FIN, RST: t.RST, Payload: payload, Missing: missing}, classTCP
}
