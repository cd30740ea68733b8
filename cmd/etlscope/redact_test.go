package main

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/etlscope/etlscope/etl/decode"
	"github.com/etlscope/etlscope/internal/etltest"
	"github.com/etlscope/etlscope/internal/nettrace"
	"github.com/etlscope/etlscope/internal/sharedtest"
	"github.com/etlscope/etlscope/report"
	"github.com/etlscope/etlscope/tlswire/tlstest"
)

// Personal data planted in the privacy fixture. Each must vanish from every
// redacted output and from the sanitized trace.
const (
	pdUser     = "jdoe"
	pdDomain   = "CONTOSOPHARMA"
	pdPassword = "Hunter2!Secret"
	pdHost     = "mail.contosopharma.com"
	pdShort    = "EXCH01"
	pdMachine  = "WS-JDOE-42"
	pdEmail    = "jane.doe@contosopharma.com"
	pdOrg      = "Contoso Pharmaceuticals"
	pdClientV4 = "10.20.30.40"
	pdServerV4 = "198.51.100.77"
	pdServerV6 = "2001:db8:abcd::1234"
	pdMAC      = "00-15-5D-01-02-03" // nettrace's client MAC (tcp.go)
)

var pdBasic = base64.StdEncoding.EncodeToString([]byte(pdUser + ":" + pdPassword))

