package nettrace

import (
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Write is one application write on a TCP connection.
type Write struct {
	FromServer bool
	Data       []byte
}

// Ending says how a synthesised TCP connection ends.
type Ending uint8

// Connection endings.
const (
	EndOpen        Ending = iota // no FIN or RST in the capture
	EndClientFIN                 // client closes gracefully
	EndServerFIN                 // server closes gracefully (e.g. after an alert)
	EndServerReset               // server resets
	EndClientReset               // client resets
)

// Session is a TCP connection to synthesise as frames.
type Session struct {
	Client, Server netip.AddrPort
	Writes         []Write
	End            Ending
	NoHandshake    bool // leave out SYN/SYN-ACK/ACK (capture started late)
	MSS            int  // segment size (default 1460)
	Trailing       bool // NDIS 1809+ trailing fields
	DuplicateLayer bool // log every frame twice, at a second capture layer

	Link    Link    // how the frames are framed (default Ethernet II)
	Capture Capture // which provider logs them (default NDIS-PacketCapture)
	Snaplen int     // keep only the first Snaplen bytes of each frame (0: all)
	// KeepAlive adds a Windows TCP keep-alive (one 0x00 byte at the
	// client's sequence number next−1, RFC 9293 §3.8.4) before the writes.
	KeepAlive bool
	// PktMonCopies logs every frame a second time at the TCP/IP
	// protocol component (PacketType IP, DirTag In/Out, same PktGroupId
	// and PktNumber, Appearance 2), as pktmon does for every component a
	// packet passes.
	PktMonCopies bool
	// DropAck adds, after the writes, a duplicate ACK from the server
	// that PktMon logs as dropped (event 170).
	DropAck bool
}

// Link is the link-layer framing of synthesised frames.
type Link uint8

// Links.
const (
	LinkEthernet Link = iota
	// Link80211: IEEE 802.11 QoS data frames as Windows logs them (no
	// FCS; IEEE 802.11-2020 §9.3.2.1 header of 26 bytes, FromDS for
	// received and ToDS for sent frames; RFC 1042 LLC/SNAP). NDIS logs
	// them decrypted with the Protected bit still set (providers.md §1.2).
	Link80211
	LinkVLAN  // Ethernet II with an 802.1Q tag (VLAN 10)
	LinkRawIP // no link header: IPv4/IPv6 first
)

// Capture is the provider that logs synthesised frames.
type Capture uint8

// Captures.
const (
	CaptureNDIS   Capture = iota // Microsoft-Windows-NDIS-PacketCapture 1001
	CapturePktMon                // Microsoft-Windows-PktMon 160 (Windows 11: DirTag Rx 3 / Tx 4 at the NIC)
	CaptureRas                   // Microsoft-Windows-Ras-NdisWanPacketCapture 5001/5002
)

var (
	clientMAC = net.HardwareAddr{0x00, 0x15, 0x5d, 0x01, 0x02, 0x03}
	routerMAC = net.HardwareAddr{0x00, 0x15, 0x5d, 0xaa, 0xbb, 0xcc}
)

// TCPSession adds the NDIS frames of s, one millisecond apart, as seen on
// the client (the capturing machine).
func (b *Builder) TCPSession(s Session) error {
	mss := s.MSS
	if mss == 0 {
		mss = 1460
	}
	cseq, sseq := uint32(1000), uint32(500000)
	emitAt := func(fromServer bool, flags tcpFlags, payload []byte, seq, ack uint32, drop bool) error {
		src, dst := s.Client, s.Server
		if fromServer {
			src, dst = s.Server, s.Client
		}
		ip, err := ipPacket(src, dst, seq, ack, flags, payload)
		if err != nil {
			return err
		}
		b.logFrame(s, ip, !fromServer, drop)
		return nil
	}
	emit := func(fromServer bool, flags tcpFlags, payload []byte) error {
		seq, ack := cseq, sseq
		if fromServer {
			seq, ack = sseq, cseq
		}
		if err := emitAt(fromServer, flags, payload, seq, ack, false); err != nil {
			return err
		}
		n := uint32(len(payload))
		if flags.syn || flags.fin {
			n++
		}
		if fromServer {
			sseq += n
		} else {
			cseq += n
		}
		return nil
	}
	if !s.NoHandshake {
		if err := emit(false, tcpFlags{syn: true}, nil); err != nil {
			return err
		}
		if err := emit(true, tcpFlags{syn: true, ack: true}, nil); err != nil {
			return err
		}
		if err := emit(false, tcpFlags{ack: true}, nil); err != nil {
			return err
		}
	}
	if s.KeepAlive {
		if err := emitAt(false, tcpFlags{ack: true}, []byte{0}, cseq-1, sseq, false); err != nil {
			return err
		}
	}
	for _, w := range s.Writes {
		for data := w.Data; len(data) > 0; {
			n := min(len(data), mss)
			if err := emit(w.FromServer, tcpFlags{ack: true, psh: n == len(data)}, data[:n]); err != nil {
				return err
			}
			data = data[n:]
		}
	}
	if s.DropAck {
		if err := emitAt(true, tcpFlags{ack: true}, nil, sseq, cseq, true); err != nil {
			return err
		}
	}
	switch s.End {
	case EndClientFIN:
		return emit(false, tcpFlags{fin: true, ack: true}, nil)
	case EndServerFIN:
		return emit(true, tcpFlags{fin: true, ack: true}, nil)
	case EndServerReset:
		return emit(true, tcpFlags{rst: true, ack: true}, nil)
	case EndClientReset:
		return emit(false, tcpFlags{rst: true, ack: true}, nil)
	}
	return nil
}

type tcpFlags struct{ syn, ack, fin, rst, psh bool }

// ipPacket serialises an IPv4 (or IPv6)/TCP packet with checksums.
func ipPacket(src, dst netip.AddrPort, seq, ack uint32, f tcpFlags, payload []byte) ([]byte, error) {
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), Seq: seq, Ack: ack,
		SYN: f.syn, ACK: f.ack, FIN: f.fin, RST: f.rst, PSH: f.psh, Window: 64240}
	var net gopacket.NetworkLayer
	if src.Addr().Is4() {
		net = &layers.IPv4{Version: 4, TTL: 128, Protocol: layers.IPProtocolTCP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice(), Flags: layers.IPv4DontFragment}
	} else {
		net = &layers.IPv6{Version: 6, HopLimit: 128, NextHeader: layers.IPProtocolTCP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	}
	if err := tcp.SetNetworkLayerForChecksum(net); err != nil {
		return nil, fmt.Errorf("nettrace: %w", err)
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, net.(gopacket.SerializableLayer), tcp, gopacket.Payload(payload)); err != nil {
		return nil, fmt.Errorf("nettrace: serialise packet: %w", err)
	}
	return append([]byte(nil), buf.Bytes()...), nil
}

