package packet

import (
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// seg builds a raw IPv4/TCP frame with the given flags ("S", "SA", "A",
// "FA", "R") at second at.
func seg(t *testing.T, src, dst netip.AddrPort, seq uint32, flags string, payload []byte, at int64) *Frame {
	t.Helper()
	ip := &layers.IPv4{Version: 4, TTL: 128, Protocol: layers.IPProtocolTCP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), Seq: seq, Window: 1000}
	for _, f := range flags {
		switch f {
		case 'S':
			tcp.SYN = true
		case 'A':
			tcp.ACK = true
		case 'F':
			tcp.FIN = true
		case 'R':
			tcp.RST = true
		}
	}
	_ = tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, tcp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return &Frame{LinkType: layers.LinkTypeRaw, Data: append([]byte(nil), buf.Bytes()...), Time: time.Unix(at, 0), PID: 4}
}

// TestOwners: the process named by a TCPIP connect event reaches its
// connection whether the event comes before the SYN (the usual order:
// Windows logs the connect request first), after the connection was
// decided and folded, or between two connections on one 4-tuple (port
// reuse: the second SYN starts a new connection, RFC 9293 §3.5).
func TestOwners(t *testing.T) {
	get := []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n") // not TLS: decided at once
	for i, fold := range []bool{true, false, true} {
		tr := NewTracker()
		tr.noFold = !fold
		tr.collide = i == 2 // every key in the overflow table
		// Owner first, then the connection.
		tr.SetOwner(tcpClient, tcpServer, 100)
		tr.Add(seg(t, tcpClient, tcpServer, 1, "S", nil, 1))
		tr.Add(seg(t, tcpServer, tcpClient, 500, "SA", nil, 1))
		tr.Add(seg(t, tcpClient, tcpServer, 2, "A", get, 1))
		tr.Add(seg(t, tcpClient, tcpServer, 2+uint32(len(get)), "FA", nil, 2))
		// Another connection: owner only after it was decided.
		other := netip.AddrPortFrom(tcpClient.Addr(), 50001)
		tr.Add(seg(t, other, tcpServer, 1, "S", nil, 3))
		tr.Add(seg(t, other, tcpServer, 2, "A", get, 3))
		tr.SetOwner(other, tcpServer, 300)
		// The first 4-tuple again: its owner's event before the SYN.
		tr.SetOwner(tcpClient, tcpServer, 200)
		tr.Add(seg(t, tcpClient, tcpServer, 9000, "S", nil, 4))
		tr.Add(seg(t, tcpServer, tcpClient, 700, "RA", nil, 4))
		convs := tr.Conversations()
		if len(convs) != 3 {
			t.Fatalf("fold %v: %d conversations, want 3", fold, len(convs))
		}
		for i, want := range []uint32{100, 300, 200} {
			if c := convs[i]; !c.PIDKnown || c.PID != want {
				t.Errorf("fold %v: conversation %d (%s): PID %d known %v, want %d", fold, i, c.Key(), c.PID, c.PIDKnown, want)
			}
		}
		if fold && Folded(tr) == 0 {
			t.Errorf("nothing folded")
		}
		if c := convs[0]; c.FinBy != Client || c.Frames != 4 || c.Outcome().Kind != OutcomeNotTLS {
			t.Errorf("fold %v: first connection %+v", fold, c)
		}
		if c := convs[2]; c.ResetBy != Server {
			t.Errorf("fold %v: reused 4-tuple: reset by %v", fold, c.ResetBy)
		}
	}
}

// TestSummaryOutside: times and byte counts that do not fit a summary's
// 32-bit fields (a connection open for hours, gigabytes through one
// connection, a clock that steps back) go to the side table and come back
// exact.
func TestSummaryOutside(t *testing.T) {
	tr := NewTracker()
	s := tr.sums.at(tr.sums.add())
	s.first = StampOf(time.Unix(1700000000, 123))
	for _, st := range []Stamp{0, s.first, s.first + 1, s.first + outside - 2, s.first + outside - 1, s.first + outside, s.first + 3600e9, s.first - 1, 1} {
		for i := range atCount {
			tr.setStamp(s, i, st)
			if got := tr.stamp(s, i); got != st {
				t.Errorf("time %d: %d, want %d", i, got, st)
			}
		}
	}
	for _, n := range []int64{0, 1, outside - 1, outside, 5 << 30, -1} {
		tr.setBytes(s, 1, n)
		if got := tr.byteCount(s, 1); got != n {
			t.Errorf("bytes: %d, want %d", got, n)
		}
	}

	// Through the tracker: a decided connection closed an hour later.
	flat, whole := NewTracker(), NewTrackerNoFold()
	get := []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	for _, tr := range []*Tracker{flat, whole} {
		tr.Add(seg(t, tcpClient, tcpServer, 1, "S", nil, 1))
		tr.Add(seg(t, tcpClient, tcpServer, 2, "A", get, 1))
		tr.Add(seg(t, tcpServer, tcpClient, 500, "RA", nil, 3601))
	}
	if Folded(flat) != 1 {
		t.Fatalf("%d folded", Folded(flat))
	}
	got, want := flat.Conversations()[0], whole.Conversations()[0]
	if got.LastSeen != want.LastSeen || got.ResetAt != want.ResetAt || got.ResetBy != Server || got.Bytes != want.Bytes {
		t.Errorf("last %v reset %v by %v bytes %v, want %v %v %v", got.LastSeen.Time(), got.ResetAt.Time(), got.ResetBy, got.Bytes, want.LastSeen.Time(), want.ResetAt.Time(), want.Bytes)
	}
}
