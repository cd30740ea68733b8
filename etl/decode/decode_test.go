package decode_test

import (
	"bytes"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
	"github.com/etlscope/etlscope/internal/etltest"
	"github.com/etlscope/etlscope/internal/nettrace"
	"github.com/etlscope/etlscope/internal/sharedtest"
)

// decodeAll writes the builder's trace, reads it back and decodes every
// event (copies, so they can be inspected after the loop).
func decodeAll(t *testing.T, b *nettrace.Builder) []decoded {
	t.Helper()
	data, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	f, err := etl.NewFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	d := decode.New()
	var out []decoded
	for ev, err := range f.Events(etl.ReadOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		d.Observe(ev)
		x := d.Decode(ev)
		if ev.Provider == etl.EventTraceGUID {
			continue
		}
		props := map[string]string{}
		for _, p := range x.Properties {
			props[p.Name] = p.Value.String()
		}
		out = append(out, decoded{provider: x.ProviderName, id: ev.ID, name: x.EventName, desc: x.Description(), warn: x.Warning, props: props})
	}
	return out
}

type decoded struct {
	provider string
	id       uint16
	name     string
	desc     string
	warn     string
	props    map[string]string
}

var (
	proc   = nettrace.Proc{PID: 4321, TID: 99}
	local  = netip.MustParseAddrPort("10.0.0.5:50123")
	remote = netip.MustParseAddrPort("52.97.1.2:443")
)

func TestBuiltinSchemas(t *testing.T) {
	for _, build := range []uint32{9200, 22000} {
		b := nettrace.New(etltest.Options{Build: build})
		var caller *nettrace.SchannelCaller
		if build >= 22000 {
			caller = &nettrace.SchannelCaller{PID: 4321, Image: `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`}
		}
		b.WebIOACHStart(proc, nettrace.ACH{Connection: 0x1000, EnabledProtocols: 0xA0, Version: 0})
		b.WebIOACHStop(proc, nettrace.ACH{Connection: 0x1000, EnabledProtocols: 0xA80, Version: 1, CipherConfig: 7, CredHigh: 1, CredLow: 2})
		b.WebIOACHStop(proc, nettrace.ACH{Connection: 0x1000, EnabledProtocols: 0x800, Version: 1, Result: 0x8009030E})
		b.WebIOISCStop(proc, nettrace.ISC{Connection: 0x1000, HostName: "outlook.office365.com", Result: 0x80090326})
		b.WebIOCertValidation(proc, nettrace.CertValidation{Connection: 0x1000, Errors: 0x10, Error: 0x800B010F, Reason: 5}, true)
		b.SchannelAlertReceived(proc, caller, 70)
		b.SchannelAlertSent(proc, caller, 40, 1203, "outlook.office365.com")
		b.SchannelCredentialError(proc, caller, "client", 10013)
		b.TCPConnect(proc, local, remote, 0, 0xfeed, false)
		b.WinHttpAPI(proc, 0x55, "WinHttpSendRequest", 11, 12175)
		b.WinHttpVersionMismatch(proc, "outlook.office365.com", `C:\x.dll`, "x.dll", `C:\p.exe`, "p.exe")
		b.DNSQueryDone(proc, "outlook.office365.com", 1, 0, "52.97.1.2;")
		b.NDISFrame(make([]byte, 60), true, 7, build >= 17763)
		got := decodeAll(t, b)
		want := []struct {
			id    uint16
			props map[string]string
			desc  string
		}{
			{728, map[string]string{"EnabledProtocols": "0xa0 (SSL3.0|TLS1.0 (client))", "Connection": "0x1000"}, "0x1000: SSL AcquireCredentialsHandle - (EnabledProtocols 0xa0 (SSL3.0|TLS1.0 (client)))"},
			{729, map[string]string{"EnabledProtocols": "0xa80 (TLS1.0|TLS1.1|TLS1.2 (client))", "CipherConfig": "7", "CredHandleLow": "2"}, "returned - (0x0 (SEC_E_OK)) Credential Handle(1:2)"},
			{730, map[string]string{"Result": "0x8009030e (SEC_E_NO_CREDENTIALS)"}, "failed - (0x8009030e (SEC_E_NO_CREDENTIALS))"},
			{703, map[string]string{"HostName": "outlook.office365.com", "Result": "0x80090326 (SEC_E_ILLEGAL_MESSAGE)"}, "(Hostname outlook.office365.com)"},
			{713, map[string]string{"Reason": "5 (Cert Validation Failure)", "ServerCertErrors": "0x10 (CERT_CN_INVALID)"}, "SSL Cert Validation Failure - 5 (Cert Validation Failure)"},
			{36887, map[string]string{"AlertDesc": "70 (protocol_version)"}, "fatal alert code is 70 (protocol_version)"},
			{36888, map[string]string{"AlertDesc": "40 (handshake_failure)", "TargetName": "outlook.office365.com"}, "Target name: outlook.office365.com"},
			{36871, map[string]string{"Type": "client", "ErrorState": "10013"}, "creating a TLS client credential. The internal error state is 10013."},
			{1033, map[string]string{"RemoteAddress": "52.97.1.2:443", "LocalAddress": "10.0.0.5:50123", "ProcessId": "4321"}, "52.97.1.2:443"},
			{11, map[string]string{"Api": "WinHttpSendRequest", "Result": "0x2f8f (ERROR_WINHTTP_SECURE_FAILURE)"}, "WinHttpSendRequest(85) API failed"},
			{1053, map[string]string{"Host": "outlook.office365.com", "ProcessName": "p.exe"}, "version mismatch"},
			{3008, map[string]string{"QueryResults": "52.97.1.2;"}, "outlook.office365.com"},
			{1001, map[string]string{"FragmentSize": "60", "LowerIfIndex": "7"}, "60 bytes"},
		}
		if len(got) != len(want) {
			t.Fatalf("build %d: %d events, want %d", build, len(got), len(want))
		}
		for i, w := range want {
			g := got[i]
			if g.id != w.id || g.warn != "" {
				t.Errorf("build %d event %d: id %d warning %q", build, i, g.id, g.warn)
			}
			for k, v := range w.props {
				if g.props[k] != v {
					t.Errorf("build %d %d: %s = %q, want %q", build, w.id, k, g.props[k], v)
				}
			}
			if !strings.Contains(g.desc, w.desc) {
				t.Errorf("build %d %d: description %q does not contain %q", build, w.id, g.desc, w.desc)
			}
			if w.id >= 36871 && w.id <= 36888 && build >= 22000 && g.props["CallerProcessId"] != "4321" {
				t.Errorf("build %d %d: caller prefix not decoded: %v", build, w.id, g.props)
			}
		}
	}
}

