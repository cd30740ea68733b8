package main

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"math/rand"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/etlscope/etlscope/internal/etltest"
	"github.com/etlscope/etlscope/internal/nettrace"
)

// lateFailureTrace is a NetTrace-like file in small (4 KiB) buffers, the
// shape of a real NetTrace.etl where the reproduction comes late: a good
// TLS 1.2 connection first, then a stretch of DNS activity, then WinHTTP
// asking for SSL3|TLS1.0 only (EnabledProtocols 0xA0, WebIO 728/729) and a
// TLS 1.0 ClientHello refused with alert 70 (real crypto/tls flights). The
// second half of the file holds the failure: a cut or a lost buffer hides
// it, which is exactly when "no TLS problem found" would be a lie. With
// failing=false the late part is a second good connection, so the intact
// file is a clean exit 0.
func lateFailureTrace(t *testing.T, o etltest.Options, failing bool) []byte {
	t.Helper()
	o.Build, o.BufferSize = 17763, 4096
	b := nettrace.New(o)
	p := nettrace.PowerShell
	session := func(client string, clientMax uint16) {
		w := nettrace.Handshake(t, clientMax, tls.VersionTLS12, "outlook.office365.com")
		end := nettrace.EndClientFIN
		if clientMax < tls.VersionTLS12 {
			end = nettrace.EndServerFIN
		}
		if err := b.TCPSession(nettrace.Session{Client: mustAP(client), Server: nettrace.O365Addr, Writes: w, End: end}); err != nil {
			t.Fatal(err)
		}
	}
	b.WebIOACHStart(p, nettrace.ACH{Connection: 1, EnabledProtocols: 0xA80, Version: 1})
	session("10.0.0.5:50100", tls.VersionTLS12)
	for i := 0; i < 120; i++ {
		b.DNSQueryDone(p, "outlook.office365.com", 1, 0, "52.97.1.2;")
	}
	if failing {
		b.WebIOACHStart(p, nettrace.ACH{Connection: 2, EnabledProtocols: 0xA0, Version: 1})
		b.WebIOACHStop(p, nettrace.ACH{Connection: 2, EnabledProtocols: 0xA0, Version: 1, CredHigh: 1, CredLow: 2})
		session("10.0.0.5:50200", tls.VersionTLS10)
	} else {
		b.WebIOACHStart(p, nettrace.ACH{Connection: 2, EnabledProtocols: 0xA80, Version: 1})
		session("10.0.0.5:50200", tls.VersionTLS12)
	}
	data, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func writeTrace(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(tempDir(t), "NetTrace.etl")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// analyzeVerdict runs analyze in every format and checks the principle
// "never a false OK": unless the trace is intact, no format may say "no
// TLS problem found" and the exit status must not be 0.
func analyzeVerdict(t *testing.T, what string, data []byte, intact bool) int {
	t.Helper()
	path := writeTrace(t, data)
	code, out, errs := runCLI(t, "analyze", path)
	if intact {
		if code != exitOK || !strings.Contains(out, "no TLS problem found") || !strings.Contains(out, "integrity: complete") {
			t.Errorf("%s: intact trace: exit %d\n%s%s", what, code, out, errs)
		}
		return code
	}
	if code == exitOK || code == exitBadInput && len(data) > 8192 {
		t.Errorf("%s: exit %d\n%s%s", what, code, out, errs)
	}
	if code == exitBadInput {
		return code // too little left to call it a trace
	}
	for _, f := range []string{"table", "json", "csv", "markdown", "html"} {
		_, out, _ := runCLI(t, "analyze", path, "-o", f, "-q")
		low := strings.ToLower(out)
		if strings.Contains(low, "no tls problem found") {
			t.Errorf("%s: -o %s says no TLS problem found", what, f)
		}
		if !strings.Contains(low, "incomplete") && !strings.Contains(low, `"complete": false`) {
			t.Errorf("%s: -o %s does not state that the trace is incomplete:\n%s", what, f, out)
		}
	}
	if !strings.Contains(errs, "warning:") {
		t.Errorf("%s: no warning on stderr", what)
	}
	return code
}

// TestAnalyzeNeverOKOnDamage: a trace cut at any byte, with a corrupted
// buffer header, record header or logfile-header counter never gives exit
// 0 or "no TLS problem found"; the intact file does (no false alarm).
func TestAnalyzeNeverOKOnDamage(t *testing.T) {
	good := lateFailureTrace(t, etltest.Options{}, false)
	analyzeVerdict(t, "intact", good, true)
	if code, _, _ := runCLI(t, "analyze", writeTrace(t, lateFailureTrace(t, etltest.Options{}, true))); code != exitTLSProblem {
		t.Fatalf("the failing trace: exit %d", code)
	}
	const bs = 4096
	nbuf := len(good) / bs
	if nbuf < 4 {
		t.Fatalf("fixture has %d buffers; the test needs several", nbuf)
	}
	t.Run("cut", func(t *testing.T) {
		// Every buffer boundary (a cut there leaves no partial buffer to
		// notice), ±1, and random offsets.
		var cuts []int
		for i := 1; i < nbuf; i++ {
			cuts = append(cuts, i*bs-1, i*bs, i*bs+1)
		}
		rng := rand.New(rand.NewSource(1))
		for i := 0; i < 30; i++ {
			cuts = append(cuts, bs+rng.Intn(len(good)-bs))
		}
		for _, n := range cuts {
			analyzeVerdict(t, "cut at "+itoa(n), good[:n], false)
		}
	})
	t.Run("buffer header", func(t *testing.T) {
		for i := 1; i < nbuf; i++ {
			// The fields the reader depends on: BufferSize and Offset
			// (the filled length). A corrupted field that the reader does
			// not use (CurrentOffset, say) loses nothing, and then an OK
			// is the truth.
			for _, field := range []int{0x00, 0x30} {
				bad := bytes.Clone(good)
				binary.LittleEndian.PutUint32(bad[i*bs+field:], 0xDEAD0000)
				analyzeVerdict(t, "buffer "+itoa(i)+" field "+itoa(field), bad, false)
			}
			bad := bytes.Clone(good)
			clear(bad[i*bs : i*bs+0x48])
			analyzeVerdict(t, "buffer "+itoa(i)+" header zeroed", bad, false)
		}
	})
	t.Run("record header", func(t *testing.T) {
		for i := 1; i < nbuf; i++ {
			bad := bytes.Clone(good)
			// The first record of the buffer: its size field (the first
			// two bytes of every ETW record header).
			binary.LittleEndian.PutUint16(bad[i*bs+0x48:], 0xFFF8)
			analyzeVerdict(t, "record in buffer "+itoa(i), bad, false)
		}
	})
	t.Run("header counters", func(t *testing.T) {
		for name, o := range map[string]etltest.Options{"events lost": {EventsLost: 7}, "buffers lost": {BuffersLost: 2}} {
			analyzeVerdict(t, name, lateFailureTrace(t, o, false), false)
		}
		// BuffersWritten one higher than the buffers present: a file cut
		// at a buffer boundary looks like this.
		bad := bytes.Clone(good)
		off := findU32(t, good, uint32(nbuf))
		binary.LittleEndian.PutUint32(bad[off:], uint32(nbuf+1))
		analyzeVerdict(t, "buffers written", bad, false)
	})
}

// buffersWrittenOffset is where TRACE_LOGFILE_HEADER.BuffersWritten
// sits in the file: after the first WMI_BUFFER_HEADER (0x48 bytes) and the
// 32-byte SYSTEM_TRACE_HEADER of the logfile-header record, at +0x24 in
// TRACE_LOGFILE_HEADER (evntrace.h field order: BufferSize, Version,
// ProviderVersion, NumberOfProcessors, EndTime, TimerResolution,
// MaximumFileSize, LogFileMode, BuffersWritten).
const buffersWrittenOffset = 0x48 + 32 + 0x24

func findU32(t *testing.T, data []byte, v uint32) int {
	t.Helper()
	if got := binary.LittleEndian.Uint32(data[buffersWrittenOffset:]); got != v {
		t.Fatalf("BuffersWritten at %#x is %d, want %d", buffersWrittenOffset, got, v)
	}
	return buffersWrittenOffset
}

func itoa(n int) string { return strconv.Itoa(n) }

func mustAP(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// TestImpossibleTimes: a damaged logfile header whose end time decodes to
// year 30828 (FILETIME 0x7FFF…, as a header overwritten with 0xFF bytes
// gives) is a time no ETW writer produces and JSON cannot hold (RFC 3339
// years have four digits): it is treated as unknown, so info and analyze
// still write their JSON (encoding/json refused the whole document
// before, and analyze gave no verdict at all).
func TestImpossibleTimes(t *testing.T) {
	b := bytes.Clone(nettrace.HCW2012(t))
	// TRACE_LOGFILE_HEADER.EndTime: the header record's payload follows
	// the buffer header (0x48) and the 32-byte SYSTEM_TRACE_HEADER.
	const endTime = 0x48 + 0x20 + 0x10
	binary.LittleEndian.PutUint64(b[endTime:], 0x7FFFFFFFFFFFFFF0)
	path := filepath.Join(tempDir(t), "bad-end-time.etl")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"info", "-o", "json"}, {"analyze", "-o", "json"}, {"events", "-o", "json"}, {"conversations", "-o", "json"}} {
		code, out, stderr := runCLI(t, append(args, path)...)
		if code != exitOK && code != exitTLSProblem {
			t.Errorf("%v: exit %d: %s", args, code, stderr)
		}
		// The header event's own EndTime property keeps its raw value,
		// as text (docs/json.md); the trace's times are unknown.
		if !json.Valid([]byte(out)) || (args[0] != "events" && strings.Contains(out, "30828")) {
			t.Errorf("%v: want valid JSON without the impossible year, got %.300s", args, out)
		}
	}
}
