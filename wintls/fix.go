package wintls

import "fmt"

// Registry keys the fixes write.
const (
	WinHTTPKey      = `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings\WinHttp`
	WinHTTPKeyWow64 = `HKLM\SOFTWARE\Wow6432Node\Microsoft\Windows\CurrentVersion\Internet Settings\WinHttp`
	SchannelKey     = `HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols`
)

// SchannelProtocolKey is the SCHANNEL key of one protocol and role, e.g.
// SchannelProtocolKey("TLS 1.2", "Client").
func SchannelProtocolKey(proto, role string) string {
	return SchannelKey + `\` + proto + `\` + role
}

// Bits is the width of the Windows that a fix is for: 64-bit Windows has a
// second (Wow6432Node) registry view for 32-bit programs.
type Bits uint8

// Widths. BitsUnknown gives the lines for both.
const (
	BitsUnknown Bits = 0
	Bits32      Bits = 32
	Bits64      Bits = 64
)

// BitsFromPointerSize maps a trace's pointer size (4 or 8) to Bits.
func BitsFromPointerSize(n int) Bits {
	switch n {
	case 4:
		return Bits32
	case 8:
		return Bits64
	}
	return BitsUnknown
}

// RegAddDWORD returns a ready-to-paste reg add line that sets a DWORD:
// flags (0-9) in decimal, masks in hex as the documentation writes them.
func RegAddDWORD(key, name string, value uint32) string {
	d := fmt.Sprint(value)
	if value > 9 {
		d = fmt.Sprintf("0x%08X", value)
	}
	return fmt.Sprintf(`reg add "%s" /v %s /t REG_DWORD /d %s /f`, key, name, d)
}

// View returns the reg.exe option that names the registry view: on 64-bit
// Windows (and when the width is unknown) " /reg:64", so a line pasted into
// a 32-bit console still writes the key it names instead of its Wow6432Node
// twin; 32-bit Windows has one view and needs none.
func (b Bits) View() string {
	if b == Bits32 {
		return ""
	}
	return " /reg:64"
}

// Notes that go with the fix lines.
const (
	SchannelRebootNote = "Reboot: SCHANNEL reads its protocol keys only at startup."
	WinHTTPRestartNote = "Restart the application (for HCW: close and rerun the wizard); a reboot makes sure every service picks the value up."
	AppOptionNote      = "If the application sets WINHTTP_OPTION_SECURE_PROTOCOLS itself, DefaultSecureProtocols does not apply: update or configure the application."
)

// WinHTTPTLS12Fix returns the steps that make WinHTTP ask for TLS 1.2 on
// r, as ready-to-paste commands where possible: KB3140245 where it applies
// (7 SP1, 2008 R2 SP1, 2012 — never 2012 R2 or later), the SCHANNEL client
// keys where TLS 1.2 is off in SCHANNEL by default (7 / 2008 R2), and
// DefaultSecureProtocols in the native and Wow6432Node WinHttp keys.
func WinHTTPTLS12Fix(r Release, b Bits) []string {
	var steps []string
	switch r.KB3140245 {
	case KBNeedsSP1:
		steps = append(steps, "Install Service Pack 1, then update KB3140245: the update lets WinHTTP honour DefaultSecureProtocols on "+r.Name+".")
	case KBNeeded:
		steps = append(steps, "Install update KB3140245 (Windows Update or the Microsoft Update Catalog); it lets WinHTTP honour DefaultSecureProtocols on "+r.Name+". Reinstall it if a language pack was added afterwards.")
	case KBUnavailable:
		if r.Build >= 9200 && r.Build < 9600 {
			steps = append(steps, "Windows 8 (client) never got KB3140245: upgrade to Windows 8.1 or later. On Windows Server 2012 install KB3140245.")
		} else if r.Build != 0 {
			steps = append(steps, r.Name+" has no DefaultSecureProtocols support (KB3140245 does not apply): upgrade Windows, or have the application set WINHTTP_OPTION_SECURE_PROTOCOLS.")
		}
	}
	if r.Known() && !r.SchannelTLS12 {
		steps = append(steps, SchannelTLS12ClientFix()...)
	}
	steps = append(steps, RegAddDWORD(WinHTTPKey, "DefaultSecureProtocols", uint32(DefaultSecureTLS10to12))+b.View())
	if b != Bits32 {
		steps = append(steps, RegAddDWORD(WinHTTPKeyWow64, "DefaultSecureProtocols", uint32(DefaultSecureTLS10to12))+b.View())
	}
	steps = append(steps,
		"(0xA80 = TLS 1.0 + 1.1 + 1.2; use 0x800 for TLS 1.2 only.) "+WinHTTPRestartNote,
		AppOptionNote)
	return steps
}

// SchannelTLS12ClientFix returns the SCHANNEL registry lines that enable the
// TLS 1.2 client for every application, with the reboot they need.
// SCHANNEL keys live under HKLM\SYSTEM, which has one registry view.
func SchannelTLS12ClientFix() []string {
	k := SchannelProtocolKey("TLS 1.2", "Client")
	return []string{
		RegAddDWORD(k, "Enabled", 1),
		RegAddDWORD(k, "DisabledByDefault", 0),
		SchannelRebootNote,
	}
}

// .NET Framework keys (verified: dotnet/docs "Transport Layer Security
// (TLS) best practices with the .NET Framework", Azure AD Connect docs).
// v2.0.50727 is the key .NET Framework 3.5 (and 2.0) applications read.
const (
	DotNet4Key      = `HKLM\SOFTWARE\Microsoft\.NETFramework\v4.0.30319`
	DotNet4KeyWow64 = `HKLM\SOFTWARE\Wow6432Node\Microsoft\.NETFramework\v4.0.30319`
	DotNet2Key      = `HKLM\SOFTWARE\Microsoft\.NETFramework\v2.0.50727`
	DotNet2KeyWow64 = `HKLM\SOFTWARE\Wow6432Node\Microsoft\.NETFramework\v2.0.50727`
	DotNetRestart   = "Restart the .NET application (or its service): the .NET Framework reads these values at startup."
)

// DotNetKeys are the .NET Framework keys of b's registry views: v4.0.30319
// and v2.0.50727, native then (on 64-bit or unknown width) Wow6432Node.
func DotNetKeys(b Bits) []string {
	keys := []string{DotNet4Key, DotNet2Key}
	if b != Bits32 {
		keys = append(keys, DotNet4KeyWow64, DotNet2KeyWow64)
	}
	return keys
}

// ClientTLS12Fix returns the steps that make any Schannel client offer TLS
// 1.2 when the trace does not say which stack the client uses: the
// SCHANNEL client keys where TLS 1.2 is off by default, the .NET Framework
// keys, and DefaultSecureProtocols for the case that it is WinHTTP.
func ClientTLS12Fix(r Release, b Bits) []string {
	steps := []string{"Find the program that opened the connection (its pid is in the connection table); the trace does not show which TLS stack it uses."}
	if r.Known() && !r.SchannelTLS12 {
		steps = append(steps, SchannelTLS12ClientFix()...)
	}
	steps = append(steps, "If it is a .NET Framework program:",
		RegAddDWORD(DotNet4Key, "SchUseStrongCrypto", 1)+b.View(),
		RegAddDWORD(DotNet4Key, "SystemDefaultTlsVersions", 1)+b.View())
	if b != Bits32 {
		steps = append(steps,
			RegAddDWORD(DotNet4KeyWow64, "SchUseStrongCrypto", 1)+b.View(),
			RegAddDWORD(DotNet4KeyWow64, "SystemDefaultTlsVersions", 1)+b.View())
	}
	steps = append(steps, DotNetRestart, "If it uses WinHTTP:")
	w := WinHTTPTLS12Fix(r, b)
	return append(steps, w...)
}
