package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPcapEventsWithTshark exports the HCW scenario with --events and
// reads it back with Wireshark's tshark: every event `events` lists is one
// ETW record with the same description as its message, the packets are
// all there, and frames come in time order with the WebIO 728
// (EnabledProtocols) record before the ClientHello.
func TestPcapEventsWithTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed (apt-get install tshark): skipping the Wireshark check of pcap --events")
	}
	path := hcwTrace(t)
	code, out, errs := runCLI(t, "events", path, "-o", "json")
	if code != 0 {
		t.Fatalf("events: exit %d: %s", code, errs)
	}
	var evs struct {
		Events []EventJSON `json:"events"`
	}
	if err := json.Unmarshal([]byte(out), &evs); err != nil {
		t.Fatalf("events json: %v", err)
	}
	var wantMsgs []string
	packets := 0
	for _, e := range evs.Events {
		if e.Provider == "Microsoft-Windows-NDIS-PacketCapture" && e.ID == 1001 {
			packets++
			continue
		}
		wantMsgs = append(wantMsgs, e.Description)
	}
	pc := filepath.Join(tempDir(t), "out.pcapng")
	if code, _, errs := runCLI(t, "pcap", path, pc, "--events"); code != 0 {
		t.Fatalf("pcap --events: exit %d: %s", code, errs)
	}
	b, err := exec.Command(tshark, "-r", pc, "-T", "fields", "-E", "separator=\t", "-E", "quote=n",
		"-e", "frame.time_epoch", "-e", "etw.provider_id", "-e", "etw.descriptor.id", "-e", "tls.handshake.type", "-e", "etw.message").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var gotMsgs []string
	gotPackets, last := 0, 0.0
	achAt, helloAt := -1, -1
	for i, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		f := strings.SplitN(line, "\t", 5)
		if len(f) != 5 {
			t.Fatalf("tshark line %q", line)
		}
		ts, err := strconv.ParseFloat(f[0], 64)
		if err != nil || ts < last {
			t.Errorf("frame %d at %s after %f: not in time order", i+1, f[0], last)
		}
		last = ts
		if f[1] == "" {
			gotPackets++
			if strings.Split(f[3], ",")[0] == "1" && helloAt < 0 {
				helloAt = i
			}
			continue
		}
		gotMsgs = append(gotMsgs, f[4])
		if f[1] == "50b3e73c-9370-461d-bb9f-26f32d68887d" && f[2] == "728" && achAt < 0 {
			achAt = i
		}
	}
	if gotPackets != packets || packets == 0 {
		t.Errorf("tshark read %d packets, the trace has %d", gotPackets, packets)
	}
	if len(gotMsgs) != len(wantMsgs) {
		t.Fatalf("tshark read %d events, events lists %d", len(gotMsgs), len(wantMsgs))
	}
	for i := range wantMsgs {
		if gotMsgs[i] != wantMsgs[i] {
			t.Errorf("event %d: message %q, want %q", i, gotMsgs[i], wantMsgs[i])
		}
	}
	if achAt < 0 || helloAt < 0 || achAt > helloAt {
		t.Errorf("WebIO 728 at frame %d, ClientHello at frame %d: want the event first", achAt+1, helloAt+1)
	}
	// The display filters README suggests select what they say.
	for _, tc := range []struct {
		filter string
		want   int
	}{
		{"etw.provider_id", len(wantMsgs)},
		{`etw.message contains "EnabledProtocols"`, 2},
		{"etw.descriptor.id in {728, 729, 730}", 2},
		// 728 and 729, and the ClientHello (the server answers TLS 1.0 with
		// alert 70, no ServerHello).
		{`etw.message contains "EnabledProtocols" || tls.handshake`, 2 + 1},
	} {
		b, err := exec.Command(tshark, "-r", pc, "-Y", tc.filter).Output()
		if err != nil {
			t.Fatalf("tshark -Y %q: %v", tc.filter, err)
		}
		if n := strings.Count(string(b), "\n"); n != tc.want {
			t.Errorf("tshark -Y %q: %d frames, want %d", tc.filter, n, tc.want)
		}
	}
}
