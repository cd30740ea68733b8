package trace

import (
	"reflect"
	"testing"
)

func TestParseWinHTTPTracing(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want WinHTTPTracing
	}{
		{"never configured", "\nWinHTTP trace configuration not set.\n", WinHTTPTracing{Known: true}},
		{"disabled", winHTTPOffOutput, WinHTTPTracing{Known: true, Configured: true}},
		{"not enabled, settings kept (CRLF)", configuredOff, WinHTTPTracing{Known: true, Configured: true, Prefix: `C:\Temp\Test3`, Output: "file", Level: "verbose", Format: "ansi", MaxSize: 65535}},
		{"enabled, file and debugger", configuredOn, WinHTTPTracing{Known: true, Configured: true, Enabled: true, Output: "both", Level: "default", Format: "ansi", MaxSize: 65535}},
		{"debugger only, odd values ignored", "Tracing is enabled.\nTrace Output: debugger\nTrace Level: loud\nNetwork Traffic Format: ebcdic\nMaximum size of trace file (in bytes): -5\n",
			WinHTTPTracing{Known: true, Configured: true, Enabled: true, Output: "debugger"}},
		{"non-breaking spaces", "Tracing is enabled.\n\u00a0\u00a0Trace Level:\u00a0 verbose (headers, APIs, and entity body)\n", WinHTTPTracing{Known: true, Configured: true, Enabled: true, Level: "verbose"}},
		// Windows 7+: Microsoft's netsh winhttp reference says show tracing
		// points to netsh trace; the wording here is illustrative, the
		// parser keys only on "netsh trace" without a state line.
		{"Windows 7+ pointer to netsh trace", "\r\nThis command is superseded: use \"netsh trace show\" to view WinHTTP tracing.\r\n", WinHTTPTracing{Known: true, NetshTrace: true}},
		{"Vista layout that mentions netsh trace later stays Vista", "Tracing is disabled.\nSee also netsh trace.\n", WinHTTPTracing{Known: true, Configured: true}},
		{"localized", "Aktuelle WinHTTP-Ablaufverfolgungseinstellungen:\n  Ablaufverfolgung ist deaktiviert.\n", WinHTTPTracing{}},
		{"empty", "", WinHTTPTracing{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseWinHTTPTracing([]byte(tt.in)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestRestoreCommand(t *testing.T) {
	tests := []struct {
		in   WinHTTPTracing
		want string
	}{
		{WinHTTPTracing{}, "netsh winhttp set tracing state=disabled"},
		{WinHTTPTracing{Known: true}, "netsh winhttp set tracing state=disabled"},
		{WinHTTPTracing{Known: true, Configured: true}, "netsh winhttp set tracing state=disabled"},
		{WinHTTPTracing{Known: true, Configured: true, Enabled: true, Prefix: `C:\x`, Level: "default"}, "netsh winhttp set tracing level=default state=enabled"},
		{WinHTTPTracing{Known: true, Configured: true, Output: "file", Level: "verbose", Format: "hex", MaxSize: 512000}, "netsh winhttp set tracing output=file level=verbose format=hex max-trace-file-size=512000 state=disabled"},
	}
	for _, tt := range tests {
		if got := tt.in.RestoreCommand().String(); got != tt.want {
			t.Errorf("%+v: %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestRedirectsToNetshTrace(t *testing.T) {
	for in, want := range map[string]bool{
		"Use \"netsh trace start scenario=InternetClient\" instead.": true,
		winHTTPOffOutput: false,
		configuredOn:     false,
		"":               false,
		"The following command was not found: winhttp set tracing.": false,
	} {
		if got := RedirectsToNetshTrace([]byte(in)); got != want {
			t.Errorf("%q: %v, want %v", in, got, want)
		}
	}
	if got := (WinHTTPTracing{Known: true, NetshTrace: true}).RestoreCommand().String(); got != "netsh winhttp set tracing state=disabled" {
		t.Errorf("restore %s", got)
	}
}

func TestParseTraceStatus(t *testing.T) {
	tests := []struct {
		in   string
		want TraceStatus
	}{
		{noSession, TraceStatus{Known: true}},
		{running, TraceStatus{Known: true, Running: true, File: `C:\Users\a\AppData\Local\Temp\NetTraces\NetTrace.etl`}},
		{"Status: Stopped\n", TraceStatus{Known: true}},
		{"Es wird keine Ablaufverfolgungssitzung ausgeführt.", TraceStatus{}},
		{"", TraceStatus{}},
	}
	for _, tt := range tests {
		if got := ParseTraceStatus([]byte(tt.in)); got != tt.want {
			t.Errorf("%q: %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

// FuzzParseNetsh feeds arbitrary netsh output to both parsers and checks
// that a restore command built from it only ever uses the known settings.
func FuzzParseNetsh(f *testing.F) {
	for _, s := range []string{winHTTPOffOutput, configuredOff, configuredOn, noSession, running, "WinHTTP trace configuration not set."} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseTraceStatus(b)
		w := ParseWinHTTPTracing(b)
		c := w.RestoreCommand()
		if c.Name != "netsh" || len(c.Args) < 4 || len(c.Args) > 8 {
			t.Fatalf("restore %q", c)
		}
		for _, a := range c.Args[3:] {
			switch a {
			case "output=file", "output=debugger", "output=both", "level=default", "level=verbose",
				"format=hex", "format=ansi", "state=enabled", "state=disabled":
			default:
				if len(a) < 21 || a[:20] != "max-trace-file-size=" {
					t.Fatalf("restore argument %q", a)
				}
			}
		}
	})
}
