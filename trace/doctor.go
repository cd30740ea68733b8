package trace

import (
	"context"
	"fmt"
	"strings"

	"github.com/etlscope/etlscope/report"
)

// Registry reads DWORD values. root is "HKLM" or "HKCU"; ok is false when
// the key or value does not exist.
type Registry interface {
	DWORD(root, path, name string) (v uint32, ok bool, err error)
}

// Check is one configuration fact doctor looked at.
type Check struct {
	Area    string `json:"area"`
	Setting string `json:"setting"`
	Value   string `json:"value"`
	Status  string `json:"status"` // ok, problem, warning, info, unknown
	Note    string `json:"note,omitempty"`
}

// Diagnosis is doctor's result.
type Diagnosis struct {
	OS       report.OSProfile `json:"os"`
	Checks   []Check          `json:"checks"`
	Problem  bool             `json:"problem"`
	Verdict  string           `json:"verdict"`
	Fix      []string         `json:"fix,omitempty"`
	Believed []string         `json:"believed,omitempty"`
}

const (
	winHTTPPath    = `SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings\WinHttp`
	winHTTPPathWow = `SOFTWARE\Wow6432Node\Microsoft\Windows\CurrentVersion\Internet Settings\WinHttp`
	schannelPath   = `SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\`
	inetSettings   = `Software\Microsoft\Windows\CurrentVersion\Internet Settings`
)

// Doctor checks this machine's TLS configuration for WinHTTP and
// Schannel against the defaults of its Windows build.
func Doctor(ctx context.Context, sys System, reg Registry, r Runner) (*Diagnosis, error) {
	build, err := sys.OSBuild()
	if err != nil {
		return nil, err
	}
	p := report.ProfileForBuild(build)
	d := &Diagnosis{OS: p}
	add := func(c Check) { d.Checks = append(d.Checks, c) }
	dword := func(root, path, name string) (uint32, bool, string) {
		v, ok, err := reg.DWORD(root, path, name)
		switch {
		case err != nil:
			return 0, false, "error: " + err.Error()
		case !ok:
			return 0, false, "not set"
		}
		return v, true, fmt.Sprintf("%#x", v)
	}
	tls12WinHTTP := true

	add(Check{Area: "Windows", Setting: "version", Value: fmt.Sprintf("%s (build %d)", p.Name, build), Status: "info",
		Note: "WinHTTP default: " + p.WinHTTPDefaultTLS})

	kbMissing := false
	if p.NeedsKB3140245 {
		out, err := r.Run(ctx, "wmic", "qfe", "get", "HotFixID")
		switch {
		case err != nil:
			add(Check{Area: "Windows Update", Setting: "KB3140245", Value: "unknown", Status: "unknown", Note: "could not list hotfixes (wmic qfe): " + err.Error()})
		case strings.Contains(strings.ToUpper(string(out)), "KB3140245"):
			add(Check{Area: "Windows Update", Setting: "KB3140245", Value: "installed", Status: "ok"})
		default:
			kbMissing = true
			add(Check{Area: "Windows Update", Setting: "KB3140245", Value: "not installed", Status: "problem",
				Note: "without it WinHTTP ignores DefaultSecureProtocols on " + p.Name})
		}
	}

	for _, path := range []string{winHTTPPath, winHTTPPathWow} {
		v, ok, shown := dword("HKLM", path, "DefaultSecureProtocols")
		c := Check{Area: "WinHTTP", Setting: `HKLM\` + path + `\DefaultSecureProtocols`, Value: shown}
		switch {
		case ok && v&0x800 != 0:
			c.Status, c.Note = "ok", report.ProtocolNamesClient(v)
			if kbMissing {
				c.Status, c.Note = "problem", "set, but ignored until KB3140245 is installed"
				tls12WinHTTP = false
			}
		case ok:
			c.Status, c.Note = "problem", "does not include TLS 1.2 (0x800): "+report.ProtocolNamesClient(v)
			tls12WinHTTP = false
		case p.TLS12InWinHTTP:
			c.Status, c.Note = "ok", "not set: the OS default includes TLS 1.2"
		default:
			c.Status, c.Note = "problem", "not set: the WinHTTP default on this OS lacks TLS 1.2"
			tls12WinHTTP = false
		}
		add(c)
	}

	schannelOff := false
	for _, proto := range []string{"TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"} {
		for _, role := range []string{"Client", "Server"} {
			path := schannelPath + proto + `\` + role
			en, enOK, enShown := dword("HKLM", path, "Enabled")
			dis, disOK, disShown := dword("HKLM", path, "DisabledByDefault")
			c := Check{Area: "SCHANNEL", Setting: proto + " " + role, Value: "Enabled=" + enShown + ", DisabledByDefault=" + disShown, Status: "info"}
			if proto == "TLS 1.2" && role == "Client" {
				switch {
				case enOK && en == 0:
					c.Status, c.Note = "problem", "TLS 1.2 client is disabled for every application"
					schannelOff = true
				case disOK && dis == 1:
					c.Status, c.Note = "problem", "TLS 1.2 is not in the default set (applications that ask for the defaults do not get it)"
					schannelOff = true
				case !enOK && !disOK && !p.TLS12InOS:
					c.Status, c.Note = "problem", "not set: TLS 1.2 client is off by default on "+p.Name
					schannelOff = true
				default:
					c.Status = "ok"
				}
			}
			if !enOK && !disOK {
				c.Value = "not set (OS default)"
			}
			add(c)
		}
	}

	for _, view := range []string{`SOFTWARE\Microsoft\.NETFramework\`, `SOFTWARE\Wow6432Node\Microsoft\.NETFramework\`} {
		for _, ver := range []string{"v4.0.30319", "v2.0.50727"} {
			for _, name := range []string{"SchUseStrongCrypto", "SystemDefaultTlsVersions"} {
				v, ok, shown := dword("HKLM", view+ver, name)
				c := Check{Area: ".NET Framework", Setting: `HKLM\` + view + ver + `\` + name, Value: shown, Status: "info"}
				if ok && v == 1 {
					c.Status = "ok"
				} else {
					c.Status, c.Note = "warning", "recommended 1 for .NET apps that make TLS calls themselves (HCW's failing call goes through WinHTTP)"
				}
				add(c)
			}
		}
	}
	for _, root := range []string{"HKCU", "HKLM"} {
		v, ok, shown := dword(root, inetSettings, "SecureProtocols")
		c := Check{Area: "Internet Options (WinINet)", Setting: root + `\` + inetSettings + `\SecureProtocols`, Value: shown, Status: "info"}
		if ok {
			c.Note = report.ProtocolNamesClient(v)
			if v&0x800 == 0 {
				c.Status, c.Note = "warning", "WinINet clients (IE, Office) do not use TLS 1.2: "+c.Note
			}
		}
		add(c)
	}

	d.Problem = !tls12WinHTTP || schannelOff
	if d.Problem {
		d.Verdict = "TLS 1.2 is not available to WinHTTP on this machine: Office 365 (and the Hybrid Configuration Wizard) will fail with \"an internal error occurred in the SSL library\"."
		if !tls12WinHTTP {
			d.Fix = report.TLS12Fix(p)
		}
		if schannelOff && !strings.Contains(strings.Join(d.Fix, "\n"), `TLS 1.2\Client`) {
			d.Fix = append(d.Fix, report.SchannelTLS12Fix()...)
		}
	} else {
		d.Verdict = "TLS 1.2 is available to WinHTTP (as far as the registry tells; an application may still restrict its protocols itself)."
	}
	d.Believed = []string{
		"the meaning of DisabledByDefault (drops a protocol only from the default set)",
		"that Windows 11 / Server 2022 WinHTTP enables TLS 1.3 by default",
	}
	return d, nil
}
