package packet_test

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/internal/etltest"
	"github.com/etlscope/etlscope/internal/nettrace"
	"github.com/etlscope/etlscope/packet"
	"github.com/etlscope/etlscope/tlswire/tlstest"
)

var (
	client = netip.MustParseAddrPort("10.0.0.5:50123")
	o365   = netip.MustParseAddrPort("52.97.1.2:443")
)

// scenario is one TLS connection to synthesise.
type scenario struct {
	name         string
	clientMax    uint16
	serverMin    uint16
	end          nettrace.Ending
	serverSilent bool // the server answers nothing (reset or close only)
	dup          bool
	wantOutcome  string
	wantVersion  string
	wantMax      string
}

var scenarios = []scenario{
	{name: "tls1.2 ok", clientMax: tls.VersionTLS12, serverMin: tls.VersionTLS12, end: nettrace.EndClientFIN, wantOutcome: "ok", wantVersion: "TLS 1.2", wantMax: "TLS 1.2"},
	{name: "tls1.3 ok", clientMax: tls.VersionTLS13, serverMin: tls.VersionTLS12, end: nettrace.EndClientFIN, wantOutcome: "ok", wantVersion: "TLS 1.3", wantMax: "TLS 1.3", dup: true},
	{name: "tls1.0 ok", clientMax: tls.VersionTLS10, serverMin: tls.VersionTLS10, end: nettrace.EndClientFIN, wantOutcome: "ok", wantVersion: "TLS 1.0", wantMax: "TLS 1.0"},
	{name: "tls1.0 rejected", clientMax: tls.VersionTLS10, serverMin: tls.VersionTLS12, end: nettrace.EndServerFIN, wantOutcome: "alert 70 protocol_version by server", wantMax: "TLS 1.0"},
	{name: "tls1.0 reset", clientMax: tls.VersionTLS10, serverMin: tls.VersionTLS12, end: nettrace.EndServerReset, serverSilent: true, wantOutcome: "reset by server", wantMax: "TLS 1.0"},
}

// buildTrace writes an ETL file with one connection per scenario.
func buildTrace(t testing.TB, sc []scenario) []byte {
	t.Helper()
	cert := tlstest.SelfSigned(t, "outlook.office365.com")
	b := nettrace.New(etltest.Options{Build: 9200})
	for i, s := range sc {
		res := tlstest.Handshake(t,
			&tls.Config{ServerName: "outlook.office365.com", InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, MaxVersion: s.clientMax},
			&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: s.serverMin})
		var writes []nettrace.Write
		for _, w := range res.Client[:1] { // the ClientHello flight
			writes = append(writes, nettrace.Write{Data: w})
		}
		if !s.serverSilent {
			writes = writes[:0]
			// Interleave as the handshake ran: client flight, server
			// flight, rest of the client, rest of the server.
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
		}
		c := client
		c = netip.AddrPortFrom(c.Addr(), c.Port()+uint16(i))
		if err := b.TCPSession(nettrace.Session{Client: c, Server: o365, Writes: writes, End: s.end, DuplicateLayer: s.dup, MSS: 600, Trailing: i%2 == 0}); err != nil {
			t.Fatal(err)
		}
	}
	data, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestConversations(t *testing.T) {
	data := buildTrace(t, scenarios)
	f, err := etl.NewFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	x := packet.NewExtractor()
	tr := packet.NewTracker()
	var frames []*packet.Frame
	for ev, err := range f.Events(etl.ReadOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		fr, err := x.Add(ev)
		if err != nil {
			t.Fatal(err)
		}
		if fr != nil {
			frames = append(frames, fr.Clone())
			tr.Add(fr)
		}
	}
	convs := tr.Conversations()
	if len(convs) != len(scenarios) {
		t.Fatalf("%d conversations, want %d", len(convs), len(scenarios))
	}
	for i, s := range scenarios {
		c := convs[i]
		t.Run(s.name, func(t *testing.T) {
			if c.Server != o365 || c.Client.Addr() != client.Addr() || !c.ClientKnown {
				t.Errorf("endpoints %v", c.Key())
			}
			if got := c.Outcome().String(); got != s.wantOutcome {
				t.Errorf("outcome %q, want %q", got, s.wantOutcome)
			}
			if c.ClientHello == nil || c.ClientHello.SNI != "outlook.office365.com" || c.ClientHello.MaxVersion().String() != s.wantMax {
				t.Fatalf("ClientHello %+v", c.ClientHello)
			}
			if got := c.NegotiatedVersion().String(); got != s.wantVersion {
				t.Errorf("negotiated %q, want %q", got, s.wantVersion)
			}
			if s.dup && c.Duplicates == 0 {
				t.Error("duplicate frames not recognised")
			}
			if !s.dup && c.Duplicates != 0 {
				t.Errorf("%d false duplicates", c.Duplicates)
			}
		})
	}

	// pcapng export: readable, same packet count, directions kept.
	var buf bytes.Buffer
	pw := packet.NewPcapWriter(&buf, "etlscope test")
	for _, fr := range frames {
		if err := pw.Write(fr); err != nil {
			t.Fatal(err)
		}
	}
	if err := pw.Flush(); err != nil {
		t.Fatal(err)
	}
	r, err := pcapgo.NewNgReader(&buf, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		_, _, err := r.ReadPacketData()
		if err != nil {
			break
		}
		n++
	}
	if n != len(frames) || n != pw.Packets() {
		t.Errorf("pcapng has %d packets, want %d", n, len(frames))
	}
}

