package packet

import (
	"bytes"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
)

// webIO728 is the worked example of ../shared/docs/etw-dlt.md (built from
// the LINKTYPE_ETW description on tcpdump.org and the Windows EVENT_HEADER
// layout): WebIO 728 logged by pid 4712, thread 6020 on CPU 1 of a 64-bit
// trace, with three bytes of user data.
func webIO728() *etl.Event {
	return &etl.Event{
		Kind: etl.KindEventHeader, PointerSize: 8, Flags: etl.Flag64BitHeader, CPU: 1,
		Time:     time.Date(2019, 11, 17, 14, 13, 20, 0, time.UTC),
		Provider: decode.WebIO, ID: 728, Version: 1, Level: 4, Opcode: 1, Task: 436, Keywords: 0x8000002000000000,
		PID: 4712, TID: 6020, UserData: []byte{1, 2, 3},
	}
}

const webIO728Message = "SSL AcquireCredentialsHandle - (EnabledProtocols 0xa0)"

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestETWRecordLayout compares the record with the bytes of the worked
// example: the GUID in Windows memory order, the FILETIME, the three
// lengths (user data without padding, message and provider name with their
// NUL), and each variable part padded to 4 bytes.
func TestETWRecordLayout(t *testing.T) {
	got := AppendETWRecord(nil, webIO728(), "Microsoft-Windows-WebIO", webIO728Message)
	if len(got) != 260 {
		t.Fatalf("record of %d bytes, want 260", len(got))
	}
	want := unhex(t, `
		04 01 00 00 40 00 00 00 84 17 00 00 68 12 00 00
		00 40 02 2a 51 9d d5 01 3c e7 b3 50 70 93 1d 46
		bb 9f 26 f3 2d 68 88 7d d8 02 01 00 04 01 b4 01
		00 00 00 00 20 00 00 80 00 00 00 00 00 00 00 00
		00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
		01 00 00 00 03 00 00 00 6e 00 00 00 30 00 00 00
		01 02 03 00 53 00 53 00 4c 00 20 00 41 00 63 00`)
	if !bytes.Equal(got[:len(want)], want) {
		t.Errorf("record start:\n%s\nwant:\n%s", hex.Dump(got[:len(want)]), hex.Dump(want))
	}
	if tail := unhex(t, "00 00 00 00 4d 00 69 00 63 00 72 00 6f 00 73 00"); !bytes.Equal(got[0xd0:0xe0], tail) {
		t.Errorf("message end and provider start:\n%s", hex.Dump(got[0xd0:0xe0]))
	}
	if !bytes.Equal(got[0x100:], []byte{0x4f, 0, 0, 0}) {
		t.Errorf("record end % x", got[0x100:])
	}
}

func TestETWFlags(t *testing.T) {
	for _, tc := range []struct {
		ev   etl.Event
		want uint16
	}{
		{etl.Event{Kind: etl.KindEventHeader, PointerSize: 8, Flags: etl.Flag64BitHeader}, 0x0040},
		{etl.Event{Kind: etl.KindEventHeader, PointerSize: 4}, 0x0020},
		{etl.Event{Kind: etl.KindFull, PointerSize: 8}, 0x0140},
		{etl.Event{Kind: etl.KindMessage, PointerSize: 4}, 0x0028},
	} {
		if got := etwFlags(&tc.ev); got != tc.want {
			t.Errorf("%v: flags %#04x, want %#04x", tc.ev.Kind, got, tc.want)
		}
	}
}

// A long message is cut to maxETWMessage characters, never inside a
// surrogate pair.
func TestETWMessageCut(t *testing.T) {
	msg := strings.Repeat("a", maxETWMessage-1) + "😀😀"
	rec := AppendETWRecord(nil, webIO728(), "P", msg)
	n := int(uint32(rec[0x58]) | uint32(rec[0x59])<<8 | uint32(rec[0x5a])<<16)
	if n != 2*maxETWMessage { // maxETWMessage-1 letters and the NUL: the emoji does not fit whole
		t.Errorf("message length %d", n)
	}
	if len(rec)%4 != 0 {
		t.Errorf("record length %d not padded", len(rec))
	}
}

// TestETWRecordWithTshark asks Wireshark's dissector about a capture with
// one packet and the worked example: a tshark that reads another layout
// (LINKTYPE_ETW2) would show other values here.
func TestETWRecordWithTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed (apt-get install tshark): skipping the Wireshark cross-check of LINKTYPE_ETW")
	}
	var b bytes.Buffer
	pw := NewPcapWriter(&b, "etlscope-test")
	ew := NewETWWriter(pw)
	if err := ew.Write(webIO728(), "Microsoft-Windows-WebIO", webIO728Message); err != nil {
		t.Fatal(err)
	}
	if err := pw.Flush(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "etw.pcapng")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tshark, "-r", p, "-T", "fields", "-E", "separator=|",
		"-e", "etw.message", "-e", "etw.provider_id", "-e", "etw.descriptor.id", "-e", "etw.provider_name",
		"-e", "etw.process_id", "-e", "etw.thread_id").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	want := webIO728Message + "|50b3e73c-9370-461d-bb9f-26f32d68887d|728|Microsoft-Windows-WebIO|4712|6020"
	if got := strings.TrimSpace(string(out)); got != want {
		t.Errorf("tshark:\n%s\nwant:\n%s", got, want)
	}
}
