package packet_test

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/internal/etltest"
	"github.com/etlscope/etlscope/internal/nettrace"
	"github.com/etlscope/etlscope/packet"
	"github.com/etlscope/etlscope/tlswire"
	"github.com/etlscope/etlscope/tlswire/tlstest"
)

// handshakeWrites runs a real crypto/tls handshake and interleaves the two
// sides' writes as they ran: client flight, server flight, and so on.
func handshakeWrites(t testing.TB, client, server *tls.Config) []nettrace.Write {
	t.Helper()
	res := tlstest.Handshake(t, client, server)
	var writes []nettrace.Write
	ci, si := 0, 0
	for ci < len(res.Client) || si < len(res.Server) {
		if ci < len(res.Client) {
			writes = append(writes, nettrace.Write{Data: res.Client[ci]})
			ci++
		}
		if si < len(res.Server) {
			writes = append(writes, nettrace.Write{FromServer: true, Data: res.Server[si]})
			si++
		}
	}
	return writes
}

// shape is one capture shape: a TCP connection logged the way a Windows
// capture logs it, and what the tracker must make of it.
type shape struct {
	name    string
	session nettrace.Session
	extra   func(b *nettrace.Builder) // other frames in the same capture
	check   func(t *testing.T, c *packet.Conversation, st packet.FrameStats, frames []*packet.Frame)
	tshark  bool // compare with tshark (SNI, versions, cipher, alert kind)
}

