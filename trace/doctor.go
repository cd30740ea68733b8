package trace

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/etlscope/etlscope/wintls"
)

// Registry reads DWORD values. root is "HKLM" or "HKCU" and path has no
// root prefix. ok is false when the key or the value does not exist; a
// value of another type returns an error wrapping ErrNotDWORD.
type Registry interface {
	DWORD(root, path, name string) (v uint32, ok bool, err error)
}

// ErrNotDWORD is wrapped by Registry errors for values that exist with a
// type other than REG_DWORD.
var ErrNotDWORD = errors.New("not a REG_DWORD")

// Status is the verdict on one Check.
type Status int

// Statuses, from harmless to bad.
const (
	StatusInfo    Status = iota // shown for the record
	StatusOK                    // as it should be
	StatusUnknown               // could not be read or decided
	StatusWarning               // worth changing, but not why WinHTTP lacks TLS 1.2
	StatusProblem               // keeps TLS 1.2 from WinHTTP
)

var statusNames = [...]string{"info", "ok", "unknown", "warning", "problem"}

// String returns the status as doctor prints it.
func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// MarshalText makes Status a string in JSON.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Check is one configuration fact doctor looked at.
type Check struct {
	Area    string `json:"area"`
	Setting string `json:"setting"`
	Value   string `json:"value"`
	Status  Status `json:"status"`
	Note    string `json:"note,omitempty"`
	// Believed is set when the status rests on a fact providers.md marks
	// as believed [B], not verified.
	Believed bool `json:"believed,omitempty"`
}

// Diagnosis is doctor's result.
type Diagnosis struct {
	OS      wintls.Release `json:"os"`
	Is64Bit bool           `json:"is_64bit"`
	Checks  []Check        `json:"checks"`
	// Problem: TLS 1.2 is not available to WinHTTP (exit status 3).
	Problem bool     `json:"problem"`
	Verdict string   `json:"verdict"`
	Fix     []string `json:"fix,omitempty"`
	// Recommended are changes that do not decide the WinHTTP verdict
	// (.NET strong crypto), as ready-to-paste commands.
	Recommended []string `json:"recommended,omitempty"`
	// Believed lists the believed facts this diagnosis relied on.
	Believed []string `json:"believed,omitempty"`
}