// TestPcapngWithTshark exports the scenarios and reads them back with
// Wireshark's tshark: the same number of packets, and for every ServerHello
// the version tshark decodes equals the one the tracker negotiated.
func TestPcapngWithTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed (apt-get install tshark): skipping the Wireshark cross-check")
	}
	data := buildTrace(t, scenarios)
	f, err := etl.NewFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	x := packet.NewExtractor()
	tr := packet.NewTracker()
	out := filepath.Join(t.TempDir(), "x.pcapng")
	fh, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	pw := packet.NewPcapWriter(fh, "etlscope test")
	for ev, err := range f.Events(etl.ReadOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		if fr, _ := x.Add(ev); fr != nil {
			tr.Add(fr)
			if err := pw.Write(fr); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := pw.Flush(); err != nil {
		t.Fatal(err)
	}
	fh.Close()
	cmd := exec.Command(tshark, "-r", out, "-T", "fields", "-E", "separator=;", "-e", "tcp.dstport", "-e", "tls.handshake.type",
		"-e", "tls.handshake.extensions.supported_version", "-e", "tls.handshake.version")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != pw.Packets() {
		t.Errorf("tshark read %d packets, we wrote %d", len(lines), pw.Packets())
	}
	want := map[string]string{}
	for _, c := range tr.Conversations() {
		if v := c.NegotiatedVersion(); v != 0 {
			want[strconv.Itoa(int(c.Client.Port()))] = fmt.Sprintf("0x%04x", uint16(v))
		}
	}
	got := map[string]string{}
	for _, l := range lines {
		col := strings.Split(l, ";")
		if len(col) < 4 || !strings.Contains(col[1], "2") {
			continue
		}
		types := strings.Split(col[1], ",")
		for i, ty := range types {
			if ty != "2" {
				continue
			}
			v := strings.Split(col[3], ",")[min(i, len(strings.Split(col[3], ","))-1)]
			if col[2] != "" { // supported_versions wins (TLS 1.3)
				v = col[2]
			}
			got[col[0]] = v
		}
	}
	if len(want) != 3 {
		t.Fatalf("%d negotiated conversations, want 3", len(want))
	}
	for port, v := range want {
		if got[port] != v {
			t.Errorf("client port %s: tshark says %q, tracker %q", port, got[port], v)
		}
	}
}
