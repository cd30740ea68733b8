package packet

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/etlscope/etlscope/etl"
)

func ndisEvent(cpu uint16, kw uint64, frag []byte, trailing bool) *etl.Event {
	p := binary.LittleEndian.AppendUint32(nil, 3)
	p = binary.LittleEndian.AppendUint32(p, 9)
	p = binary.LittleEndian.AppendUint32(p, uint32(len(frag)))
	p = append(p, frag...)
	if trailing {
		p = append(p, make([]byte, 16)...)
	}
	return &etl.Event{Kind: etl.KindEventHeader, Provider: NDISPacketCapture, ID: ndisFragment, CPU: cpu, Keywords: kw, PID: 4, Time: time.Unix(1, 0), UserData: p}
}

func TestNDISFrames(t *testing.T) {
	x := NewExtractor()
	// Windows 8.1+: one event per frame, both flags set, trailing fields.
	f, err := x.Add(ndisEvent(0, kwEthernet|kwPacketStart|kwPacketEnd|kwSendPath, []byte("abcdef"), true))
	if err != nil || f == nil || string(f.Data) != "abcdef" || f.Direction != DirSent || f.LinkType != layers.LinkTypeEthernet || f.Interface != 9 || f.Miniport != 3 {
		t.Fatalf("single: %+v %v", f, err)
	}
	// Before 8.1: start, middle, end on one CPU, interleaved with another CPU.
	steps := []struct {
		cpu  uint16
		kw   uint64
		data string
		want string
	}{
		{1, kwEthernet | kwPacketStart | kwReceivePath, "he", ""},
		{2, kwEthernet | kwPacketStart | kwPacketEnd, "other", "other"},
		{1, kwEthernet | kwReceivePath, "ll", ""},
		{1, kwEthernet | kwPacketEnd | kwReceivePath, "o", "hello"},
	}
	for i, s := range steps {
		f, err := x.Add(ndisEvent(s.cpu, s.kw, []byte(s.data), false))
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		got := ""
		if f != nil {
			got = string(f.Data)
		}
		if got != s.want {
			t.Errorf("step %d: frame %q, want %q", i, got, s.want)
		}
	}
	// A continuation without a start is an error, not a frame.
	if f, err := x.Add(ndisEvent(5, kwEthernet|kwPacketEnd, []byte("x"), false)); err == nil || f != nil {
		t.Errorf("orphan continuation: %v %v", f, err)
	}
	// 802.11: the Protected bit is cleared; WWAN is raw IP; truncation flagged.
	f, _ = x.Add(ndisEvent(0, kwNative80211|kwPacketStart|kwPacketEnd|kwPacketTruncated, []byte{0x08, 0x41, 0, 0}, false))
	if f.LinkType != layers.LinkTypeIEEE802_11 || f.Data[1] != 0x01 || !f.Truncated {
		t.Errorf("802.11: %+v", f)
	}
	f, _ = x.Add(ndisEvent(0, kwWWAN|kwPacketStart|kwPacketEnd, []byte{0x45}, false))
	if f.LinkType != layers.LinkTypeRaw {
		t.Errorf("WWAN: %+v", f)
	}
	// A fragment size beyond the payload is an error.
	ev := ndisEvent(0, kwEthernet|kwPacketStart|kwPacketEnd, []byte("abc"), false)
	binary.LittleEndian.PutUint32(ev.UserData[8:], 1000)
	if _, err := x.Add(ev); err == nil {
		t.Error("oversized fragment accepted")
	}
}

func TestPktMonFrame(t *testing.T) {
	payload := []byte{0x45, 0, 0, 20}
	p := make([]byte, pktmonHeaderSize)
	binary.LittleEndian.PutUint16(p[12:], 2)  // DirTag: outbound
	binary.LittleEndian.PutUint16(p[14:], 3)  // PacketType: IP
	binary.LittleEndian.PutUint16(p[16:], 17) // ComponentId
	binary.LittleEndian.PutUint16(p[30:], 60) // OriginalPayloadSize
	binary.LittleEndian.PutUint16(p[32:], uint16(len(payload)))
	p = append(p, payload...)
	f, err := NewExtractor().Add(&etl.Event{Kind: etl.KindEventHeader, Provider: PktMon, ID: pktmonPacket, UserData: p})
	if err != nil || f == nil || f.LinkType != layers.LinkTypeRaw || f.Direction != DirSent || !f.Truncated || f.OrigLen != 60 || f.Interface != 17 || !bytes.Equal(f.Data, payload) {
		t.Fatalf("%+v %v", f, err)
	}
}

