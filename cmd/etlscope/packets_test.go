package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/etlscope/etlscope/internal/etltest"
	"github.com/etlscope/etlscope/internal/nettrace"
	"github.com/etlscope/etlscope/tlswire/tlstest"
)

// pktmonTrace is a Windows 11 pktmon capture (PktMon events 160/170, see
// nettrace): a TLS 1.2 connection through an explicit proxy, logged at the
// NIC and again at the TCP/IP component with one drop; a second connection
// cut by pktmon's default 128-byte snap length; one frame cut inside its
// IP header.
func pktmonTrace(t *testing.T) (path string, events int) {
	t.Helper()
	cert := tlstest.SelfSigned(t, "outlook.office365.com")
	res := tlstest.Handshake(t, &tls.Config{ServerName: "outlook.office365.com", InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12},
		&tls.Config{Certificates: []tls.Certificate{cert}})
	var hs []nettrace.Write
	for i := 0; i < max(len(res.Client), len(res.Server)); i++ {
		if i < len(res.Client) {
			hs = append(hs, nettrace.Write{Data: res.Client[i]})
		}
		if i < len(res.Server) {
			hs = append(hs, nettrace.Write{FromServer: true, Data: res.Server[i]})
		}
	}
	proxy := append([]nettrace.Write{
		{Data: []byte("CONNECT outlook.office365.com:443 HTTP/1.1\r\nHost: outlook.office365.com:443\r\n\r\n")},
		{FromServer: true, Data: []byte("HTTP/1.1 200 Connection established\r\n\r\n")},
	}, hs...)
	b := nettrace.New(etltest.Options{Build: 22631})
	if err := b.TCPSession(nettrace.Session{Client: netip.MustParseAddrPort("10.0.0.5:50100"), Server: netip.MustParseAddrPort("10.0.0.1:8080"),
		Writes: proxy, End: nettrace.EndClientFIN, Capture: nettrace.CapturePktMon, PktMonCopies: true, DropAck: true}); err != nil {
		t.Fatal(err)
	}
	if err := b.TCPSession(nettrace.Session{Client: netip.MustParseAddrPort("10.0.0.5:50101"), Server: netip.MustParseAddrPort("52.97.1.2:443"),
		Writes: hs, End: nettrace.EndClientFIN, Capture: nettrace.CapturePktMon, Snaplen: 128}); err != nil {
		t.Fatal(err)
	}
	b.PktMonPacket(160, nettrace.PktMonMeta{Group: 1, Number: 1, Appearance: 1, Dir: 3, Type: 1, Component: 9, Original: 60}, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 8, 0, 0x45, 0})
	data, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(tempDir(t), "PktMon.etl")
	os.WriteFile(path, data, 0o644)
	return path, b.W.Len()
}

func TestPktMonConversationsAndPcap(t *testing.T) {
	path, _ := pktmonTrace(t)
	code, out, errs := runCLI(t, "conversations", path, "-o", "csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"proxy 10.0.0.1:8080 → CONNECT outlook.office365.com:443,,outlook.office365.com,TLS 1.2,",
		"tunnel via proxy, 200; 1 packet dropped by Windows, reason 0x19 location 0xe0004001",
		"≥ TLS 1.2 (hello truncated)",
		"frames cut by the capture's snap length",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("conversations lacks %q:\n%s", want, out)
		}
	}
	if rows(out) != 2 {
		t.Errorf("want 2 connections:\n%s", out)
	}
	if !strings.Contains(errs, "1 undecodable") || !strings.Contains(errs, "1 dropped by Windows") || !strings.Contains(errs, "PktMon copies") {
		t.Errorf("frame note missing: %s", errs)
	}
	// The same counts are part of the output itself (issue 18: counted in
	// the conversations output, never turned into connections).
	if !strings.Contains(out, "# frames: ") || !strings.Contains(out, "1 undecodable") {
		t.Errorf("CSV lacks the frame counts:\n%s", out)
	}
	_, js, _ := runCLI(t, "conversations", path, "-o", "json")
	var doc ConversationsJSON
	if err := json.Unmarshal([]byte(js), &doc); err != nil || doc.Frames.Undecodable != 1 || doc.Frames.Drops != 1 || doc.Frames.Copies == 0 {
		t.Errorf("JSON frames %+v (%v)", doc.Frames, err)
	}
	code, out, _ = runCLI(t, "conversations", path, "--redact", "-o", "csv")
	// outlook.office365.com is a public name, kept under --redact (issue 14).
	if code != 0 || strings.Contains(out, "10.0.0.1") || !strings.Contains(out, "ip-1") {
		t.Errorf("redacted:\n%s", out)
	}

	// pcap: one pcapng packet per packet event, drops and copies included.
	pc := filepath.Join(tempDir(t), "x.pcapng")
	if code, _, errs := runCLI(t, "pcap", path, pc); code != 0 {
		t.Fatalf("pcap: exit %d: %s", code, errs)
	}
	_, evOut, _ := runCLI(t, "events", path, "-f", `provider == "Microsoft-Windows-PktMon"`, "-o", "csv")
	events := rows(evOut)
	fh, err := os.Open(pc)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r, err := pcapgo.NewNgReader(fh, pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err != nil {
		t.Fatal(err)
	}
	n, drops := 0, 0
	for {
		_, _, opts, err := r.ReadPacketDataWithOptions()
		if err != nil {
			break
		}
		n++
		if len(opts.Comments) > 0 && strings.Contains(opts.Comments[0], "Drop: DropReason=0x19 DropLocation=0xe0004001") {
			drops++
		}
	}
	if n != events || drops != 1 || events < 20 {
		t.Errorf("pcapng: %d packets (%d drops) for %d PktMon events", n, drops, events)
	}
}

// rows counts the data rows of CSV output (no header, no "# integrity"
// comment lines).
func rows(csv string) int {
	n := -1
	for _, l := range strings.Split(strings.TrimSpace(csv), "\n") {
		if !strings.HasPrefix(l, "#") {
			n++
		}
	}
	return n
}

// TestRasUserNotShown: the RRAS user name of VPN packet events
// (Ras-NdisWanPacketCapture 5001/5002) is personal data: not in the event
// text, nor in the pcapng comments.
func TestRasUserNotShown(t *testing.T) {
	b := nettrace.New(etltest.Options{Build: 22631})
	if err := b.TCPSession(nettrace.Session{Client: netip.MustParseAddrPort("10.0.0.5:50100"), Server: netip.MustParseAddrPort("52.97.1.2:443"),
		End: nettrace.EndClientFIN, Capture: nettrace.CaptureRas}); err != nil {
		t.Fatal(err)
	}
	data, _ := b.Bytes()
	path := filepath.Join(tempDir(t), "vpn.etl")
	os.WriteFile(path, data, 0o644)
	code, out, _ := runCLI(t, "events", path, "-o", "csv")
	if code != 0 || strings.Contains(out, "alice") || !strings.Contains(out, "VPN packet sent") {
		t.Errorf("events: exit %d\n%s", code, out)
	}
	pc := filepath.Join(tempDir(t), "vpn.pcapng")
	if code, _, errs := runCLI(t, "pcap", path, pc); code != 0 {
		t.Fatalf("pcap: %d %s", code, errs)
	}
	if b, _ := os.ReadFile(pc); len(b) == 0 || bytes.Contains(b, []byte("alice")) || !bytes.Contains(b, []byte("RoutingDomainId=")) {
		t.Errorf("pcapng comment: user name present or routing domain missing")
	}
}
