package packet

import (
	"bytes"
	"encoding/binary"
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
// tracker: no panics, bounded memory.
func FuzzFrames(f *testing.F) {
	f.Add(uint64(kwEthernet|kwPacketStart|kwPacketEnd), []byte{0, 0x15, 0x5d, 1, 2, 3, 0, 0x15, 0x5d, 0xaa, 0xbb, 0xcc, 8, 0, 0x45, 0, 0, 40, 0, 0, 0x40, 0, 128, 6, 0, 0, 10, 0, 0, 5, 52, 97, 1, 2, 0xc3, 0xcb, 1, 0xbb, 0, 0, 3, 0xe8, 0, 0, 0, 0, 0x50, 2, 0xfa, 0xf0, 0, 0, 0, 0}, false)
	f.Add(uint64(kwWWAN|kwPacketStart|kwPacketEnd), []byte{0x45, 0, 0, 40}, true)
	f.Fuzz(func(t *testing.T, kw uint64, frame []byte, pktmon bool) {
		x := NewExtractor()
		tr := NewTracker()
		for i := 0; i < 3; i++ {
			var ev *etl.Event
			if pktmon {
				p := make([]byte, pktmonHeaderSize)
				binary.LittleEndian.PutUint16(p[14:], uint16(kw%4))
				binary.LittleEndian.PutUint16(p[32:], uint16(len(frame)))
				ev = &etl.Event{Kind: etl.KindEventHeader, Provider: PktMon, ID: pktmonPacket, UserData: append(p, frame...)}
			} else {
				ev = ndisEvent(uint16(i%2), kw, frame, i == 1)
			}
			fr, err := x.Add(ev)
			if err == nil && fr != nil {
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
	})
}