func shapes(t testing.TB) []shape {
	cert := tlstest.SelfSigned(t, "outlook.office365.com")
	cli := func(max uint16) *tls.Config {
		return &tls.Config{ServerName: "outlook.office365.com", InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, MaxVersion: max}
	}
	srv := func(min uint16) *tls.Config {
		return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: min}
	}
	tls13 := handshakeWrites(t, cli(tls.VersionTLS13), srv(tls.VersionTLS12))
	tls12 := handshakeWrites(t, cli(tls.VersionTLS12), srv(tls.VersionTLS12))
	rejected := handshakeWrites(t, cli(tls.VersionTLS10), srv(tls.VersionTLS12))
	// TLS 1.3 with a HelloRetryRequest: the client's only key share is
	// X25519, the server accepts P-256 only (RFC 8446 §4.1.4).
	hrrClient := cli(tls.VersionTLS13)
	hrrClient.CurvePreferences = []tls.CurveID{tls.X25519, tls.CurveP256}
	hrrServer := srv(tls.VersionTLS12)
	hrrServer.CurvePreferences = []tls.CurveID{tls.CurveP256}
	hrr := handshakeWrites(t, hrrClient, hrrServer)
	// After the handshake: application data and the client's encrypted
	// close_notify (the last two client writes of a TLS 1.2 connection).
	var after []nettrace.Write
	for _, w := range tls12[len(tls12)-4:] {
		if !w.FromServer {
			after = append(after, w)
		}
	}
	proxy := append([]nettrace.Write{
		{Data: []byte("CONNECT outlook.office365.com:443 HTTP/1.1\r\nHost: outlook.office365.com:443\r\nProxy-Connection: keep-alive\r\n\r\n")},
		{FromServer: true, Data: []byte("HTTP/1.1 200 Connection established\r\n\r\n")},
	}, tls12...)
	c := func(port uint16) netip.AddrPort { return netip.AddrPortFrom(client.Addr(), port) }
	wantOK := func(version tlswire.Version) func(t *testing.T, c *packet.Conversation, st packet.FrameStats, _ []*packet.Frame) {
		return func(t *testing.T, c *packet.Conversation, st packet.FrameStats, _ []*packet.Frame) {
			if c.Outcome().Kind != packet.OutcomeOK || c.NegotiatedVersion() != version || c.ClientHello == nil || c.ClientHello.SNI != "outlook.office365.com" {
				t.Errorf("outcome %s, version %s, hello %+v", c.Outcome(), c.NegotiatedVersion(), c.ClientHello)
			}
			if st.Undecodable != 0 || c.Gaps {
				t.Errorf("undecodable %d, gaps %v", st.Undecodable, c.Gaps)
			}
		}
	}
	return []shape{
		{
			// NDIS native 802.11 (keyword 0x10000): no FCS, Protected bit
			// set on decrypted frames (providers.md §1.2). Before the fix
			// every segment lost 4 bytes and bare ACKs became "A:0 → B:0".
			name:    "802.11 NDIS, no FCS, TLS 1.3",
			session: nettrace.Session{Client: c(50001), Server: o365, Writes: tls13, End: nettrace.EndClientFIN, Link: nettrace.Link80211, MSS: 600},
			extra: func(b *nettrace.Builder) {
				// An 802.11 QoS Null frame and a beacon: not TCP. An
				// Ethernet frame cut inside its IP header: undecodable.
				b.NDISFrameTruncated(append([]byte{0xc8, 0x01, 0, 0}, make([]byte, 22)...), true, 7, false, true, false)
				b.NDISFrameTruncated(append([]byte{0x80, 0x00, 0, 0}, make([]byte, 40)...), false, 7, false, true, false)
				b.NDISFrameTruncated([]byte{0, 0x15, 0x5d, 1, 2, 3, 0, 0x15, 0x5d, 0xaa, 0xbb, 0xcc, 8, 0, 0x45, 0, 0, 40}, false, 7, false, false, true)
			},
			check: func(t *testing.T, c *packet.Conversation, st packet.FrameStats, frames []*packet.Frame) {
				wantOK(tlswire.TLS13)(t, c, packet.FrameStats{}, nil)
				if st.NotTCP != 2 || st.Undecodable != 1 {
					t.Errorf("stats %+v, want 2 not TCP and 1 undecodable", st)
				}
				for _, f := range frames {
					if f.FCS || (f.Data[1]&0x40 != 0) {
						t.Fatalf("frame with FCS or Protected bit: %+v", f)
					}
				}
			},
			tshark: true,
		},
		{
			name:    "802.11 PktMon, TLS 1.2",
			session: nettrace.Session{Client: c(50002), Server: o365, Writes: tls12, End: nettrace.EndClientFIN, Link: nettrace.Link80211, Capture: nettrace.CapturePktMon},
			check:   wantOK(tlswire.TLS12),
			tshark:  true,
		},
		{
			// 802.1Q-tagged Ethernet; a keep-alive (one byte at ISN, i.e.
			// next−1) before the ClientHello; the server refuses TLS 1.0.
			name:    "VLAN, keep-alive, alert 70",
			session: nettrace.Session{Client: c(50003), Server: o365, Writes: rejected, End: nettrace.EndServerFIN, Link: nettrace.LinkVLAN, KeepAlive: true},
			check: func(t *testing.T, c *packet.Conversation, _ packet.FrameStats, _ []*packet.Frame) {
				if got := c.Outcome().String(); got != "alert 70 protocol_version by server" || c.KeepAlives != 1 {
					t.Errorf("outcome %q, keep-alives %d", got, c.KeepAlives)
				}
			},
			tshark: true,
		},
		{
			// Windows 11 PktMon: DirTag Rx (3) / Tx (4) at the NIC, a copy
			// of every packet at the TCP/IP component (type IP, In/Out,
			// same PktGroupId/PktNumber, Appearance 2), and a drop event.
			name: "PktMon copies and drop, TLS 1.3 HelloRetryRequest",
			session: nettrace.Session{Client: c(50004), Server: o365, Writes: hrr, End: nettrace.EndClientFIN, Capture: nettrace.CapturePktMon,
				PktMonCopies: true, DropAck: true},
			check: func(t *testing.T, c *packet.Conversation, st packet.FrameStats, frames []*packet.Frame) {
				wantOK(tlswire.TLS13)(t, c, st, nil)
				if c.HelloRetry == nil || !c.HelloRetry.HelloRetryRequest || c.ClientHelloRetry == nil || c.ServerHello.CipherSuite == 0 {
					t.Errorf("HRR %+v, second hello %+v, final %+v", c.HelloRetry, c.ClientHelloRetry, c.ServerHello)
				}
				if c.Drops != 1 || c.DropLocation != 0xE0004001 || st.Drops != 1 || st.Copies == 0 || c.Duplicates != st.Copies {
					t.Errorf("drops %d (%#x), stats %+v, duplicates %d", c.Drops, c.DropLocation, st, c.Duplicates)
				}
				for _, f := range frames {
					if f.Direction == packet.DirUnknown {
						t.Fatalf("PktMon frame without a direction: %+v", f)
					}
				}
			},
			tshark: true,
		},
		{
			// Capture started mid-connection: a keep-alive first, then
			// application data and an encrypted close_notify, as raw IP
			// (PktMon type IP).
			name:    "mid-connection start, raw IP, keep-alive, encrypted alert",
			session: nettrace.Session{Client: c(50005), Server: o365, Writes: after, NoHandshake: true, KeepAlive: true, Link: nettrace.LinkRawIP, Capture: nettrace.CapturePktMon},
			check: func(t *testing.T, c *packet.Conversation, _ packet.FrameStats, _ []*packet.Frame) {
				if got := c.Outcome().String(); got != "TLS, handshake not captured" || !c.MidStream || c.HandshakeCaptured() ||
					c.RecordVersion[packet.Client] != tlswire.TLS12 || c.EncryptedAlert() != packet.Client || c.KeepAlives != 1 || c.Outcome().Failed() {
					t.Errorf("outcome %q, mid %v, record %v, alert by %v, keep-alives %d", got, c.MidStream, c.RecordVersion, c.EncryptedAlert(), c.KeepAlives)
				}
			},
			tshark: true,
		},
		{
			// Explicit proxy (RFC 9110 §9.3.6): CONNECT, 200, then TLS.
			name:    "HTTP CONNECT tunnel",
			session: nettrace.Session{Client: c(50006), Server: netip.MustParseAddrPort("10.0.0.1:8080"), Writes: proxy, End: nettrace.EndClientFIN},
			check: func(t *testing.T, c *packet.Conversation, st packet.FrameStats, f []*packet.Frame) {
				wantOK(tlswire.TLS12)(t, c, st, f)
				if c.Proxy == nil || c.Proxy.Target != "outlook.office365.com:443" || c.Proxy.Status != 200 {
					t.Errorf("proxy %+v", c.Proxy)
				}
			},
			tshark: true,
		},
		{
			// pktmon's default --pkt-size is 128 bytes: the ClientHello is
			// cut after its version and random.
			name:    "PktMon snap length 128",
			session: nettrace.Session{Client: c(50007), Server: o365, Writes: tls12, End: nettrace.EndClientFIN, Capture: nettrace.CapturePktMon, Snaplen: 128},
			check: func(t *testing.T, c *packet.Conversation, _ packet.FrameStats, _ []*packet.Frame) {
				ch := c.ClientHello
				if ch == nil || !ch.Truncated || ch.LegacyVersion != tlswire.TLS12 || ch.VersionsKnown() || !c.Truncated {
					t.Fatalf("hello %+v", ch)
				}
				if c.ServerHello == nil || c.ServerHello.LegacyVersion != tlswire.TLS12 {
					t.Errorf("server hello %+v", c.ServerHello)
				}
			},
		},
		{
			// NDIS with a snap length: keyword PacketTruncated; pcapng
			// must carry the original length from the IP header.
			name:    "NDIS snap length 128",
			session: nettrace.Session{Client: c(50008), Server: o365, Writes: tls12, End: nettrace.EndClientFIN, Snaplen: 128},
			check: func(t *testing.T, c *packet.Conversation, _ packet.FrameStats, frames []*packet.Frame) {
				if c.ClientHello == nil || !c.ClientHello.Truncated {
					t.Fatalf("hello %+v", c.ClientHello)
				}
				// Original length = Ethernet header + IPv4 total length
				// (RFC 791), as etl2pcapng infers it.
				big := 0
				for _, f := range frames {
					want := 14 + (int(f.Data[16])<<8 | int(f.Data[17]))
					if f.OrigLen != max(want, len(f.Data)) {
						t.Errorf("frame of %d bytes: original length %d, IP header says %d", len(f.Data), f.OrigLen, want)
					}
					if f.OrigLen > len(f.Data) {
						big++
					}
				}
				if big == 0 {
					t.Error("no frame was cut")
				}
			},
		},
		{
			// VPN: Ras-NdisWanPacketCapture 5001/5002 with the frame
			// inside the tunnel.
			name:    "VPN Ras-NdisWan",
			session: nettrace.Session{Client: c(50009), Server: o365, Writes: tls12, End: nettrace.EndClientFIN, Capture: nettrace.CaptureRas},
			check: func(t *testing.T, c *packet.Conversation, st packet.FrameStats, frames []*packet.Frame) {
				wantOK(tlswire.TLS12)(t, c, st, frames)
				if frames[0].User != `CONTOSO\alice` || frames[0].Direction != packet.DirSent || frames[1].Direction != packet.DirReceived {
					t.Errorf("frame %+v", frames[0])
				}
			},
			tshark: true,
		},
	}
}

