package packet_test

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/internal/etltest"
	"github.com/etlscope/etlscope/internal/nettrace"
	"github.com/etlscope/etlscope/internal/sharedtest"
	"github.com/etlscope/etlscope/packet"
)

// framesOf returns the packet frames of an ETL file, in time order.
func framesOf(t *testing.T, data []byte) []*packet.Frame {
	t.Helper()
	f, err := etl.NewFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	x := packet.NewExtractor()
	var out []*packet.Frame
	for ev, err := range f.Events(etl.ReadOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		if !packet.IsPacketEvent(ev) {
			continue
		}
		if fr, err := x.Add(ev); err == nil && fr != nil {
			out = append(out, fr.Clone())
		}
	}
	return out
}

// TestFoldRoundTrip checks that folding decided connections into compact
// summaries loses nothing: a tracker that folds and one that keeps every
// connection whole report the same conversations, field by field, on the
// capture shapes of shapes_test.go (real crypto/tls handshakes: TLS 1.0–1.3,
// HelloRetryRequest, proxies, PktMon copies and drops, Wi-Fi, VPN, snap
// length, mid-stream; some over IPv6), the scenarios of packet_test.go, a gentrace file
// (the benchmark input) and the real samples when ../shared is present;
// and so does a tracker whose connection keys all hash alike.
func TestFoldRoundTrip(t *testing.T) {
	inputs := map[string][]byte{}
	b := nettrace.New(etltest.Options{Build: 22621})
	for i, s := range shapes(t) {
		// One capture with every shape, each on its own client port.
		s.session.Client = netip.AddrPortFrom(s.session.Client.Addr(), s.session.Client.Port()+uint16(100*i))
		if err := b.TCPSession(s.session); err != nil {
			t.Fatal(err)
		}
		if s.extra != nil {
			s.extra(b)
		}
		if i < 4 {
			// The same over IPv6 (documentation prefix, RFC 3849), and
			// with an IPv4-mapped client address in an IPv6 header.
			for j, client := range []netip.Addr{netip.MustParseAddr("2001:db8::5"), netip.MustParseAddr("::ffff:10.0.0.9")} {
				v6 := s.session
				v6.Client = netip.AddrPortFrom(client, 50000+uint16(10*i+j))
				v6.Server = netip.AddrPortFrom(netip.MustParseAddr("2001:db8:1::2"), 443)
				if err := b.TCPSession(v6); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	data, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	inputs["shapes"] = data
	inputs["scenarios"] = buildTrace(t, scenarios)
	var gen bytes.Buffer
	if _, err := nettrace.Generate(&gen, nettrace.GenOptions{Size: 2 << 20}); err != nil {
		t.Fatal(err)
	}
	inputs["gentrace"] = gen.Bytes()
	if dir := sharedtest.Dir(); dir != "" {
		paths, _ := filepath.Glob(filepath.Join(dir, "testdata", "etl", "*.etl"))
		for _, p := range paths {
			if st, err := os.Stat(p); err == nil && st.Size() < 64<<20 {
				if data, err := os.ReadFile(p); err == nil {
					inputs[filepath.Base(p)] = data
				}
			}
		}
	}
	folded, v6 := 0, 0
	for name, data := range inputs {
		frames := framesOf(t, data)
		if len(frames) == 0 {
			continue
		}
		t.Run(name, func(t *testing.T) {
			flat, whole, coll := packet.NewTracker(), packet.NewTrackerNoFold(), packet.NewTrackerColliding()
			for _, fr := range frames {
				flat.Add(fr)
				whole.Add(fr)
				coll.Add(fr)
			}
			folded += packet.Folded(flat)
			if packet.Folded(whole) != 0 {
				t.Fatalf("the reference tracker folded %d connections", packet.Folded(whole))
			}
			got, want, gotColl := flat.Conversations(), whole.Conversations(), coll.Conversations()
			if len(got) != len(want) || len(gotColl) != len(want) {
				t.Fatalf("%d conversations (%d with colliding hashes), want %d", len(got), len(gotColl), len(want))
			}
			var viaAll []*packet.Conversation
			for c := range flat.All() {
				viaAll = append(viaAll, c.Clone())
			}
			for _, c := range got {
				if c.Client.Addr().Is6() {
					v6++
				}
			}
			for i := range want {
				w := want[i].Clone()
				if g := got[i].Clone(); !reflect.DeepEqual(g, w) {
					t.Errorf("conversation %d (%s):\n got %+v\nwant %+v", i, w.Key(), g, w)
					continue
				}
				if g := gotColl[i].Clone(); !reflect.DeepEqual(g, w) {
					t.Errorf("conversation %d (%s) with colliding hashes:\n got %+v\nwant %+v", i, w.Key(), g, w)
				}
				if g := viaAll[i]; !reflect.DeepEqual(g, w) {
					t.Errorf("conversation %d (%s) via All:\n got %+v\nwant %+v", i, w.Key(), g, w)
				}
			}
		})
	}
	if folded == 0 || v6 == 0 {
		t.Errorf("%d connections folded, %d over IPv6: the test compares too little", folded, v6)
	}
}
