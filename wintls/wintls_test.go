package wintls

import (
	"strings"
	"testing"
)

// The expectations below restate Microsoft's tables, not this package:
// "Protocols in TLS/SSL (Schannel SSP)" (SCHANNEL defaults per release),
// the WinHTTP option reference ("By default only SSL3 and TLS1 are enabled
// in Windows 7 and Windows 8 … SSL3, TLS1.0, TLS1.1, and TLS1.2 in Windows
// 8.1 and Windows 10") and the KB3140245 text (Windows 7 SP1, Windows Server
// 2008 R2 SP1, Windows Server 2012).
func TestLookup(t *testing.T) {
	tests := []struct {
		build      uint32
		ed         Edition
		name       string
		schannel12 bool
		schannel13 bool
		winhttp    Protocols
		kb         KBStatus
		believed   bool
	}{
		{0, EditionUnknown, "unknown Windows version", false, false, 0, KBNotNeeded, false},
		{6002, EditionServer, "Windows Server 2008", false, false, 0xA0, KBUnavailable, true},
		{7600, EditionClient, "Windows 7 (no SP1)", false, false, 0xA0, KBNeedsSP1, false},
		{7601, EditionUnknown, "Windows 7 / Server 2008 R2", false, false, 0xA0, KBNeeded, false},
		{9200, EditionUnknown, "Windows 8 / Server 2012", true, false, 0xA0, KBNeeded, false},
		{9200, EditionServer, "Windows Server 2012", true, false, 0xA0, KBNeeded, false},
		{9200, EditionClient, "Windows 8", true, false, 0xA0, KBUnavailable, false},
		{9600, EditionUnknown, "Windows 8.1 / Server 2012 R2", true, false, 0xAA0, KBNotNeeded, false},
		{14393, EditionServer, "Windows Server 2016", true, false, 0xAA0, KBNotNeeded, false},
		{17763, EditionUnknown, "Windows 10 / Windows Server 2019", true, false, 0xAA0, KBNotNeeded, false},
		{19045, EditionClient, "Windows 10", true, false, 0xAA0, KBNotNeeded, false},
		// 20348 is Server 2022: TLS 1.3 in SCHANNEL (verified); the two
		// build tables this package replaced disagreed about it.
		{20348, EditionUnknown, "Windows Server 2022", true, true, 0x2AA0, KBNotNeeded, true},
		{22621, EditionClient, "Windows 11", true, true, 0x2AA0, KBNotNeeded, true},
		{26100, EditionServer, "Windows Server 2025", true, true, 0x2AA0, KBNotNeeded, true},
	}
	for _, tt := range tests {
		r := Lookup(tt.build, tt.ed)
		if r.Name != tt.name || r.SchannelTLS12 != tt.schannel12 || r.SchannelTLS13 != tt.schannel13 ||
			r.WinHTTPDefault != tt.winhttp || r.KB3140245 != tt.kb || (r.Believed != "") != tt.believed {
			t.Errorf("Lookup(%d, %d) = %+v", tt.build, tt.ed, r)
		}
	}
}

func TestWinHTTPTLS12Fix(t *testing.T) {
	tests := []struct {
		build     uint32
		ed        Edition
		bits      Bits
		want, not []string
	}{
		{7601, EditionUnknown, Bits64, []string{"KB3140245", `TLS 1.2\Client" /v Enabled /t REG_DWORD /d 1 /f`, "Reboot",
			`Internet Settings\WinHttp" /v DefaultSecureProtocols /t REG_DWORD /d 0x00000A80 /f /reg:64`, `Wow6432Node\Microsoft`}, nil},
		{9200, EditionUnknown, BitsUnknown, []string{"KB3140245", "Wow6432Node"}, []string{"SCHANNEL"}},
		{9200, EditionClient, Bits64, []string{"upgrade to Windows 8.1"}, []string{"Install update KB3140245"}},
		{9600, EditionUnknown, Bits64, []string{"DefaultSecureProtocols"}, []string{"KB3140245", "SCHANNEL"}},
		{17763, EditionUnknown, Bits32, []string{`WinHttp" /v DefaultSecureProtocols /t REG_DWORD /d 0x00000A80 /f`}, []string{"Wow6432Node", "/reg:"}},
		{0, EditionUnknown, BitsUnknown, []string{"DefaultSecureProtocols"}, []string{"KB3140245", "SCHANNEL"}},
	}
	for _, tt := range tests {
		got := strings.Join(WinHTTPTLS12Fix(Lookup(tt.build, tt.ed), tt.bits), "\n")
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("build %d: fix lacks %q:\n%s", tt.build, w, got)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(got, n) {
				t.Errorf("build %d: fix has %q:\n%s", tt.build, n, got)
			}
		}
	}
}

func TestProtocolNames(t *testing.T) {
	tests := []struct {
		in   Protocols
		want string
	}{
		{0, "none (system default)"},
		{0xA0, "SSL3.0|TLS1.0 (client)"},
		{0xA80, "TLS1.0|TLS1.1|TLS1.2 (client)"},
		{0x2800, "TLS1.2|TLS1.3 (client)"},
		{0xC00, "TLS1.2 server|TLS1.2"},
		{0x800 | 0x100000, "TLS1.2|0x100000"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("%#x: %q, want %q", uint32(tt.in), got, tt.want)
		}
	}
}

func TestDisabledByDefaultBlocksWinHTTP(t *testing.T) {
	for build, want := range map[uint32]bool{7601: true, 7600: true, 9200: false, 9600: false, 17763: false, 0: false} {
		if got := DisabledByDefaultBlocksWinHTTP(Lookup(build, EditionUnknown)); got != want {
			t.Errorf("build %d: %v, want %v", build, got, want)
		}
	}
}

func TestDotNetKeys(t *testing.T) {
	if got := DotNetKeys(Bits32); len(got) != 2 || got[1] != DotNet2Key {
		t.Errorf("32-bit: %q", got)
	}
	if got := DotNetKeys(Bits64); len(got) != 4 || got[3] != DotNet2KeyWow64 {
		t.Errorf("64-bit: %q", got)
	}
}