// runShape writes the shape's capture as an ETL file, reads it back through
// the extractor and the tracker, and exports the pcapng.
func runShape(t *testing.T, s shape, pcapPath string) ([]*packet.Conversation, packet.FrameStats, []*packet.Frame, int) {
	b := nettrace.New(etltest.Options{Build: 22621})
	if err := b.TCPSession(s.session); err != nil {
		t.Fatal(err)
	}
	if s.extra != nil {
		s.extra(b)
	}
	data, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	f, err := etl.NewFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	pw := packet.NewPcapWriter(&buf, "etlscope test")
	x, tr := packet.NewExtractor(), packet.NewTracker()
	var frames []*packet.Frame
	events := 0
	for ev, err := range f.Events(etl.ReadOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		if !packet.IsPacketEvent(ev) {
			continue
		}
		events++
		fr, err := x.Add(ev)
		if err != nil || fr == nil {
			t.Fatalf("event %d: %v", ev.ID, err)
		}
		frames = append(frames, fr.Clone())
		tr.Add(fr)
		if err := pw.Write(fr); err != nil {
			t.Fatal(err)
		}
	}
	if err := pw.Flush(); err != nil {
		t.Fatal(err)
	}
	if pw.Packets() != events {
		t.Errorf("pcapng has %d packets for %d packet events", pw.Packets(), events)
	}
	if err := os.WriteFile(pcapPath, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return tr.Conversations(), tr.Stats(), frames, events
}

func TestCaptureShapes(t *testing.T) {
	tshark, _ := exec.LookPath("tshark")
	for _, s := range shapes(t) {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "x.pcapng")
			convs, st, frames, events := runShape(t, s, out)
			if len(convs) != 1 {
				for _, c := range convs {
					t.Logf("%s %s", c.Key(), c.Outcome())
				}
				t.Fatalf("%d conversations, want 1 (no phantom rows)", len(convs))
			}
			if st.Frames != events {
				t.Errorf("tracker saw %d frames of %d events", st.Frames, events)
			}
			s.check(t, convs[0], st, frames)
			checkPcapLengths(t, out, frames)
			if !s.tshark {
				return
			}
			if tshark == "" {
				t.Skip("tshark not installed (apt-get install tshark): skipping the Wireshark cross-check")
			}
			got := tsharkView(t, tshark, out)
			want := trackerView(convs[0])
			t.Logf("tshark: %s", got)
			if got != want {
				t.Errorf("tshark and the tracker disagree:\ntshark:  %s\ntracker: %s", got, want)
			}
		})
	}
}