func TestUnknownAndTruncated(t *testing.T) {
	d := decode.New()
	ev := &etl.Event{Kind: etl.KindEventHeader, Provider: etl.MustParseGUID("11111111-2222-3333-4444-555555555555"), ID: 5, PointerSize: 8, UserData: []byte{1, 2, 3}}
	x := d.Decode(ev)
	if x.Warning != "" || x.PropString("UserData") != "010203" {
		t.Errorf("unknown provider: %+v", x)
	}
	// A WebIO 728 cut short: raw hex and a warning, never a panic.
	full := etltest.NewPayload(8).Ptr(1).U32(0xA80).Ptr(0).U16(0).U32(0).U64(1).U64(2).U32(0).Bytes()
	for n := 0; n < len(full); n++ {
		ev := &etl.Event{Kind: etl.KindEventHeader, Provider: decode.WebIO, ID: 728, Version: 1, PointerSize: 8, UserData: full[:n]}
		x := d.Decode(ev)
		if n < 8+4 && x.Warning == "" {
			t.Errorf("%d bytes: no warning", n)
		}
	}
}

// TestSchannelAmbiguity: without the OS build, a payload that fits both
// Schannel layouts is flagged; with the build, the right one is taken.
func TestSchannelAmbiguity(t *testing.T) {
	// Old 36888 layout: AlertDesc, ErrorState, TargetName "outlook.office365.com".
	data := etltest.NewPayload(8).U32(40).U32(1203).UTF16Z("outlook.office365.com").Bytes()
	ev := &etl.Event{Kind: etl.KindEventHeader, Provider: decode.Schannel, ID: 36888, PointerSize: 8, UserData: data}
	d := decode.New()
	if x := d.Decode(ev); !strings.Contains(x.Warning, "fits both Schannel layouts") {
		t.Errorf("unknown build: warning %q, %v", x.Warning, x.Properties)
	}
	d.SetOSBuild(17763)
	if x := d.Decode(ev); x.Warning != "" || x.PropString("TargetName") != "outlook.office365.com" || x.PropString("AlertDesc") != "40 (handshake_failure)" {
		t.Errorf("build 17763: %+v", x)
	}
}

