package redact

import (
	"encoding/binary"

	"github.com/gopacket/gopacket/layers"
)

// layout locates the layers of one captured frame (RFC 894 Ethernet II
// with optional IEEE 802.1Q tags, RFC 791 IPv4, RFC 8200 IPv6, RFC 9293
// TCP, RFC 768 UDP). Offsets index the frame's bytes; -1 means absent.
type layout struct {
	ethType  int // offset of the EtherType (Ethernet), -1 for raw IP
	l3       int // IP header
	ipv      int // 4 or 6, 0 when not IP
	proto    int // IP protocol of the transport header
	l4       int // transport header, -1 when absent (other protocol, extension headers, fragment)
	payload  int // transport payload
	end      int // end of the IP packet within the captured bytes
	fragment bool
	complete bool // the whole IP packet was captured
}

// parseLayout parses data of the given link type. ok is false when the
// frame is not IP (or too damaged to tell).
func parseLayout(data []byte, link layers.LinkType) (l layout, ok bool) {
	l = layout{ethType: -1, l3: -1, l4: -1, payload: -1}
	switch link {
	case layers.LinkTypeEthernet:
		off := 12
		for {
			if len(data) < off+2 {
				return l, false
			}
			et := binary.BigEndian.Uint16(data[off:])
			if et == 0x8100 || et == 0x88a8 {
				off += 4
				continue
			}
			l.ethType = off
			l.l3 = off + 2
			break
		}
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
		l.l3 = 0
	default:
		return l, false
	}
	p := data[l.l3:]
	if len(p) < 1 {
		return l, false
	}
	if l.ethType >= 0 {
		switch binary.BigEndian.Uint16(data[l.ethType:]) {
		case 0x0800, 0x86dd:
		default:
			return l, true // Ethernet, but not IP
		}
	}
	switch p[0] >> 4 {
	case 4:
		if len(p) < 20 {
			return l, false
		}
		ihl := int(p[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(p[2:]))
		if ihl < 20 || len(p) < ihl || total < ihl {
			return l, false
		}
		l.ipv, l.proto = 4, int(p[9])
		l.end = l.l3 + total
		l.complete = l.end <= len(data)
		if !l.complete {
			l.end = len(data)
		}
		fl := binary.BigEndian.Uint16(p[6:])
		l.fragment = fl&0x2000 != 0 || fl&0x1fff != 0
		if !l.fragment {
			l.l4 = l.l3 + ihl
		}
	case 6:
		if len(p) < 40 {
			return l, false
		}
		l.ipv, l.proto = 6, int(p[6])
		l.end = l.l3 + 40 + int(binary.BigEndian.Uint16(p[4:]))
		l.complete = l.end <= len(data)
		if !l.complete {
			l.end = len(data)
		}
		switch l.proto {
		case 6, 17, 58:
			l.l4 = l.l3 + 40
		}
	default:
		return l, false
	}
	if l.l4 < 0 || l.l4 > l.end {
		l.l4 = -1
		return l, true
	}
	t := data[l.l4:l.end]
	switch l.proto {
	case 6:
		if len(t) < 20 || int(t[12]>>4)*4 < 20 || int(t[12]>>4)*4 > len(t) {
			l.l4 = -1
			return l, true
		}
		l.payload = l.l4 + int(t[12]>>4)*4
	case 17:
		if len(t) < 8 {
			l.l4 = -1
			return l, true
		}
		l.payload = l.l4 + 8
	case 1, 58:
		if len(t) < 4 {
			l.l4 = -1
			return l, true
		}
		l.payload = l.l4 + 4
	default:
		l.l4 = -1
	}
	return l, true
}

// addrs returns the source and destination address bytes of the IP
// header.
func (l *layout) addrs(data []byte) (src, dst []byte) {
	if l.ipv == 4 {
		return data[l.l3+12 : l.l3+16], data[l.l3+16 : l.l3+20]
	}
	return data[l.l3+8 : l.l3+24], data[l.l3+24 : l.l3+40]
}

// ports returns the TCP or UDP ports.
func (l *layout) ports(data []byte) (src, dst uint16) {
	if l.l4 < 0 || (l.proto != 6 && l.proto != 17) {
		return 0, 0
	}
	return binary.BigEndian.Uint16(data[l.l4:]), binary.BigEndian.Uint16(data[l.l4+2:])
}

// checksum is the RFC 1071 Internet checksum of b added to sum.
func checksum(sum uint32, b []byte) uint32 {
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	return sum
}

func fold(sum uint32) uint16 {
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// fixChecksums recomputes the IPv4 header checksum and, for a complete
// packet, the TCP, UDP or ICMP checksum (RFC 793/768/792, RFC 8200 §8.1
// pseudo-header for IPv6).
func (l *layout) fixChecksums(data []byte) {
	if l.ipv == 4 {
		ihl := int(data[l.l3]&0x0f) * 4
		h := data[l.l3 : l.l3+ihl]
		h[10], h[11] = 0, 0
		binary.BigEndian.PutUint16(h[10:], fold(checksum(0, h)))
	}
	if l.l4 < 0 || !l.complete || l.fragment {
		return
	}
	seg := data[l.l4:l.end]
	var off int
	switch l.proto {
	case 6:
		off = 16
	case 17:
		off = 6
	case 1, 58:
		off = 2
	default:
		return
	}
	if len(seg) < off+2 {
		return
	}
	seg[off], seg[off+1] = 0, 0
	var sum uint32
	if l.proto != 1 { // ICMPv4 has no pseudo-header
		src, dst := l.addrs(data)
		sum = checksum(sum, src)
		sum = checksum(sum, dst)
		sum += uint32(l.proto)
		sum += uint32(len(seg))
	}
	c := fold(checksum(sum, seg))
	if l.proto == 17 && c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(seg[off:], c)
}
