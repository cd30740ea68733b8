package packet

import (
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// rawTCP builds a raw IPv4/TCP frame (RFC 791, RFC 9293 layouts through
// gopacket's serialisers).
func rawTCP(t *testing.T, src, dst netip.AddrPort, seq uint32, win uint16, syn, ack bool, payload []byte) *Frame {
	t.Helper()
	ip := &layers.IPv4{Version: 4, TTL: 128, Protocol: layers.IPProtocolTCP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), Seq: seq, SYN: syn, ACK: ack, Window: win}
	_ = tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, tcp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return &Frame{LinkType: layers.LinkTypeRaw, Data: append([]byte(nil), buf.Bytes()...), Time: time.Unix(1, 0)}
}

var (
	tcpClient = netip.MustParseAddrPort("10.0.0.5:50000")
	tcpServer = netip.MustParseAddrPort("10.0.0.1:8080")
)

// TestProxyRefused: a CONNECT answered "407 Proxy Authentication
// Required" (RFC 9110 §15.5.8) is a failed tunnel, shown with its status.
func TestProxyRefused(t *testing.T) {
	tr := NewTracker()
	tr.Add(rawTCP(t, tcpClient, tcpServer, 100, 1000, true, false, nil))
	tr.Add(rawTCP(t, tcpServer, tcpClient, 900, 1000, true, true, nil))
	tr.Add(rawTCP(t, tcpClient, tcpServer, 101, 1000, false, true, []byte("CONNECT outlook.office365.com:443 HTTP/1.1\r\nHost: outlook.office365.com:443\r\n\r\n")))
	tr.Add(rawTCP(t, tcpServer, tcpClient, 901, 1000, false, true, []byte("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Negotiate\r\nContent-Length: 0\r\n\r\n")))
	c := tr.Conversations()[0]
	if o := c.Outcome(); o.Kind != OutcomeProxyRefused || o.String() != "proxy refused CONNECT (407)" || !o.Failed() || c.Proxy.Target != "outlook.office365.com:443" {
		t.Errorf("outcome %v, proxy %+v", o, c.Proxy)
	}
	// Plain HTTP is not a tunnel and not TLS.
	tr = NewTracker()
	tr.Add(rawTCP(t, tcpClient, tcpServer, 99, 1000, true, false, nil))
	tr.Add(rawTCP(t, tcpClient, tcpServer, 100, 1000, false, true, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")))
	if c := tr.Conversations()[0]; c.Proxy != nil || c.Outcome().Kind != OutcomeNotTLS {
		t.Errorf("GET: %v %+v", c.Outcome(), c.Proxy)
	}
}

// TestZeroWindowProbe: after the receiver advertised a zero window, the
// sender's one-byte segment at the next sequence number is a probe
// (RFC 9293 §3.8.6.1) — counted, and still stream data. Repeated Windows
// keep-alives at the start of a capture are not data.
func TestZeroWindowProbe(t *testing.T) {
	tr := NewTracker()
	tr.Add(rawTCP(t, tcpClient, tcpServer, 100, 1000, true, false, nil))
	tr.Add(rawTCP(t, tcpServer, tcpClient, 900, 0, true, true, nil)) // window 0
	tr.Add(rawTCP(t, tcpClient, tcpServer, 101, 1000, false, true, []byte{0x16}))
	c := tr.Conversations()[0]
	if c.ZeroWindowProbes != 1 || c.Bytes[Client] != 1 {
		t.Errorf("probes %d, bytes %d", c.ZeroWindowProbes, c.Bytes[Client])
	}
	tr = NewTracker()
	for i := 0; i < 3; i++ {
		tr.Add(rawTCP(t, tcpClient, tcpServer, 4999, 1000, false, true, []byte{0}))
	}
	tr.Add(rawTCP(t, tcpClient, tcpServer, 5000, 1000, false, true, []byte{23, 3, 3, 0, 2, 1, 2}))
	c = tr.Conversations()[0]
	if c.KeepAlives != 3 || c.NotTLS || !c.MidStream || c.Bytes[Client] != 7 {
		t.Errorf("keep-alives %d, not TLS %v, mid-stream %v, bytes %d", c.KeepAlives, c.NotTLS, c.MidStream, c.Bytes[Client])
	}
}

// TestPortZero: a segment with port 0 is a misread header, never a
// connection ("A:0 → B:0" rows).
func TestPortZero(t *testing.T) {
	tr := NewTracker()
	tr.Add(rawTCP(t, netip.MustParseAddrPort("10.0.0.5:0"), netip.MustParseAddrPort("10.0.0.1:0"), 1, 1, false, true, nil))
	if len(tr.Conversations()) != 0 || tr.Stats().Undecodable != 1 {
		t.Errorf("port 0 became a connection: %+v", tr.Stats())
	}
}
