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
}

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
	emit := func(fromServer bool, flags tcpFlags, payload []byte) error {
		src, dst := s.Client, s.Server
		seq, ack := cseq, sseq
		if fromServer {
			src, dst, seq, ack = s.Server, s.Client, sseq, cseq
		}
		frame, err := tcpFrame(src, dst, seq, ack, flags, payload, fromServer)
		if err != nil {
			return err
		}
		b.NDISFrame(frame, !fromServer, 7, s.Trailing)
		if s.DuplicateLayer {
			b.now = b.now.Add(-b.Step + time.Microsecond)
			b.NDISFrame(frame, !fromServer, 12, s.Trailing)
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
	for _, w := range s.Writes {
		for data := w.Data; len(data) > 0; {
			n := min(len(data), mss)
			if err := emit(w.FromServer, tcpFlags{ack: true, psh: n == len(data)}, data[:n]); err != nil {
				return err
			}
			data = data[n:]
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

// tcpFrame serialises an Ethernet/IPv4(or 6)/TCP frame with checksums.
func tcpFrame(src, dst netip.AddrPort, seq, ack uint32, f tcpFlags, payload []byte, fromServer bool) ([]byte, error) {
	eth := &layers.Ethernet{SrcMAC: clientMAC, DstMAC: routerMAC, EthernetType: layers.EthernetTypeIPv4}
	if fromServer {
		eth.SrcMAC, eth.DstMAC = routerMAC, clientMAC
	}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), Seq: seq, Ack: ack,
		SYN: f.syn, ACK: f.ack, FIN: f.fin, RST: f.rst, PSH: f.psh, Window: 64240}
	var net gopacket.NetworkLayer
	if src.Addr().Is4() {
		ip := &layers.IPv4{Version: 4, TTL: 128, Protocol: layers.IPProtocolTCP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice(), Flags: layers.IPv4DontFragment}
		net = ip
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
		net = &layers.IPv6{Version: 6, HopLimit: 128, NextHeader: layers.IPProtocolTCP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	}
	if err := tcp.SetNetworkLayerForChecksum(net); err != nil {
		return nil, fmt.Errorf("nettrace: %w", err)
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, eth, net.(gopacket.SerializableLayer), tcp, gopacket.Payload(payload)); err != nil {
		return nil, fmt.Errorf("nettrace: serialise frame: %w", err)
	}
	return append([]byte(nil), buf.Bytes()...), nil
}