func TestWPPMessage(t *testing.T) {
	g := etl.MustParseGUID("37d2c3cd-c5d4-4587-8531-4696c44244c8")
	x := decode.New().Decode(&etl.Event{Kind: etl.KindMessage, Provider: g, MessageGUID: g, MessageNumber: 12, UserData: []byte{1, 2}})
	if x.EventName != "WPP" || !strings.Contains(x.Description(), "WPP message 12 of 37d2c3cd") || x.PropString("UserData") != "0102" || x.ProviderName != "Schannel WPP" {
		t.Errorf("%+v", x)
	}
}

func TestProtocolNames(t *testing.T) {
	tests := map[uint32]string{
		0x800:      "TLS1.2 (client)",
		0xA80:      "TLS1.0|TLS1.1|TLS1.2 (client)",
		0xA0:       "SSL3.0|TLS1.0 (client)",
		0x2800:     "TLS1.2|TLS1.3 (client)",
		0xC00:      "TLS1.2 server|TLS1.2",
		0:          "none (system default)",
		0x10000800: "TLS1.2|0x10000000",
	}
	for in, want := range tests {
		if got := decode.ProtocolNames(in); got != want {
			t.Errorf("%#x: %q, want %q", in, got, want)
		}
	}
}

// TestRealTraceLogging decodes the TraceLogging samples and compares field
// names and values with what the files contain.
func TestRealTraceLogging(t *testing.T) {
	dir := sharedtest.ETLDir(t)
	tests := []struct {
		file   string
		first  string // description of the first TraceLogging event
		events int
	}{
		{"tracelogging-primitive-types-win10-19043.etl", "PrimitiveTypesTest: string_type=Mercury, boolean_type=0, char_type=77, int16_type=-51, int32_type=-102, uint16_type=51, uint32_type=102", 5},
		{"amsi-tracelogging-win10-18362.etl", `AmsiScript: Engine=VBScript, Script=IWshShell3.Run("powershell.exe -nop -w 1 -enc RwBlAHQALQBBAGwAaQBhAHMA", "0", "true");`, 19},
		{"selfdescribing-compressed-win11-22000.etl", "TestEvent: a.b=Hello, a.c=World!", 1},
		// EventSource events with arrays of key/value structures.
		{"dotnet-user-large-win10-19041.etl", "Message: Message=DiagnosticSource: Enabling 'SqlClientDiagnosticListener/Microsoft.Data.SqlClient.WriteCommandError'", 256},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := etl.Open(filepath.Join(dir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			d := decode.New()
			n := 0
			for ev, err := range f.Events(etl.ReadOptions{}) {
				if err != nil {
					t.Fatal(err)
				}
				d.Observe(ev)
				x := d.Decode(ev)
				if _, ok := ev.Ext(etl.ExtEventSchemaTL); !ok {
					continue
				}
				if x.Warning != "" || x.EventName == "" || len(x.Properties) == 0 || x.ProviderName == "" {
					t.Fatalf("event %d: %+v", n, x)
				}
				if n == 0 && !strings.HasPrefix(x.Description(), tt.first) {
					t.Errorf("first event:\n got %q\nwant %q…", x.Description(), tt.first)
				}
				n++
			}
			if n != tt.events {
				t.Errorf("%d TraceLogging events, want %d", n, tt.events)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(uint16(728), uint8(1), true, etltest.NewPayload(8).Ptr(1).U32(0xA80).Ptr(0).U16(0).U32(0).U64(1).U64(2).U32(0).Bytes())
	f.Add(uint16(36888), uint8(0), false, []byte{70, 0, 0, 0, 1, 0, 0, 0, 'a', 0, 0, 0})
	f.Add(uint16(1033), uint8(0), true, []byte{16, 0, 0, 0, 2, 0, 1, 187, 10, 0, 0, 5})
	ids := []etl.GUID{decode.WebIO, decode.Schannel, decode.TCPIP, decode.WinHttp, decode.NDISCapture, decode.DNSClient, decode.PktMon}
	f.Fuzz(func(t *testing.T, id uint16, version uint8, ptr8 bool, data []byte) {
		d := decode.New()
		ps := 4
		if ptr8 {
			ps = 8
		}
		for _, g := range ids {
			ev := &etl.Event{Kind: etl.KindEventHeader, Provider: g, ID: id, Version: version, PointerSize: ps, UserData: data}
			_ = d.Decode(ev).Description
			// The same bytes as TraceLogging metadata.
			ev.Extended = []etl.ExtendedItem{{Type: etl.ExtEventSchemaTL, Data: data}}
			_ = d.Decode(ev).Description
		}
		// And as an embedded TRACE_EVENT_INFO, then an event it describes.
		meta := &etl.Event{Kind: etl.KindFull, Provider: etl.MustParseGUID("bbccf6c1-6cd1-48c4-80ff-839482e37671"), Opcode: 32, UserData: data}
		d.Observe(meta)
		if len(data) >= 36 {
			ev := &etl.Event{Kind: etl.KindEventHeader, Provider: etl.GUIDFromBytes(data), ID: uint16(data[32]) | uint16(data[33])<<8, Version: data[34], PointerSize: ps, UserData: data}
			_ = d.Decode(ev).Description
		}
	})
}

// TestEmbeddedMetadata learns the TRACE_EVENT_INFO schemas that
// KernelTraceControl embedded in merged-ktc-metadata and decodes the .NET
// runtime events of the same capture (dotnet-user-large) with them: no
// built-in schema or manifest knows those events.
func TestEmbeddedMetadata(t *testing.T) {
	dir := sharedtest.ETLDir(t)
	d := decode.New()
	for _, name := range []string{"merged-ktc-metadata-win10-19041.etl", "dotnet-user-large-win10-19041.etl"} {
		f, err := etl.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		named, methodLoads := 0, 0
		for ev, err := range f.Events(etl.ReadOptions{}) {
			if err != nil {
				t.Fatal(err)
			}
			d.Observe(ev)
			if ev.Provider != etl.MustParseGUID("e13c0d23-ccbc-4e12-931b-d9cc2eee27e4") {
				continue
			}
			x := d.Decode(ev)
			if x.EventName != "" {
				named++
				if x.Warning != "" {
					t.Fatalf("event %d v%d: %s", ev.ID, ev.Version, x.Warning)
				}
			}
			if ev.ID == 143 && ev.Version == 1 {
				methodLoads++
				if x.EventName != "CLRMethod/MethodLoadVerbose" || x.PropString("MethodName") == "" || x.PropString("MethodNamespace") == "" {
					t.Fatalf("MethodLoadVerbose: %+v", x)
				}
			}
		}
		f.Close()
		if name == "dotnet-user-large-win10-19041.etl" && (named < 5000 || methodLoads != 4875) {
			t.Errorf("%d .NET events decoded from embedded metadata, %d MethodLoadVerbose (want 4875)", named, methodLoads)
		}
	}
}

func TestManifest(t *testing.T) {
	const xml = `<instrumentationManifest xmlns="http://schemas.microsoft.com/win/2004/08/events">
 <instrumentation><events>
  <provider name="Contoso-Test" guid="{11111111-2222-3333-4444-555555555555}">
   <events><event value="7" version="0" symbol="Hello" task="Greeting" template="T1" message="$(string.m1)"/></events>
   <templates><template tid="T1">
    <data name="Count" inType="win:UInt32"/>
    <data name="Name" inType="win:UnicodeString"/>
    <data name="Len" inType="win:UInt16"/>
    <data name="Blob" inType="win:Binary" length="Len"/>
   </template></templates>
  </provider>
 </events></instrumentation>
 <localization><resources culture="en-US"><stringTable><string id="m1" value="Hello %2, count %1%n(blob %4)"/></stringTable></resources></localization>
</instrumentationManifest>`
	d := decode.New()
	if err := d.LoadManifest(strings.NewReader(xml)); err != nil {
		t.Fatal(err)
	}
	g := etl.MustParseGUID("11111111-2222-3333-4444-555555555555")
	data := etltest.NewPayload(8).U32(3).UTF16Z("world").U16(2).Raw([]byte{0xab, 0xcd}).Bytes()
	x := d.Decode(&etl.Event{Kind: etl.KindEventHeader, Provider: g, ID: 7, PointerSize: 8, UserData: data})
	if x.ProviderName != "Contoso-Test" || x.EventName != "Hello" || x.Description() != "Hello world, count 3 (blob abcd)" || x.Warning != "" {
		t.Errorf("%+v", x)
	}
	if err := d.LoadManifest(strings.NewReader("<notamanifest/>")); err == nil {
		t.Error("no error for a file without providers")
	}
}

// TestMoreSchemas decodes hand-built payloads of the WinINet, Schannel-Events
// and EventTrace header layouts.
func TestMoreSchemas(t *testing.T) {
	d := decode.New()
	tests := []struct {
		provider etl.GUID
		id       uint16
		kind     etl.HeaderKind
		data     []byte
		props    map[string]string
	}{
		{decode.WinINet, 705, etl.KindEventHeader, etltest.NewPayload(8).Ptr(0x10).U16(4).Raw([]byte("abcd")).U32(2).Bytes(), map[string]string{"CertHash": "abcd", "WarningFlags": "0x2"}},
		{decode.WinINet, 703, etl.KindEventHeader, etltest.NewPayload(8).Ptr(0x10).U32(12157).Bytes(), map[string]string{"Error": "0x2f7d (ERROR_WINHTTP_SECURE_CHANNEL_ERROR)"}},
		{decode.WinINet, 305, etl.KindEventHeader, etltest.NewPayload(8).U16(9).Raw([]byte("a.example")).Ptr(1).U16(8).Raw([]byte("10.0.0.1")).Bytes(), map[string]string{"HostName": "a.example", "AddressList": "10.0.0.1"}},
		{decode.WinHttp, 814, etl.KindEventHeader, etltest.NewPayload(8).U16(5).UTF16("a/b.c").U16(6).UTF16("PROXY ").Bytes(), map[string]string{"URL": "a/b.c", "ProxyString": "PROXY "}},
		{decode.TCPIP, 1043, etl.KindEventHeader, etltest.NewPayload(8).U32(16).SockaddrIn(netip.MustParseAddrPort("10.0.0.5:50123")).U32(16).SockaddrIn(netip.MustParseAddrPort("52.97.1.2:443")).U32(0).U32(4321).U32(1).Ptr(9).Bytes(), map[string]string{"RemoteAddress": "52.97.1.2:443", "ProcessId": "4321"}},
		{decode.SchannelEvt, 258, etl.KindEventHeader, etltest.NewPayload(8).U32(0x80090331).Bytes(), map[string]string{"ReturnValue": "0x80090331 (SEC_E_ALGORITHM_MISMATCH)"}},
		{decode.SchannelEvt, 1793, etl.KindEventHeader, etltest.NewPayload(4).Ptr(7).UTF16Z("outlook.office365.com").Bytes(), map[string]string{"ContextHandle": "0x7", "TargetName": "outlook.office365.com"}},
		{etl.EventTraceGUID, 0, etl.KindSystem, etltest.NewPayload(8).U32(65536).U32(0x0a000000).U32(19041).U32(4).U64(0).U32(156250).U32(512).U32(1).U32(9).U32(0).U32(8).U32(3).U32(2400).Ptr(0).Ptr(0).Raw(make([]byte, 200)).Bytes(),
			map[string]string{"ProviderVersion": "19041", "NumberOfProcessors": "4", "EventsLost": "3", "PointerSize": "8"}},
	}
	for _, tt := range tests {
		ev := &etl.Event{Kind: tt.kind, Provider: tt.provider, ID: tt.id, PointerSize: 8, UserData: tt.data}
		if tt.id == 814 {
			ev.Version = 1
		}
		if tt.id == 1793 { // a 32-bit writer
			ev.PointerSize = 4
		}
		x := d.Decode(ev)
		if x.Warning != "" {
			t.Errorf("%s %d: %s", x.ProviderName, tt.id, x.Warning)
		}
		for k, v := range tt.props {
			if got := x.PropString(k); got != v {
				t.Errorf("%s %d: %s = %q, want %q", x.ProviderName, tt.id, k, got, v)
			}
		}
	}
}