// checkPcapLengths reads the pcapng back: one packet per frame, original
// lengths as the frames say.
func checkPcapLengths(t *testing.T, path string, frames []*packet.Frame) {
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r, err := pcapgo.NewNgReader(fh, pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		_, ci, err := r.ReadPacketData()
		if err != nil {
			if i != len(frames) {
				t.Errorf("pcapng has %d packets, want %d", i, len(frames))
			}
			return
		}
		if i < len(frames) && ci.Length != max(frames[i].OrigLen, len(frames[i].Data)) {
			t.Errorf("packet %d: original length %d, frame says %d", i, ci.Length, frames[i].OrigLen)
		}
	}
}

// view is what both sides are compared on, per connection.
func view(sni string, offered []string, selected, cipher string, hrr bool, alerts []string) string {
	return fmt.Sprintf("sni=%s offered=%s selected=%s cipher=%s hrr=%v alerts=%s", sni, strings.Join(offered, ","), selected, cipher, hrr, strings.Join(alerts, ","))
}

func trackerView(c *packet.Conversation) string {
	var sni, selected, cipher string
	var offered, alerts []string
	if ch := c.ClientHello; ch != nil {
		sni = ch.SNI
		for _, v := range ch.SupportedVersions {
			offered = append(offered, fmt.Sprintf("0x%04x", uint16(v)))
		}
		if len(offered) == 0 {
			offered = []string{fmt.Sprintf("0x%04x", uint16(ch.LegacyVersion))}
		}
	}
	if sh := c.ServerHello; sh != nil {
		selected = fmt.Sprintf("0x%04x", uint16(sh.SelectedVersion))
		cipher = fmt.Sprintf("0x%04x", sh.CipherSuite)
	}
	for _, a := range c.Alerts {
		if a.Alert.Encrypted {
			alerts = append(alerts, "encrypted")
		} else {
			alerts = append(alerts, fmt.Sprint(a.Alert.Description))
		}
	}
	return view(sni, offered, selected, cipher, c.HelloRetry != nil, alerts)
}

