package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/internal/etltest"
	"github.com/etlscope/etlscope/internal/nettrace"
	"github.com/etlscope/etlscope/internal/sharedtest"
)

// runCLI runs etlscope with args and returns exit code, stdout, stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runOn(t, nil, args...)
}

// runOn is runCLI on machine m (fakes of netsh, the registry, ETW; nil:
// the real machine).
func runOn(t *testing.T, m *machine, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &streams{In: strings.NewReader(""), Out: &out, Err: &errb, mach: m})
	return code, out.String(), errb.String()
}

// TestInfoMatchesExpected is the acceptance test of the reader: for every
// real sample, `info --output json` reports exactly the counts of
// EXPECTED.tsv.
func TestInfoMatchesExpected(t *testing.T) {
	dir := sharedtest.ETLDir(t)
	fh, err := os.Open(filepath.Join(dir, "EXPECTED.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 1<<20)
	sc.Scan() // header
	n := 0
	for sc.Scan() {
		col := strings.Split(sc.Text(), "\t")
		n++
		t.Run(col[0], func(t *testing.T) {
			code, out, errs := runCLI(t, "info", "--output", "json", filepath.Join(dir, col[0]))
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var res InfoResult
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatal(err)
			}
			got := []string{strconv.Itoa(res.Events), strconv.Itoa(res.Buffers), strconv.Itoa(res.CompressedBuffers),
				strconv.Itoa(res.PointerSize), strconv.FormatUint(uint64(res.OS.Build), 10)}
			if strings.Join(got, "\t") != strings.Join(col[1:6], "\t") {
				t.Errorf("events/buffers/compressed/pointer/build = %v, want %v", got, col[1:6])
			}
			want := map[string]int{}
			for _, kv := range strings.Split(col[6], ",") {
				g, c, _ := strings.Cut(kv, "=")
				want[g], _ = strconv.Atoi(c)
			}
			if len(res.Providers) != len(want) {
				t.Errorf("%d providers, want %d", len(res.Providers), len(want))
			}
			for _, p := range res.Providers {
				if want[p.GUID] != p.Events {
					t.Errorf("provider %s: %d events, want %d", p.GUID, p.Events, want[p.GUID])
				}
			}
			// A real, undamaged sample: no false alarm. The losses its own
			// logfile header admits to (amsi-tracelogging lost 3 events
			// while tracing) are findings, and must be.
			for _, is := range res.Integrity.Issues {
				headerLoss := (is.Kind == "lost_events" && int64(res.EventsLost) == is.Count) || (is.Kind == "lost_buffers" && int64(res.BuffersLost) == is.Count)
				if !headerLoss {
					t.Errorf("integrity finding on a good file: %+v", is)
				}
			}
			if res.Integrity.Complete != (res.EventsLost == 0 && res.BuffersLost == 0) {
				t.Errorf("complete %v with %d events and %d buffers lost", res.Integrity.Complete, res.EventsLost, res.BuffersLost)
			}
		})
	}
	if n != 16 {
		t.Errorf("%d samples in EXPECTED.tsv, want 16", n)
	}
}

// hcwTrace writes the HCW-on-Server-2012 scenario (see nettrace.HCW2012)
// to a temporary NetTrace.etl.
func hcwTrace(t *testing.T) string {
	t.Helper()
	path := filepath.Join(tempDir(t), "NetTrace.etl")
	if err := os.WriteFile(path, nettrace.HCW2012(t), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAnalyzeExitStatus(t *testing.T) {
	code, out, errs := runCLI(t, "analyze", hcwTrace(t))
	if code != exitTLSProblem || !strings.Contains(out, "TLS PROBLEM FOUND") || !strings.Contains(out, "KB3140245") {
		t.Errorf("HCW trace: exit %d\n%s%s", code, out, errs)
	}
	healthy := filepath.Join(tempDir(t), "ok.etl")
	os.WriteFile(healthy, nettrace.Healthy(t), 0o644)
	if code, out, errs := runCLI(t, "analyze", healthy, "-o", "json"); code != exitOK || !strings.Contains(out, `"severity": "ok"`) {
		t.Errorf("healthy trace: exit %d\n%s%s", code, out, errs)
	}
	// Filtering WebIO out leaves the packet verdict and says WebIO is missing.
	code, out, _ = runCLI(t, "analyze", hcwTrace(t), "-f", `provider != "Microsoft-Windows-WebIO"`)
	if code != exitTLSProblem || !strings.Contains(out, "provider Microsoft-Windows-WebIO is not in the trace") ||
		!strings.Contains(out, "the filter removed 4 events") || strings.Contains(out, "EnabledProtocols 0xa0") {
		t.Errorf("filtered analyze: exit %d\n%s", code, out)
	}
	if code, _, _ := runCLI(t, "analyze", filepath.Join(tempDir(t), "missing.etl")); code != exitBadInput {
		t.Errorf("missing file: exit %d", code)
	}
}

func TestEventsEnabledProtocolsFilter(t *testing.T) {
	path := hcwTrace(t)
	code, out, errs := runCLI(t, "events", path, "-f", `description.contains("EnabledProtocols")`, "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc EventsJSON
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	evs := doc.Events
	if !doc.Integrity.Complete {
		t.Errorf("integrity %+v", doc.Integrity)
	}
	if len(evs) != 2 || evs[0].ID != 728 || evs[1].ID != 729 {
		t.Fatalf("got %+v, want WebIO 728 and 729", evs)
	}
	if evs[0].Provider != "Microsoft-Windows-WebIO" || evs[0].Properties["EnabledProtocols"] != "0xa0 (SSL3.0|TLS1.0 (client))" {
		t.Errorf("728: %+v", evs[0])
	}
	// The same selection by provider and id, in every table format.
	for _, format := range []string{"table", "csv", "markdown", "html"} {
		code, out, _ := runCLI(t, "events", path, "-f", `provider == "Microsoft-Windows-WebIO" && id in (728, 729, 730)`, "--fields", "EnabledProtocols", "-o", format, "--wide")
		// Two events, each with the mask in its description and in the
		// EnabledProtocols column.
		if code != 0 || strings.Count(out, "0xa0 (SSL3.0") != 4 || !strings.Contains(out, "728") || !strings.Contains(out, "729") {
			t.Errorf("%s: exit %d\n%s", format, code, out)
		}
	}
}

// TestFilterSelectsACHEvents is the acceptance test of the filter
// language: the seed article's filter selects exactly WebIO 728/729/730.
func TestFilterSelectsACHEvents(t *testing.T) {
	b := nettrace.New(etltest.Options{Build: 9600})
	p := nettrace.PowerShell
	b.WebIOISCStart(p, nettrace.ISC{Connection: 1, HostName: "a.example"})
	b.WebIOACHStart(p, nettrace.ACH{Connection: 1, EnabledProtocols: 0xA80, Version: 1})
	b.WebIOACHStop(p, nettrace.ACH{Connection: 1, EnabledProtocols: 0xA80, Version: 1})
	b.WebIOACHStop(p, nettrace.ACH{Connection: 2, EnabledProtocols: 0x2000, Version: 0, Result: 0x8009030E})
	b.WebIOISCStop(p, nettrace.ISC{Connection: 1, HostName: "a.example", Result: 0x80090326})
	b.WinHttpAPI(p, 1, "WinHttpOpen", 9, 0)
	b.SchannelAlertReceived(p, nil, 70)
	path := filepath.Join(tempDir(t), "x.etl")
	data, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, data, 0o644)
	code, out, errs := runCLI(t, "events", path, "-f", `description.contains("EnabledProtocols")`, "-o", "csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		if strings.HasPrefix(line, "#") {
			continue // the integrity note
		}
		ids = append(ids, strings.Split(line, ",")[2])
	}
	if strings.Join(ids, " ") != "728 729 730" {
		t.Errorf("selected ids %v, want 728 729 730", ids)
	}
}

func TestEventsRedact(t *testing.T) {
	path := hcwTrace(t)
	code, out, _ := runCLI(t, "events", path, "--redact", "-o", "json")
	if code != 0 {
		t.Fatal(code)
	}
	for _, secret := range []string{"52.97.1.2", "Secret!", `CONTOSO`, "10.0.0.5"} {
		if strings.Contains(out, secret) {
			t.Errorf("redacted output contains %q", secret)
		}
	}
	if !strings.Contains(out, "ip-1") || !strings.Contains(out, "outlook.office365.com") {
		t.Error("no address placeholder, or the public name was redacted")
	}
	// Without --redact the password is still hidden, unless --show-secrets.
	_, plain, _ := runCLI(t, "events", path, "-o", "json", "--fields", "Password")
	if strings.Contains(plain, "Secret!") || !strings.Contains(plain, `"Password":"(hidden)"`) {
		t.Error("the password is printed without --show-secrets")
	}
	_, shown, _ := runCLI(t, "events", path, "-o", "json", "--show-secrets")
	if !strings.Contains(shown, "Secret!") {
		t.Error("the fixture has no credential event, or --show-secrets does not show it")
	}
}

func TestExitCodes(t *testing.T) {
	bad := filepath.Join(tempDir(t), "bad.etl")
	os.WriteFile(bad, []byte(strings.Repeat("not an etl file ", 100)), 0o644)
	missing := filepath.Join(tempDir(t), "missing.etl")
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"info", missing}, exitBadInput, notExistText(t, missing)},
		{[]string{"info", bad}, exitBadInput, "not an ETL file"},
		{[]string{"info", bad, "extra"}, exitUsage, "one trace file at a time"},
		{[]string{"events", bad, "-f", "id =="}, exitUsage, "^"},
		{[]string{"events", bad, "-o", "yaml"}, exitUsage, "yaml"},
		{[]string{"nosuchcommand"}, exitUsage, "unknown command"},
	}
	for _, tt := range tests {
		code, _, errs := runCLI(t, tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d containing %q", tt.args, code, errs, tt.code, tt.msg)
		}
	}
}