// privacyTrace builds a NetTrace full of personal data, each value in the
// layout its provider logs it (providers.md §2 via package nettrace):
// WinHttp 100 (WinHttpSetCredentials: UserName, Password as UTF-16),
// WebIO 205 (name resolution HostName), DNS-Client 3008 (QueryName and
// QueryResults with IPv4 and IPv6), TCPIP 1033 with SOCKADDR_IN and
// SOCKADDR_IN6, WinHttp 1053 (module and process paths, the C:\Users and
// \Device\HarddiskVolumeN forms Windows logs), WinHttp 58999 (ANSI debug
// text with an e-mail address and a MAC), Schannel 36880 (certificate
// subject names), the logfile header's LogFileName (a UNC path with the
// machine name), and NDIS frames: a real TLS 1.2 handshake by crypto/tls
// (ClientHello with the SNI, the certificate in clear) and a plain HTTP
// request through a proxy with an Authorization: Basic header (RFC 7617).
func privacyTrace(t *testing.T) string {
	t.Helper()
	b := nettrace.New(etltest.Options{Build: 17763, LogFileName: `\\` + pdMachine + `\C$\Users\` + pdUser + `\NetTrace.etl`})
	p := nettrace.PowerShell
	client := netip.AddrPortFrom(netip.MustParseAddr(pdClientV4), 50123)
	server := netip.AddrPortFrom(netip.MustParseAddr(pdServerV4), 443)
	server6 := netip.AddrPortFrom(netip.MustParseAddr(pdServerV6), 443)
	client6 := netip.MustParseAddrPort("[fe80::215:5dff:fe01:203]:50200")

	b.DNSQueryDone(p, pdHost, 1, 0, pdServerV4+";"+pdServerV6+";")
	b.DNSQueryDone(p, pdShort, 1, 0, pdServerV4+";")
	b.Event(p, decode.WebIO, 205, 0, 4, 1, 0, 0x400000000, b.P().Ptr(1).UTF16Z(pdShort).U32(0).U64(0).Bytes())
	b.WinHttpCredentials(p, 0x77, pdDomain+`\`+pdUser, pdPassword)
	b.WinHttpVersionMismatch(p, pdHost, `C:\Users\`+pdUser+`\AppData\Local\Temp\hcw.dll`, "hcw.dll",
		`\Device\HarddiskVolume3\Users\`+pdUser+`\Desktop\HCW.exe`, "HCW.exe")
	b.Event(p, decode.WinHttp, 58999, 0, 5, 0, 0, 1, b.P().AnsiZ("mailbox "+pdEmail+" via adapter "+pdMAC+" on "+pdMachine).Bytes())
	b.SchannelHandshakeDone(p, "client", "TLS 1.2", 0xc02f, 256, 9, pdHost,
		"CN="+pdMachine, "CN="+pdHost+", O="+pdOrg+", L=Redmond, C=US")
	b.TCPConnect(p, client, server, 0, 0xfeed, false)
	b.TCPConnect(p, client6, server6, 0, 0xbeef, false)
	b.WebIOISCStart(p, nettrace.ISC{Connection: 1, HostName: pdHost})

	cert := tlstest.SelfSigned(t, pdHost)
	res := tlstest.Handshake(t,
		&tls.Config{ServerName: pdHost, InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}},
		&tls.Config{Certificates: []tls.Certificate{cert}})
	var w []nettrace.Write
	for i := 0; i < len(res.Client) || i < len(res.Server); i++ {
		if i < len(res.Client) {
			w = append(w, nettrace.Write{Data: res.Client[i]})
		}
		if i < len(res.Server) {
			w = append(w, nettrace.Write{FromServer: true, Data: res.Server[i]})
		}
	}
	w = append(w, nettrace.Write{Data: []byte{23, 3, 3, 0, 5, 's', 'e', 'c', 'r', 't'}})
	if err := b.TCPSession(nettrace.Session{Client: client, Server: server, Writes: w, End: EndClientFINForTest}); err != nil {
		t.Fatal(err)
	}
	http := "GET http://" + pdHost + "/owa/ HTTP/1.1\r\nHost: " + pdHost + "\r\nAuthorization: Basic " + pdBasic + "\r\n\r\n"
	proxy := netip.AddrPortFrom(netip.MustParseAddr(pdServerV4), 8080)
	if err := b.TCPSession(nettrace.Session{Client: netip.AddrPortFrom(client.Addr(), 50124), Server: proxy,
		Writes: []nettrace.Write{{Data: []byte(http)}}, End: nettrace.EndServerReset}); err != nil {
		t.Fatal(err)
	}
	data, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(tempDir(t), "privacy.etl")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const EndClientFINForTest = nettrace.EndClientFIN

// secretForms returns the personal data of the fixture in every encoding
// a leak could take: text, UTF-16LE, hex (both cases) and base64, and the
// binary addresses.
func secretForms() map[string][]byte {
	forms := map[string][]byte{}
	for _, s := range []string{pdUser, pdDomain, pdPassword, pdHost, pdShort, pdMachine, pdEmail, pdOrg, pdClientV4, pdServerV4, pdServerV6, pdMAC, pdBasic, "jane.doe"} {
		forms["text "+s] = []byte(s)
		u := utf16.Encode([]rune(s))
		b16 := make([]byte, 2*len(u))
		for i, c := range u {
			binary.LittleEndian.PutUint16(b16[2*i:], c)
		}
		forms["utf16 "+s] = b16
		forms["hex "+s] = []byte(hex.EncodeToString([]byte(s)))
		forms["base64 "+s] = []byte(strings.TrimRight(base64.StdEncoding.EncodeToString([]byte(s)), "="))
	}
	forms["text mac colon"] = []byte(strings.ReplaceAll(pdMAC, "-", ":"))
	forms["hex mac"] = []byte("00155d010203")
	return forms
}

// leaks returns the forms found in out (text forms case-insensitively).
func leaks(out []byte) []string {
	var found []string
	low := bytes.ToLower(out)
	for name, f := range secretForms() {
		if bytes.Contains(out, f) || (strings.HasPrefix(name, "text ") || strings.HasPrefix(name, "hex ")) && bytes.Contains(low, bytes.ToLower(f)) {
			found = append(found, name)
		}
	}
	return found
}

// TestRedactEveryCommandEveryFormat is the acceptance test of --redact:
// no form of any planted value appears in any command's output, in any
// format.
func TestRedactEveryCommandEveryFormat(t *testing.T) {
	path := privacyTrace(t)
	// The fixture really holds the data (else the test proves nothing).
	raw, _ := os.ReadFile(path)
	if l := leaks(raw); len(l) < 10 {
		t.Fatalf("the fixture lacks personal data: only %v", l)
	}
	for _, cmd := range []string{"analyze", "info", "events", "conversations"} {
		for _, f := range report.Formats {
			args := []string{cmd, path, "--redact", "-o", string(f)}
			if cmd == "events" {
				args = append(args, "--fields", "UserName,Password,HostName,QueryName,QueryResults,ProcessPath,ModulePath,Message,RemoteCertSubjectName,LocalCertSubjectName,Fragment,LocalAddress,RemoteAddress")
			}
			code, out, errs := runCLI(t, args...)
			if code != 0 && code != exitTLSProblem {
				t.Fatalf("%v: exit %d: %s", args, code, errs)
			}
			if l := leaks([]byte(out + errs)); len(l) > 0 {
				t.Errorf("%s -o %s --redact leaks %v", cmd, f, l)
			}
		}
	}
	// File names and public names stay readable.
	_, out, _ := runCLI(t, "events", path, "--redact", "-o", "csv", "--fields", "ModulePath")
	for _, keep := range []string{"HCW.exe", "hcw.dll"} {
		if !strings.Contains(out, keep) {
			t.Errorf("--redact removed %q (a file name the engineer needs)", keep)
		}
	}
}

// TestRedactCommand is the acceptance test of `etlscope redact`: the raw
// bytes of OUT hold none of the planted values, and the diagnosis of OUT
// equals that of IN.
func TestRedactCommand(t *testing.T) {
	in := privacyTrace(t)
	dir := tempDir(t)
	out := filepath.Join(dir, "out.etl")
	mapFile := filepath.Join(dir, "map.json")
	code, stdout, errs := runCLI(t, "redact", in, out, "--map", mapFile)
	if code != 0 {
		t.Fatalf("redact: exit %d: %s", code, errs)
	}
	if !strings.Contains(stdout, "replaced:") {
		t.Errorf("no summary:\n%s", stdout)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if l := leaks(data); len(l) > 0 {
		t.Errorf("OUT leaks %v", l)
	}
	for _, a := range []string{pdClientV4, pdServerV4, pdServerV6} {
		if bytes.Contains(data, netip.MustParseAddr(a).AsSlice()) {
			t.Errorf("OUT holds the binary address %s", a)
		}
	}
	if bytes.Contains(data, []byte{0x00, 0x15, 0x5d, 0x01, 0x02, 0x03}) {
		t.Error("OUT holds the binary MAC")
	}
	m, _ := os.ReadFile(mapFile)
	if !bytes.Contains(m, []byte(pdHost)) {
		t.Error("the map does not hold the original names")
	}
	if code, _, errs := runCLI(t, "redact", in, out); code != exitUsage || !strings.Contains(errs, "--force") {
		t.Errorf("overwrite without --force: exit %d: %s", code, errs)
	}
	sameDiagnosis(t, in, out)

	// pcap of OUT opens cleanly in tshark.
	pc := filepath.Join(dir, "out.pcapng")
	if code, _, errs := runCLI(t, "pcap", out, pc); code != 0 {
		t.Fatalf("pcap: exit %d: %s", code, errs)
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed")
	}
	cmd := exec.Command("tshark", "-r", pc, "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE", "-T", "fields", "-e", "_ws.expert.message", "-e", "tls.handshake.type")
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, b)
	}
	if bytes.Contains(bytes.ToLower(b), []byte("bad checksum")) || bytes.Contains(bytes.ToLower(b), []byte("incorrect")) {
		t.Errorf("tshark finds bad checksums:\n%s", b)
	}
	if !bytes.Contains(b, []byte("1")) {
		t.Errorf("tshark does not see the ClientHello in OUT:\n%s", b)
	}
}

// sameDiagnosis checks that analyze and conversations say the same of a
// and b: exit code, verdict titles up to placeholders, versions, ciphers
// and outcomes.
func sameDiagnosis(t *testing.T, a, b string) {
	t.Helper()
	ca, oa, _ := runCLI(t, "analyze", a, "-o", "json")
	cb, ob, _ := runCLI(t, "analyze", b, "-o", "json")
	if ca != cb {
		t.Errorf("analyze exit %d before redact, %d after", ca, cb)
	}
	if va, vb := verdictKinds(oa), verdictKinds(ob); va != vb {
		t.Errorf("verdicts differ:\nbefore %s\nafter  %s", va, vb)
	}
	_, ta, _ := runCLI(t, "conversations", a, "-o", "csv")
	_, tb, _ := runCLI(t, "conversations", b, "-o", "csv")
	if xa, xb := convColumns(ta), convColumns(tb); xa != xb {
		t.Errorf("conversations differ:\nbefore %s\nafter  %s", xa, xb)
	}
}

// verdictKinds extracts the severity and title lines of an analyze JSON.
func verdictKinds(js string) string {
	var out []string
	for _, line := range strings.Split(js, "\n") {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, `"severity"`) || strings.HasPrefix(l, `"negotiated"`) || strings.HasPrefix(l, `"outcome"`) {
			out = append(out, l)
		}
	}
	return strings.Join(out, " | ")
}

// convColumns keeps the pid, versions, cipher and outcome of each row.
func convColumns(csv string) string {
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(csv), "\n") {
		f := strings.Split(line, ",")
		if len(f) >= 10 {
			out = append(out, strings.Join([]string{f[3], f[5], f[6], f[7], f[8], f[9]}, ","))
		}
	}
	return strings.Join(out, "\n")
}

// profileRE finds the user name of a profile path, in text decoded from
// UTF-16LE or ASCII.
var profileRE = regexp.MustCompile(`(?i)\\(?:Users|Documents and Settings)\\([^\\\x00"]+)\\`)

// pathUsers returns the user names in profile paths of raw trace bytes.
func pathUsers(raw []byte) map[string]bool {
	users := map[string]bool{}
	for _, text := range []string{string(raw), utf16Text(raw), utf16Text(raw[1:])} {
		for _, m := range profileRE.FindAllStringSubmatch(text, -1) {
			u := m[1]
			switch strings.ToLower(u) {
			case "public", "default", "default user", "all users":
				continue
			}
			if len(u) >= 3 && len(u) < 40 {
				users[u] = true
			}
		}
	}
	return users
}

func utf16Text(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// TestRedactRealSamples: in the real samples, no user name from a path
// survives `events --redact`, `info --redact` or `redact`; and redact's
// output is still a readable trace with the same record count.
func TestRedactRealSamples(t *testing.T) {
	dir := sharedtest.ETLDir(t)
	names, _ := filepath.Glob(filepath.Join(dir, "*.etl"))
	found := 0
	for _, in := range names {
		raw, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		users := pathUsers(raw)
		t.Run(filepath.Base(in), func(t *testing.T) {
			if len(users) == 0 && len(raw) > 1<<20 {
				// Only the samples with user names in paths matter here;
				// the large others take minutes under --redact (see README).
				t.Skip("no user name in this sample's paths")
			}
			out := filepath.Join(tempDir(t), "out.etl")
			if code, _, errs := runCLI(t, "redact", in, out); code != 0 {
				t.Fatalf("redact: exit %d: %s", code, errs)
			}
			red, _ := os.ReadFile(out)
			_, ev, _ := runCLI(t, "events", in, "--redact", "-o", "csv", "--file-order")
			_, info, _ := runCLI(t, "info", in, "--redact", "-o", "json")
			for u := range users {
				found++
				// As a word: "eric" in "Generic" is no leak.
				word := regexp.MustCompile(`(?i)(^|[^\pL\pN])` + regexp.QuoteMeta(u) + `($|[^\pL\pN])`)
				for what, b := range map[string][]byte{"redact OUT": red, "events --redact": []byte(ev), "info --redact": []byte(info)} {
					if word.Match(b) || word.MatchString(utf16Text(b)) || len(b) > 1 && word.MatchString(utf16Text(b[1:])) {
						t.Errorf("%s keeps the user name %q", what, u)
					}
				}
			}
			_, ia, _ := runCLI(t, "info", in, "-o", "json")
			_, ib, _ := runCLI(t, "info", out, "-o", "json")
			if ra, rb := jsonField(ia, `"events"`), jsonField(ib, `"events"`); ra != rb || ra == "" {
				t.Errorf("records %s before redact, %s after", ra, rb)
			}
		})
	}
	if found == 0 {
		t.Error("no user name found in any sample's paths; the test proves nothing")
	}
}

func utf16Bytes(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

// jsonField returns the first value of key in indented JSON.
func jsonField(js, key string) string {
	for _, line := range strings.Split(js, "\n") {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, key+":") {
			return strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(l, key+":")), ",")
		}
	}
	return ""
}