// Registry locations (providers.md §3.2–3.4).
const (
	winHTTPPath    = `SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings\WinHttp`
	winHTTPPathWow = `SOFTWARE\Wow6432Node\Microsoft\Windows\CurrentVersion\Internet Settings\WinHttp`
	schannelPath   = `SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\`
	inetPath       = `Software\Microsoft\Windows\CurrentVersion\Internet Settings`
	inetPolicyPath = `Software\Policies\Microsoft\Windows\CurrentVersion\Internet Settings`
)

// The believed facts doctor may rely on besides the release's own
// (wintls.Release.Believed) (providers.md §3.3, §6).
const (
	believedSecureProtocols = "Internet Options \"Use TLS 1.x\" is stored as SecureProtocols under Internet Settings, and the policy value wins"
	believedNotDWORD        = "Windows ignores these values when they are not REG_DWORD"
)

// Doctor checks this machine's TLS configuration for WinHTTP and Schannel
// against the defaults of its Windows build. It only reads: the registry,
// the OS build and the hotfix list (through r, and only on builds that
// need KB3140245).
func Doctor(ctx context.Context, sys System, reg Registry, r Runner) (*Diagnosis, error) {
	build, err := sys.OSBuild()
	if err != nil {
		return nil, err
	}
	is64, err := sys.Is64BitOS()
	if err != nil {
		return nil, err
	}
	edition, err := sys.Edition()
	if err != nil {
		return nil, err
	}
	d := &diag{Diagnosis: Diagnosis{OS: wintls.Lookup(build, edition), Is64Bit: is64}, reg: reg}
	d.run(ctx, r)
	return &d.Diagnosis, nil
}

// diag is the state of one doctor run.
type diag struct {
	Diagnosis
	reg      Registry
	believed map[string]bool
}

func (d *diag) add(c Check, believed ...string) {
	if len(believed) > 0 {
		c.Believed = true
		if d.believed == nil {
			d.believed = map[string]bool{}
		}
		for _, b := range believed {
			if !d.believed[b] {
				d.believed[b] = true
				d.Believed = append(d.Believed, b)
			}
		}
	}
	d.Checks = append(d.Checks, c)
}

// regValue is one DWORD as read.
type regValue struct {
	v       uint32
	set     bool
	wrong   bool   // exists with another type
	err     error  // could not be read
	display string // for the Value column
}

func (d *diag) dword(root, path, name string) regValue {
	v, ok, err := d.reg.DWORD(root, path, name)
	switch {
	case errors.Is(err, ErrNotDWORD):
		return regValue{wrong: true, display: "not a REG_DWORD"}
	case err != nil:
		return regValue{err: err, display: "error: " + err.Error()}
	case !ok:
		return regValue{display: "not set"}
	}
	return regValue{v: v, set: true, display: fmt.Sprintf("%#x", v)}
}

// kbState is what doctor knows about KB3140245.
type kbState int

const (
	kbNotNeeded kbState = iota
	kbInstalled
	kbMissing
	kbUnknown
	kbUnavailable // no KB3140245 for this release: DefaultSecureProtocols is ignored
)

func (d *diag) run(ctx context.Context, r Runner) {
	p := d.OS
	bits := "32-bit"
	if d.Is64Bit {
		bits = "64-bit"
	}
	ver := Check{Area: "Windows", Setting: "version", Value: fmt.Sprintf("%s (build %d, %s)", p.Name, p.Build, bits), Status: StatusInfo}
	if p.WinHTTPDefault != 0 {
		ver.Note = "WinHTTP default: " + p.WinHTTPDefaultText()
	}
	var believed []string
	if p.Believed != "" {
		believed = append(believed, p.Believed)
	}
	switch {
	case p.Build == 0:
		ver.Status, ver.Note = StatusUnknown, "unknown build: the OS defaults cannot be used"
	case p.Build < 7600:
		ver.Status, ver.Note = StatusUnknown, "older than the versions the HCW article covers"
	}
	d.add(ver, believed...)

	kb := d.checkKB(ctx, r)
	winHTTPOK, winHTTPUnknown := d.checkWinHTTP(kb)
	schannelOK := d.checkSchannel()
	d.checkNetFx()
	d.checkInternetOptions()

	d.Problem = !winHTTPOK || !schannelOK
	switch {
	case d.Problem:
		d.Verdict = "TLS 1.2 is not available to WinHTTP on this machine: Office 365 (and the Hybrid Configuration Wizard) will fail with \"an internal error occurred in the SSL library\"."
		if !winHTTPOK {
			d.Fix = wintls.WinHTTPTLS12Fix(p, d.bits())
		}
		if !schannelOK && !strings.Contains(strings.Join(d.Fix, "\n"), `TLS 1.2\Client`) {
			d.Fix = append(d.Fix, wintls.SchannelTLS12ClientFix()...)
		}
	case winHTTPUnknown:
		d.Verdict = "Could not decide whether WinHTTP has TLS 1.2 (see the unknown rows); nothing found that disables it."
	default:
		d.Verdict = "TLS 1.2 is available to WinHTTP (as far as the registry tells; an application may still restrict its protocols itself)."
	}
}

// bits is the width the fix lines are for.
func (d *diag) bits() wintls.Bits {
	if d.Is64Bit {
		return wintls.Bits64
	}
	return wintls.Bits32
}

func (d *diag) checkKB(ctx context.Context, r Runner) kbState {
	if d.OS.KB3140245 == wintls.KBUnavailable && d.OS.Build >= 7600 {
		d.add(Check{Area: "Windows Update", Setting: "KB3140245 (DefaultSecureProtocols support)", Value: "not available", Status: StatusInfo,
			Note: "never released for " + d.OS.Name + ": WinHTTP there ignores DefaultSecureProtocols"})
		return kbUnavailable
	}
	if !d.OS.NeedsKB3140245() {
		return kbNotNeeded
	}
	c := Check{Area: "Windows Update", Setting: "KB3140245 (DefaultSecureProtocols support)"}
	var errs []string
	for _, q := range HotfixQueries {
		out, err := r.Run(ctx, q.Name, q.Args...)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		ids, ok := ParseHotfixList(out)
		if !ok {
			errs = append(errs, fmt.Sprintf("%s: output not understood (no HotFixID header): %.200q", q.Name, DecodeConsoleText(out)))
			continue
		}
		if HasHotfix(ids, "KB3140245") {
			c.Value, c.Status = "installed", StatusOK
			d.add(c)
			return kbInstalled
		}
		c.Value, c.Status = "not installed", StatusProblem
		c.Note = fmt.Sprintf("not among the %d installed updates %s lists; without it WinHTTP ignores DefaultSecureProtocols on %s", len(ids), q.Name, d.OS.Name)
		d.add(c)
		return kbMissing
	}
	c.Value, c.Status = "unknown", StatusUnknown
	c.Note = "could not list the installed updates: " + strings.Join(errs, "; ")
	d.add(c)
	return kbUnknown
}

// checkWinHTTP judges DefaultSecureProtocols in the native key and, on
// 64-bit Windows, the Wow6432Node key 32-bit processes read.
func (d *diag) checkWinHTTP(kb kbState) (ok, unknown bool) {
	ok = true
	paths := []string{winHTTPPath}
	if d.Is64Bit {
		paths = append(paths, winHTTPPathWow)
	}
	for _, path := range paths {
		v := d.dword("HKLM", path, "DefaultSecureProtocols")
		c := Check{Area: "WinHTTP", Setting: `HKLM\` + path + `\DefaultSecureProtocols`, Value: v.display}
		var believed []string
		switch {
		case v.err != nil:
			c.Status, unknown = StatusUnknown, true
		case v.set && kb == kbUnavailable && d.OS.WinHTTPTLS12():
			c.Status, c.Note = StatusWarning, "ignored on "+d.OS.Name+" (no KB3140245); the OS default, which includes TLS 1.2, applies"
		case v.set && kb == kbUnavailable:
			c.Status, c.Note, ok = StatusProblem, "ignored on "+d.OS.Name+" (KB3140245 was never released for it), and the WinHTTP default lacks TLS 1.2", false
		case v.set && v.v&0x800 != 0 && kb == kbMissing:
			c.Status, c.Note, ok = StatusProblem, "set, but ignored until KB3140245 is installed", false
		case v.set && v.v&0x800 != 0 && kb == kbUnknown:
			c.Status, c.Note, unknown = StatusUnknown, wintls.Protocols(v.v).Names()+"; honoured only if KB3140245 is installed", true
		case v.set && v.v&0x800 != 0:
			c.Status, c.Note = StatusOK, wintls.Protocols(v.v).Names()
		case v.set:
			c.Status, c.Note, ok = StatusProblem, "does not include TLS 1.2 (0x800): "+wintls.Protocols(v.v).Names(), false
		case d.OS.Build == 0:
			c.Status, c.Note, unknown = StatusUnknown, "not set: the default depends on the Windows build", true
		case v.wrong && d.OS.WinHTTPTLS12():
			c.Status, c.Note = StatusWarning, "ignored (wrong type): the OS default, which includes TLS 1.2, applies; delete it or make it a REG_DWORD"
			believed = append(believed, believedNotDWORD)
		case v.wrong:
			c.Status, c.Note, ok = StatusProblem, "ignored (wrong type), and the WinHTTP default on this OS lacks TLS 1.2", false
			believed = append(believed, believedNotDWORD)
		case d.OS.WinHTTPTLS12():
			c.Status, c.Note = StatusOK, "not set: the OS default includes TLS 1.2"
		case kb == kbUnavailable:
			c.Status, c.Note, ok = StatusProblem, "not set (and ignored on "+d.OS.Name+"): the WinHTTP default lacks TLS 1.2", false
		default:
			c.Status, c.Note, ok = StatusProblem, "not set: the WinHTTP default on this OS lacks TLS 1.2", false
		}
		if path == winHTTPPathWow && c.Status == StatusProblem {
			c.Note += " (for 32-bit processes)"
		}
		d.add(c, believed...)
	}
	return ok, unknown
}

// checkSchannel reports every SCHANNEL protocol key and judges the TLS 1.2
// client, which WinHTTP's TLS 1.2 needs.
func (d *diag) checkSchannel() (ok bool) {
	ok = true
	for _, proto := range []string{"TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"} {
		for _, role := range []string{"Client", "Server"} {
			path := schannelPath + proto + `\` + role
			en := d.dword("HKLM", path, "Enabled")
			dis := d.dword("HKLM", path, "DisabledByDefault")
			c := Check{Area: "SCHANNEL", Setting: `HKLM\` + path, Value: "Enabled=" + en.display + ", DisabledByDefault=" + dis.display, Status: StatusInfo}
			if !en.set && !dis.set && !en.wrong && !dis.wrong && en.err == nil && dis.err == nil {
				c.Value = "not set (OS default)"
			}
			var believed []string
			switch {
			case proto == "TLS 1.2" && role == "Client":
				switch {
				case en.set && en.v == 0:
					c.Status, c.Note, ok = StatusProblem, "TLS 1.2 client is disabled for every application", false
				case dis.set && dis.v != 0 && wintls.DisabledByDefaultBlocksWinHTTP(d.OS):
					c.Status, c.Note, ok = StatusProblem, "TLS 1.2 is off by default on "+d.OS.Name+" and DisabledByDefault=1 keeps it so: Microsoft's KB3140245 recipe sets DisabledByDefault=0 (and Enabled=1)", false
				case dis.set && dis.v != 0:
					c.Status, c.Note = StatusWarning, wintls.DisabledByDefaultMeaning
				case en.err != nil || dis.err != nil || d.OS.Build == 0:
					c.Status = StatusUnknown
				case !en.set && !d.OS.SchannelTLS12:
					c.Status, c.Note, ok = StatusProblem, "not enabled: the TLS 1.2 client is off by default on "+d.OS.Name, false
				default:
					c.Status = StatusOK
				}
			case proto == "TLS 1.3" && en.set && en.v != 0 && d.OS.Build != 0 && !d.OS.SchannelTLS13:
				c.Status, c.Note = StatusWarning, "TLS 1.3 is supported from Windows 11 / Server 2022; Microsoft calls enabling it on earlier versions not a safe configuration"
			case dis.set && dis.v != 0 && !(en.set && en.v == 0):
				c.Note = "not in SCHANNEL's default set (applications that name it still get it)"
			case en.set && en.v == 0:
				c.Note = "disabled"
			}
			d.add(c, believed...)
		}
	}
	return ok
}

// checkNetFx reports the .NET strong-crypto keys and recommends setting
// the missing ones; they do not decide the WinHTTP verdict (HCW's failing
// call goes through WinHTTP, providers.md §3.4).
func (d *diag) checkNetFx() {
	b := d.bits()
	for _, key := range wintls.DotNetKeys(b) {
		for _, name := range []string{"SchUseStrongCrypto", "SystemDefaultTlsVersions"} {
			v := d.dword("HKLM", strings.TrimPrefix(key, `HKLM\`), name)
			c := Check{Area: ".NET Framework", Setting: key + `\` + name, Value: v.display}
			switch {
			case v.set && v.v == 1:
				c.Status = StatusOK
			case v.err != nil:
				c.Status = StatusUnknown
			default:
				c.Status, c.Note = StatusWarning, "recommended 1 for .NET applications that make TLS connections themselves"
				d.Recommended = append(d.Recommended, wintls.RegAddDWORD(key, name, 1)+b.View())
			}
			d.add(c)
		}
	}
	if len(d.Recommended) > 0 {
		d.Recommended = append(d.Recommended, wintls.DotNetRestart)
	}
}

// checkInternetOptions reports the WinINet protocol settings (Internet
// Options, Advanced, "Use TLS 1.2"), per user and machine, and their
// policy twins.
func (d *diag) checkInternetOptions() {
	for _, loc := range []struct{ root, path string }{
		{"HKCU", inetPath}, {"HKLM", inetPath}, {"HKCU", inetPolicyPath}, {"HKLM", inetPolicyPath},
	} {
		v := d.dword(loc.root, loc.path, "SecureProtocols")
		c := Check{Area: "Internet Options (WinINet)", Setting: loc.root + `\` + loc.path + `\SecureProtocols`, Value: v.display, Status: StatusInfo}
		switch {
		case v.err != nil:
			c.Status = StatusUnknown
		case v.set && v.v&0x800 == 0:
			c.Status, c.Note = StatusWarning, "WinINet applications (Internet Explorer, Office) do not use TLS 1.2: "+wintls.Protocols(v.v).Names()
		case v.set:
			c.Status, c.Note = StatusOK, wintls.Protocols(v.v).Names()
		}
		d.add(c, believedSecureProtocols)
	}
}