// tsharkView reads the same facts from tshark's dissection of the pcapng.
func tsharkView(t *testing.T, tshark, path string) string {
	fields := []string{"tls.handshake.type", "tls.handshake.extensions_server_name", "tls.handshake.version",
		"tls.handshake.extensions.supported_version", "tls.handshake.ciphersuite", "tls.handshake.random",
		"tls.record.content_type", "tls.alert_message.desc"}
	args := []string{"-r", path, "-Y", "tls", "-T", "fields", "-E", "separator=;", "-E", "occurrence=a", "-E", "aggregator=|"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command(tshark, args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	const hrrRandom = "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"
	var sni, selected, cipher string
	var offered, alerts []string
	hrr, firstCH := false, true
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		col := strings.Split(line, ";")
		if len(col) < len(fields) {
			continue
		}
		split := func(s string) []string {
			if s == "" {
				return nil
			}
			return strings.Split(s, "|")
		}
		types, versions, sv := split(col[0]), split(col[2]), split(col[3])
		switch {
		case slices.Contains(types, "1") && firstCH:
			firstCH = false
			sni = col[1]
			offered = sv
			if len(offered) == 0 && len(versions) > 0 {
				offered = versions[:1]
			}
		case slices.Contains(types, "2"):
			if strings.Contains(col[5], hrrRandom) {
				hrr = true
				continue
			}
			selected = versions[0]
			if len(sv) > 0 {
				selected = sv[0]
			}
			cipher = col[4]
		}
		descs := split(col[7])
		for _, ct := range split(col[6]) {
			if ct != "21" {
				continue
			}
			if len(descs) > 0 {
				alerts = append(alerts, descs[0])
				descs = descs[1:]
			} else {
				alerts = append(alerts, "encrypted")
			}
		}
	}
	return view(sni, offered, selected, cipher, hrr, alerts)
}