func TestConversationsAndPcap(t *testing.T) {
	path := hcwTrace(t)
	code, out, errs := runCLI(t, "conversations", path, "-o", "csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// The owner comes from the TCPIP connect event (packets are logged as System).
	want := "10.0.0.5:50123,52.97.1.2:443,4321,outlook.office365.com,TLS 1.0,TLS 1.0,,,alert 70 protocol_version by server"
	if !strings.Contains(out, want) {
		t.Errorf("conversations:\n%s\nwant a row containing %s", out, want)
	}
	code, out, _ = runCLI(t, "conversations", path, "--redact", "-f", "tls.alert == 70")
	if code != 0 || strings.Contains(out, "52.97.1.2") || !strings.Contains(out, "ip-1:443") {
		t.Errorf("redacted conversations:\n%s", out)
	}

	pc := filepath.Join(tempDir(t), "out.pcapng")
	if code, _, errs := runCLI(t, "pcap", path, pc); code != 0 {
		t.Fatalf("pcap: exit %d: %s", code, errs)
	}
	if code, _, errs := runCLI(t, "pcap", path, "-w", pc); code != exitUsage || !strings.Contains(errs, "--force") {
		t.Errorf("overwrite without --force: exit %d: %s", code, errs)
	}
	if code, _, _ := runCLI(t, "pcap", path, pc, "--force"); code != 0 {
		t.Errorf("--force: exit %d", code)
	}
	// A failed export leaves no file behind.
	bad := filepath.Join(tempDir(t), "bad.etl")
	os.WriteFile(bad, []byte("not an etl file, not at all, no"), 0o644)
	failed := filepath.Join(tempDir(t), "failed.pcapng")
	if code, _, _ := runCLI(t, "pcap", bad, failed); code != exitBadInput {
		t.Errorf("pcap of a bad file: exit %d", code)
	}
	if _, err := os.Stat(failed); err == nil {
		t.Error("a failed export left its output file behind")
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed (apt-get install tshark): skipping the Wireshark cross-check of the pcapng export")
	}
	cmd := exec.Command(tshark, "-r", pc, "-T", "fields", "-e", "tls.record.version", "-e", "tls.alert_message.desc", "-e", "tls.handshake.extensions_server_name")
	cmd.Env = append(os.Environ(), "HOME="+tempDir(t))
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, b)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	// SYN, SYN-ACK, ACK, ClientHello, alert, FIN.
	if len(lines) != 6 {
		t.Errorf("tshark read %d packets, want 6:\n%s", len(lines), b)
	}
	if !strings.Contains(string(b), "outlook.office365.com") || !strings.Contains(string(b), "70") {
		t.Errorf("tshark did not see the SNI and alert 70:\n%s", b)
	}
}