// FuzzFrames feeds arbitrary packet events through the extractor and the
// tracker: no panics, bounded memory. mode picks the event shape: NDIS
// 1001, PktMon 160, PktMon 170 (drop), Ras-NdisWan 5001.
func FuzzFrames(f *testing.F) {
	eth := []byte{0, 0x15, 0x5d, 1, 2, 3, 0, 0x15, 0x5d, 0xaa, 0xbb, 0xcc, 8, 0, 0x45, 0, 0, 40, 0, 0, 0x40, 0, 128, 6, 0, 0, 10, 0, 0, 5, 52, 97, 1, 2, 0xc3, 0xcb, 1, 0xbb, 0, 0, 3, 0xe8, 0, 0, 0, 0, 0x50, 2, 0xfa, 0xf0, 0, 0, 0, 0}
	wifi := append(append([]byte{0x88, 0x41, 0, 0}, make([]byte, 22)...), append([]byte{0xaa, 0xaa, 3, 0, 0, 0, 8, 0}, eth[14:]...)...)
	f.Add(uint64(kwEthernet|kwPacketStart|kwPacketEnd), eth, uint8(0))
	f.Add(uint64(kwWWAN|kwPacketStart|kwPacketEnd), []byte{0x45, 0, 0, 40}, uint8(1))
	f.Add(uint64(kwNative80211|kwPacketStart|kwPacketEnd), wifi, uint8(0))
	f.Add(uint64(2), wifi, uint8(2))
	f.Add(uint64(1), eth, uint8(3))
	f.Fuzz(func(t *testing.T, kw uint64, frame []byte, mode uint8) {
		x := NewExtractor()
		tr := NewTracker()
		for i := 0; i < 3; i++ {
			var ev *etl.Event
			switch mode % 4 {
			case 1, 2:
				id := uint16(pktmonPacket)
				if mode%4 == 2 {
					id = pktmonDrop
				}
				ev = pktmonEvent(id, uint16(kw>>8), uint16(kw%12), frame)
			case 3:
				p := append([]byte{'{', 0, '}', 0, 0, 0, 'u', 0, 0, 0}, binary.LittleEndian.AppendUint32(nil, uint32(len(frame)))...)
				ev = &etl.Event{Kind: etl.KindEventHeader, Provider: RasNdisWan, ID: rasSend, UserData: append(p, frame...)}
			default:
				ev = ndisEvent(uint16(i%2), kw, frame, i == 1)
			}
			fr, err := x.Add(ev)
			if err == nil && fr != nil {
				_ = comment(fr)
				tr.Add(fr)
				// Feed the payload again as TCP data of the same flow.
				tr.Add(fr)
			}
		}
		for _, c := range tr.Conversations() {
			_ = c.Outcome().String()
		}
		// Raw TCP/TLS bytes on a synthetic flow.
		tr.Add(&Frame{LinkType: layers.LinkTypeRaw, Data: frame})
		tr.Add(&Frame{LinkType: layers.LinkTypeIEEE802_11, Data: frame, FCS: true})
	})
}

func pktmonEvent(id uint16, dirTag, ptype uint16, payload []byte) *etl.Event {
	p := make([]byte, pktmonHeaderSize)
	binary.LittleEndian.PutUint64(p, 77)
	binary.LittleEndian.PutUint16(p[8:], 1)
	binary.LittleEndian.PutUint16(p[10:], 1)
	binary.LittleEndian.PutUint16(p[12:], dirTag)
	binary.LittleEndian.PutUint16(p[14:], ptype)
	binary.LittleEndian.PutUint16(p[16:], 9)
	binary.LittleEndian.PutUint32(p[22:], 0x19)
	binary.LittleEndian.PutUint32(p[26:], 0xE0004001)
	binary.LittleEndian.PutUint16(p[30:], uint16(len(payload)))
	binary.LittleEndian.PutUint16(p[32:], uint16(len(payload)))
	return &etl.Event{Kind: etl.KindEventHeader, Provider: PktMon, ID: id, UserData: append(p, payload...)}
}