// ethernet wraps an IP packet in Ethernet II (optionally with an 802.1Q
// tag for VLAN 10).
func ethernet(ip []byte, sent, vlan bool) []byte {
	src, dst := clientMAC, routerMAC
	if !sent {
		src, dst = routerMAC, clientMAC
	}
	f := append(append([]byte(nil), dst...), src...)
	if vlan {
		f = append(f, 0x81, 0x00, 0x00, 10)
	}
	return append(append(f, etherTypeOf(ip)...), ip...)
}

func etherTypeOf(ip []byte) []byte {
	if ip[0]>>4 == 6 {
		return []byte{0x86, 0xdd}
	}
	return []byte{0x08, 0x00}
}

var bssid = net.HardwareAddr{0x00, 0x15, 0x5d, 0xaa, 0xbb, 0xcd}

// dot11 wraps an IP packet in an IEEE 802.11 QoS data frame as Windows
// logs it: frame control (QoS Data, ToDS for sent / FromDS for received,
// Protected as given), duration, three addresses, sequence control, QoS
// control, then the RFC 1042 LLC/SNAP header. No FCS.
func dot11(ip []byte, sent, protected bool) []byte {
	fc1 := byte(0x02) // FromDS: AP → station
	a1, a2, a3 := clientMAC, bssid, routerMAC
	if sent {
		fc1 = 0x01 // ToDS: station → AP
		a1, a2, a3 = bssid, clientMAC, routerMAC
	}
	if protected {
		fc1 |= 0x40
	}
	f := []byte{0x88, fc1, 0x2c, 0x00}
	f = append(append(append(f, a1...), a2...), a3...)
	f = append(f, 0x10, 0x00, 0x00, 0x00) // sequence control, QoS control (TID 0)
	f = append(f, 0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00)
	return append(append(f, etherTypeOf(ip)...), ip...)
}