// contosoTrace writes a trace with one event of a provider the built-in
// schemas do not know and the manifest that describes it (the layout of a
// Windows instrumentation manifest: provider, event, template).
func contosoTrace(t *testing.T) (trace, manifest string) {
	t.Helper()
	dir := tempDir(t)
	manifest = filepath.Join(dir, "contoso.man")
	os.WriteFile(manifest, []byte(`<instrumentationManifest xmlns="http://schemas.microsoft.com/win/2004/08/events">
 <instrumentation><events>
  <provider name="Contoso-Agent" guid="{0e4b2a9c-8f41-4c2b-9a57-6e1d2f3a4b5c}">
   <events><event value="42" version="0" symbol="TlsPolicy" template="T"/></events>
   <templates><template tid="T"><data name="Mask" inType="win:HexInt32"/><data name="Host" inType="win:UnicodeString"/></template></templates>
  </provider>
 </events></instrumentation>
</instrumentationManifest>`), 0o644)
	b := nettrace.New(etltest.Options{})
	g := etl.MustParseGUID("0e4b2a9c-8f41-4c2b-9a57-6e1d2f3a4b5c")
	b.Event(nettrace.PowerShell, g, 42, 0, 4, 0, 0, 0, b.P().U32(0x800).UTF16Z("contoso.example").Bytes())
	data, _ := b.Bytes()
	trace = filepath.Join(dir, "x.etl")
	os.WriteFile(trace, data, 0o644)
	return trace, manifest
}

