package packet

import (
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Segment is the TCP view of one frame.
type Segment struct {
	Frame    *Frame
	Src, Dst netip.AddrPort
	Seq, Ack uint32
	SYN, ACK bool
	FIN, RST bool
	Payload  []byte // aliases Frame.Data
}

// decoder parses link, network and transport layers without allocating per
// frame (gopacket's DecodingLayerParser over reused layer values).
type decoder struct {
	eth      layers.Ethernet
	dot1q    layers.Dot1Q
	ip4      layers.IPv4
	ip6      layers.IPv6
	tcp      layers.TCP
	payload  gopacket.Payload
	eparser  *gopacket.DecodingLayerParser
	rparser4 *gopacket.DecodingLayerParser
	rparser6 *gopacket.DecodingLayerParser
	decoded  []gopacket.LayerType
}

func newDecoder() *decoder {
	d := &decoder{}
	d.eparser = gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &d.eth, &d.dot1q, &d.ip4, &d.ip6, &d.tcp, &d.payload)
	d.rparser4 = gopacket.NewDecodingLayerParser(layers.LayerTypeIPv4, &d.ip4, &d.tcp, &d.payload)
	d.rparser6 = gopacket.NewDecodingLayerParser(layers.LayerTypeIPv6, &d.ip6, &d.tcp, &d.payload)
	for _, p := range []*gopacket.DecodingLayerParser{d.eparser, d.rparser4, d.rparser6} {
		p.IgnoreUnsupported = true
	}
	return d
}

// segment decodes the TCP segment in f. ok is false for frames that are not
// TCP over IP (or too damaged to tell).
func (d *decoder) segment(f *Frame) (s Segment, ok bool) {
	data := f.Data
	var p *gopacket.DecodingLayerParser
	switch f.LinkType {
	case layers.LinkTypeEthernet:
		p = d.eparser
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
		if len(data) == 0 {
			return s, false
		}
		switch data[0] >> 4 {
		case 4:
			p = d.rparser4
		case 6:
			p = d.rparser6
		default:
			return s, false
		}
	case layers.LinkTypeIEEE802_11:
		return d.segment80211(f)
	default:
		return s, false
	}
	d.decoded = d.decoded[:0]
	_ = p.DecodeLayers(data, &d.decoded) // errors: truncated tails; use what decoded
	return d.fromLayers(f, d.decoded)
}

// segment80211 handles Wi-Fi frames through gopacket's generic decoder
// (rare in netsh captures, so speed does not matter).
func (d *decoder) segment80211(f *Frame) (s Segment, ok bool) {
	pkt := gopacket.NewPacket(f.Data, layers.LayerTypeDot11, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	var src, dst netip.Addr
	if ip := pkt.Layer(layers.LayerTypeIPv4); ip != nil {
		v := ip.(*layers.IPv4)
		src, _ = netip.AddrFromSlice(v.SrcIP.To4())
		dst, _ = netip.AddrFromSlice(v.DstIP.To4())
	} else if ip := pkt.Layer(layers.LayerTypeIPv6); ip != nil {
		v := ip.(*layers.IPv6)
		src, _ = netip.AddrFromSlice(v.SrcIP)
		dst, _ = netip.AddrFromSlice(v.DstIP)
	} else {
		return s, false
	}
	tl := pkt.Layer(layers.LayerTypeTCP)
	if tl == nil {
		return s, false
	}
	t := tl.(*layers.TCP)
	return Segment{Frame: f, Src: netip.AddrPortFrom(src, uint16(t.SrcPort)), Dst: netip.AddrPortFrom(dst, uint16(t.DstPort)),
		Seq: t.Seq, Ack: t.Ack, SYN: t.SYN, ACK: t.ACK, FIN: t.FIN, RST: t.RST, Payload: t.Payload}, true
}

func (d *decoder) fromLayers(f *Frame, decoded []gopacket.LayerType) (s Segment, ok bool) {
	var src, dst netip.Addr
	var haveIP, haveTCP bool
	var ipPayloadLen = -1
	for _, lt := range decoded {
		switch lt {
		case layers.LayerTypeIPv4:
			src, _ = netip.AddrFromSlice(d.ip4.SrcIP.To4())
			dst, _ = netip.AddrFromSlice(d.ip4.DstIP.To4())
			haveIP = true
			if d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0 {
				return s, false // IP fragments: not reassembled
			}
			ipPayloadLen = int(d.ip4.Length) - int(d.ip4.IHL)*4
		case layers.LayerTypeIPv6:
			src, _ = netip.AddrFromSlice(d.ip6.SrcIP)
			dst, _ = netip.AddrFromSlice(d.ip6.DstIP)
			haveIP = true
			ipPayloadLen = int(d.ip6.Length)
		case layers.LayerTypeTCP:
			haveTCP = true
		}
	}
	if !haveIP || !haveTCP {
		return s, false
	}
	t := &d.tcp
	payload := t.Payload
	// Ethernet padding of short frames is not TCP data: trust the IP length.
	if ipPayloadLen >= 0 {
		max := ipPayloadLen - int(t.DataOffset)*4
		if max < 0 {
			max = 0
		}
		if len(payload) > max {
			payload = payload[:max]
		}
	}
	return Segment{Frame: f, Src: netip.AddrPortFrom(src, uint16(t.SrcPort)), Dst: netip.AddrPortFrom(dst, uint16(t.DstPort)),
		Seq: t.Seq, Ack: t.Ack, SYN: t.SYN, ACK: t.ACK, FIN: t.FIN, RST: t.RST, Payload: payload}, true
}