// TestPktMonDirections: PKTMON_DIRECTION_TAG In/Rx/Ingress (1/3/5) are
// the receive path, Out/Tx/Egress (2/4/6) the send path (pktmonnpik.h);
// Windows 11 NIC components log Rx/Tx.
func TestPktMonDirections(t *testing.T) {
	want := map[uint16]Direction{0: DirUnknown, 1: DirReceived, 2: DirSent, 3: DirReceived, 4: DirSent, 5: DirReceived, 6: DirSent, 7: DirUnknown}
	for tag, d := range want {
		f, err := NewExtractor().Add(pktmonEvent(pktmonPacket, tag, pktmonIP, []byte{0x45, 0, 0, 20}))
		if err != nil || f.Direction != d {
			t.Errorf("DirTag %d: %v %v, want %v", tag, f.Direction, err, d)
		}
	}
	// Event 170 is a drop with its reason and location.
	f, err := NewExtractor().Add(pktmonEvent(pktmonDrop, 3, pktmonEthernet, make([]byte, 60)))
	if err != nil || !f.Drop || f.DropReason != 0x19 || f.DropLocation != 0xE0004001 || f.PktGroupID != 77 {
		t.Errorf("drop: %+v %v", f, err)
	}
	// Other payload types: an Ethernet frame is recognised, layer-4
	// payloads are kept (one pcapng packet per event) under USER0.
	eth := append([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 8, 0, 0x45}, make([]byte, 40)...)
	if f, _ := NewExtractor().Add(pktmonEvent(pktmonPacket, 1, pktmonUnknown, eth)); f.LinkType != layers.LinkTypeEthernet {
		t.Errorf("unknown type with an Ethernet frame: %v", f.LinkType)
	}
	if f, _ := NewExtractor().Add(pktmonEvent(pktmonPacket, 1, 5, []byte{1, 187, 2, 3})); f == nil || f.LinkType != LinkTypeUnknown {
		t.Errorf("TCP payload type: %+v", f)
	}
}

// TestRasFrame: Ras-NdisWanPacketCapture 5001/5002 carry RoutingDomainID
// and RRASUserName (UTF-16, NUL-terminated), FragmentSize and Fragment.
func TestRasFrame(t *testing.T) {
	u16 := func(s string) []byte {
		var b []byte
		for _, r := range s {
			b = binary.LittleEndian.AppendUint16(b, uint16(r))
		}
		return append(b, 0, 0)
	}
	ip := append([]byte{0x45, 0, 0, 40}, make([]byte, 36)...)
	p := append(append(u16("{D1}"), u16(`CONTOSO\bob`)...), binary.LittleEndian.AppendUint32(nil, uint32(len(ip)))...)
	p = append(p, ip...)
	f, err := NewExtractor().Add(&etl.Event{Kind: etl.KindEventHeader, Provider: RasNdisWan, ID: rasReceive, UserData: p})
	if err != nil || f.RoutingDomain != "{D1}" || f.User != `CONTOSO\bob` || f.LinkType != layers.LinkTypeRaw || f.Direction != DirReceived || len(f.Data) != 40 {
		t.Fatalf("%+v %v", f, err)
	}
	if _, err := NewExtractor().Add(&etl.Event{Kind: etl.KindEventHeader, Provider: RasNdisWan, ID: rasSend, UserData: p[:10]}); err == nil {
		t.Error("short event accepted")
	}
}