func TestEventsManifest(t *testing.T) {
	trace, manifest := contosoTrace(t)
	dir := filepath.Dir(trace)
	_, before, _ := runCLI(t, "events", trace, "-f", "id == 42", "-o", "csv")
	code, after, errs := runCLI(t, "events", trace, "--manifest", manifest, "-f", "Host.endswith(\".example\")", "--fields", "Mask", "-o", "csv")
	if code != 0 || !strings.Contains(after, "Contoso-Agent") || !strings.Contains(after, `"TlsPolicy: Mask=0x800, Host=contoso.example",0x800`) {
		t.Errorf("with manifest: exit %d\n%s%s", code, after, errs)
	}
	if strings.Contains(before, "Contoso-Agent") || !strings.Contains(before, "0e4b2a9c-8f41-4c2b-9a57-6e1d2f3a4b5c") {
		t.Errorf("without manifest:\n%s", before)
	}
	if code, _, errs := runCLI(t, "events", trace, "--manifest", filepath.Join(dir, "missing.man")); code != exitUsage || !strings.Contains(errs, "manifest") {
		t.Errorf("missing manifest: exit %d %s", code, errs)
	}
}

func TestEventsLimitAndOrder(t *testing.T) {
	path := hcwTrace(t)
	code, out, _ := runCLI(t, "events", path, "-n", "3", "-o", "csv")
	lines, notes := splitCSVNotes(out)
	if !strings.Contains(notes, "stopped") {
		t.Errorf("--limit 3: the integrity note does not say the rest was not read:\n%s", notes)
	}
	if code != 0 || len(lines) != 4 || !strings.HasPrefix(lines[1], "2024-03-12T09:30:00.0000000Z,EventTrace,0,") {
		t.Errorf("--limit 3: exit %d\n%s", code, out)
	}
	// Time order: every timestamp is >= the previous one.
	_, out, _ = runCLI(t, "events", path, "-o", "csv")
	lines, _ = splitCSVNotes(out)
	prev := ""
	for _, l := range lines[1:] {
		ts := strings.Split(l, ",")[0]
		if ts < prev {
			t.Fatalf("out of order: %s after %s", ts, prev)
		}
		prev = ts
	}
}

// splitCSVNotes splits CSV output into its lines and the "#" integrity
// note lines that follow the table.
func splitCSVNotes(out string) (lines []string, notes string) {
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(l, "#") {
			notes += l + "\n"
			continue
		}
		lines = append(lines, l)
	}
	return lines, notes
}