// logFrame frames ip per s.Link and logs it per s.Capture.
func (b *Builder) logFrame(s Session, ip []byte, sent, drop bool) {
	var frame []byte
	switch s.Link {
	case Link80211:
		frame = dot11(ip, sent, s.Capture == CaptureNDIS)
	case LinkVLAN:
		frame = ethernet(ip, sent, true)
	case LinkRawIP:
		frame = ip
	default:
		frame = ethernet(ip, sent, false)
	}
	logged := frame
	if s.Snaplen > 0 && len(logged) > s.Snaplen {
		logged = logged[:s.Snaplen]
	}
	switch s.Capture {
	case CapturePktMon:
		b.pktGroup++
		ptype := uint16(1)
		switch s.Link {
		case Link80211:
			ptype = 2
		case LinkRawIP:
			ptype = 3
		}
		dir := uint16(3) // Rx at the NIC
		if sent {
			dir = 4 // Tx
		}
		id := uint16(160)
		if drop {
			id = 170
		}
		b.PktMonPacket(id, PktMonMeta{Group: b.pktGroup, Number: 1, Appearance: 1, Dir: dir, Type: ptype, Component: 9, Edge: 1,
			DropReason: dropReason(drop), DropLocation: dropLocation(drop), Original: len(frame)}, logged)
		if s.PktMonCopies && !drop {
			// The same packet at the TCP/IP component, as an IP packet.
			dir := uint16(1) // In
			if sent {
				dir = 2 // Out
			}
			cut := ip
			if s.Snaplen > 0 && len(cut) > s.Snaplen {
				cut = cut[:s.Snaplen]
			}
			b.now = b.now.Add(-b.Step + time.Microsecond)
			b.PktMonPacket(160, PktMonMeta{Group: b.pktGroup, Number: 1, Appearance: 2, Dir: dir, Type: 3, Component: 21, Edge: 1, Original: len(ip)}, cut)
		}
	case CaptureRas:
		b.RasPacket(sent, "{8F1E6AA3-3A2C-4A0E-9D3B-7C1B2E4F5A60}", "CONTOSO\\alice", logged)
	default:
		b.NDISFrameTruncated(logged, sent, 7, s.Trailing, s.Link == Link80211, len(logged) < len(frame))
		if s.DuplicateLayer {
			b.now = b.now.Add(-b.Step + time.Microsecond)
			b.NDISFrameTruncated(logged, sent, 12, s.Trailing, s.Link == Link80211, len(logged) < len(frame))
		}
	}
}

// Drop reason and location used for DropAck: PKTMON_DROP_LOCATION
// PMLOC_TCPIP_FL_RCV_NON_PRE_VAL (0xE0004001) and a reason code.
func dropReason(drop bool) uint32 {
	if drop {
		return 0x19
	}
	return 0
}

func dropLocation(drop bool) uint32 {
	if drop {
		return 0xE0004001
	}
	return 0
}

// tcpFrame serialises an Ethernet/IPv4(or 6)/TCP frame with checksums.
func tcpFrame(src, dst netip.AddrPort, seq, ack uint32, f tcpFlags, payload []byte, fromServer bool) ([]byte, error) {
	ip, err := ipPacket(src, dst, seq, ack, f, payload)
	if err != nil {
		return nil, err
	}
	return ethernet(ip, !fromServer, false), nil
}