// TestLinkWalk: where the IP header starts for the link shapes Windows
// logs. 802.11 layouts per IEEE 802.11-2020 §9.3.2.1; LLC/SNAP per RFC 1042.
func TestLinkWalk(t *testing.T) {
	ip := append([]byte{0x45, 0, 0, 40}, make([]byte, 36)...)
	snapHdr := []byte{0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00}
	hdr := func(fc0, fc1 byte, n int) []byte { return append([]byte{fc0, fc1}, make([]byte, n-2)...) }
	withFCS := func(b []byte) []byte { return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b)) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name  string
		link  layers.LinkType
		data  []byte
		off   int
		class frameClass
		fcs   bool
	}{
		{"802.11 data, 3 addresses", layers.LinkTypeIEEE802_11, cat(hdr(0x08, 0x02, 24), snapHdr, ip), 32, classTCP, false},
		{"802.11 QoS data", layers.LinkTypeIEEE802_11, cat(hdr(0x88, 0x01, 26), snapHdr, ip), 34, classTCP, false},
		{"802.11 QoS data +HTC", layers.LinkTypeIEEE802_11, cat(hdr(0x88, 0x81, 30), snapHdr, ip), 38, classTCP, false},
		{"802.11 4 addresses QoS", layers.LinkTypeIEEE802_11, cat(hdr(0x88, 0x03, 32), snapHdr, ip), 40, classTCP, false},
		{"802.11 with FCS", layers.LinkTypeIEEE802_11, withFCS(cat(hdr(0x88, 0x01, 26), snapHdr, ip)), 34, classTCP, true},
		{"802.11 QoS Null", layers.LinkTypeIEEE802_11, hdr(0xc8, 0x01, 26), 0, classNotTCP, false},
		{"802.11 beacon", layers.LinkTypeIEEE802_11, hdr(0x80, 0, 40), 0, classNotTCP, false},
		{"802.11 still protected", layers.LinkTypeIEEE802_11, cat(hdr(0x88, 0x41, 26), make([]byte, 8), ip), 0, classUndecodable, false},
		{"802.11 cut", layers.LinkTypeIEEE802_11, hdr(0x88, 0x01, 20), 0, classUndecodable, false},
		{"Ethernet II", layers.LinkTypeEthernet, cat(make([]byte, 12), []byte{8, 0}, ip), 14, classTCP, false},
		{"802.1Q", layers.LinkTypeEthernet, cat(make([]byte, 12), []byte{0x81, 0, 0, 10, 8, 0}, ip), 18, classTCP, false},
		{"QinQ", layers.LinkTypeEthernet, cat(make([]byte, 12), []byte{0x88, 0xa8, 0, 10, 0x81, 0, 0, 20, 8, 0}, ip), 22, classTCP, false},
		{"802.3 + SNAP", layers.LinkTypeEthernet, cat(make([]byte, 12), []byte{0, 48}, snapHdr, ip), 22, classTCP, false},
		{"ARP", layers.LinkTypeEthernet, cat(make([]byte, 12), []byte{8, 6}, make([]byte, 28)), 0, classNotTCP, false},
		{"raw IPv4", layers.LinkTypeRaw, ip, 0, classTCP, false},
		{"raw garbage", layers.LinkTypeRaw, []byte{0x12, 0x34}, 0, classUndecodable, false},
	}
	for _, tt := range tests {
		f := &Frame{LinkType: tt.link, Data: tt.data}
		if tt.link == layers.LinkTypeIEEE802_11 {
			f.FCS = hasFCS(f.Data)
		}
		off, class := linkWalk(f)
		if class != tt.class || (class == classTCP && off != tt.off) || f.FCS != tt.fcs {
			t.Errorf("%s: offset %d class %d fcs %v, want %d %d %v", tt.name, off, class, f.FCS, tt.off, tt.class, tt.fcs)
		}
	}
	// gopacket's Dot11 layer would take the last 4 bytes of an FCS-less
	// frame as its checksum: the TCP segment decoded here keeps them.
	tcpSeg := []byte{0xc3, 0x50, 0x01, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xfa, 0xf0, 0, 0, 0, 0, 'd', 'a', 't', 'a'}
	ip2 := cat([]byte{0x45, 0, 0, byte(20 + len(tcpSeg)), 0, 0, 0x40, 0, 128, 6, 0, 0, 10, 0, 0, 5, 52, 97, 1, 2}, tcpSeg)
	s, class := newDecoder().segment(&Frame{LinkType: layers.LinkTypeIEEE802_11, Data: cat(hdr(0x88, 0x01, 26), snapHdr, ip2)})
	if class != classTCP || string(s.Payload) != "data" {
		t.Errorf("802.11 TCP payload %q (class %d)", s.Payload, class)
	}
}
