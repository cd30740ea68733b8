package report

import "fmt"

// OSProfile is what the trace's Windows build implies for TLS 1.2 in
// WinHTTP and Schannel (providers.md §3.7, verified from Microsoft's
// "Protocols in TLS/SSL (Schannel SSP)", the WinHTTP option docs and the
// HCW article).
type OSProfile struct {
	Build             uint32
	Name              string
	TLS12InOS         bool // Schannel client TLS 1.2 enabled by default
	TLS12InWinHTTP    bool // WinHTTP's default mask includes TLS 1.2
	NeedsKB3140245    bool // DefaultSecureProtocols needs KB3140245
	TLS13InOS         bool
	WinHTTPDefaultTLS string // the default mask, in words
}

// ProfileForBuild returns the profile of a Windows build (0 = unknown).
func ProfileForBuild(build uint32) OSProfile {
	p := OSProfile{Build: build}
	switch {
	case build == 0:
		p.Name = "unknown Windows version"
	case build < 7600:
		p.Name = "Windows Vista / Server 2008"
		p.WinHTTPDefaultTLS = "SSL3, TLS1.0"
	case build <= 7601:
		p.Name = "Windows 7 / Server 2008 R2"
		p.NeedsKB3140245 = true
		p.WinHTTPDefaultTLS = "SSL3, TLS1.0 (0xA0)"
	case build <= 9200:
		p.Name = "Windows 8 / Server 2012"
		p.TLS12InOS = true
		p.NeedsKB3140245 = true
		p.WinHTTPDefaultTLS = "SSL3, TLS1.0 (0xA0)"
	case build <= 9600:
		p.Name = "Windows 8.1 / Server 2012 R2"
		p.TLS12InOS, p.TLS12InWinHTTP = true, true
		p.WinHTTPDefaultTLS = "SSL3, TLS1.0, TLS1.1, TLS1.2 (0xAA0)"
	case build < 20348:
		p.Name = "Windows 10 / Server 2016-2019"
		p.TLS12InOS, p.TLS12InWinHTTP = true, true
		p.WinHTTPDefaultTLS = "SSL3, TLS1.0, TLS1.1, TLS1.2 (0xAA0)"
	default:
		p.Name = "Windows 11 / Server 2022 or later"
		p.TLS12InOS, p.TLS12InWinHTTP, p.TLS13InOS = true, true, true
		p.WinHTTPDefaultTLS = "TLS1.2 and TLS1.3 (TLS 1.3 in the WinHTTP default is believed, not verified)"
	}
	return p
}

// Registry keys of the fixes.
const (
	winHTTPKey    = `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings\WinHttp`
	winHTTPKeyWow = `HKLM\SOFTWARE\Wow6432Node\Microsoft\Windows\CurrentVersion\Internet Settings\WinHttp`
	schannelTLS12 = `HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2\Client`
)

// TLS12Fix returns the steps that enable TLS 1.2 for WinHTTP on p, as
// ready-to-paste commands where possible.
func TLS12Fix(p OSProfile) []string {
	var steps []string
	if p.NeedsKB3140245 {
		steps = append(steps, "Install update KB3140245 (Windows Update or the Microsoft Update Catalog); it lets WinHTTP honour DefaultSecureProtocols on "+p.Name+". Reinstall it if a language pack was added afterwards.")
	}
	if p.Build != 0 && !p.TLS12InOS {
		steps = append(steps,
			fmt.Sprintf(`reg add "%s" /v DisabledByDefault /t REG_DWORD /d 0 /f`, schannelTLS12),
			fmt.Sprintf(`reg add "%s" /v Enabled /t REG_DWORD /d 1 /f`, schannelTLS12))
	}
	steps = append(steps,
		fmt.Sprintf(`reg add "%s" /v DefaultSecureProtocols /t REG_DWORD /d 0x00000A80 /f`, winHTTPKey),
		fmt.Sprintf(`reg add "%s" /v DefaultSecureProtocols /t REG_DWORD /d 0x00000A80 /f`, winHTTPKeyWow),
		"(0xA80 = TLS 1.0 + 1.1 + 1.2; use 0x800 for TLS 1.2 only.) Restart the application (for HCW: close and rerun the wizard); a reboot makes sure every service picks it up.",
		"If the application sets WINHTTP_OPTION_SECURE_PROTOCOLS itself, DefaultSecureProtocols does not apply: update or configure the application.")
	return steps
}

// ProtocolNamesClient names an SP_PROT / WinHTTP protocol mask, e.g.
// 0xA80 → "TLS1.0|TLS1.1|TLS1.2".
func ProtocolNamesClient(mask uint32) string { return tlsNames(mask) }

// SchannelTLS12Fix returns the SCHANNEL registry lines that enable the TLS
// 1.2 client for every application (a reboot applies them).
func SchannelTLS12Fix() []string {
	return []string{
		fmt.Sprintf(`reg add "%s" /v DisabledByDefault /t REG_DWORD /d 0 /f`, schannelTLS12),
		fmt.Sprintf(`reg add "%s" /v Enabled /t REG_DWORD /d 1 /f`, schannelTLS12),
		"Reboot: SCHANNEL reads these keys at startup.",
	}
}
