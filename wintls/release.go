package wintls

import "fmt"

// Edition tells a client Windows from a server one. Both share build
// numbers (9200 is Windows 8 and Server 2012), and a trace's header does not
// say which; a live system does (doctor reads it from the registry).
type Edition uint8

// Editions.
const (
	EditionUnknown Edition = iota
	EditionClient
	EditionServer
)

// KBStatus says whether update KB3140245 (DefaultSecureProtocols support in
// WinHTTP) applies to a release.
type KBStatus uint8

// KB3140245 applicability (verified: the KB text lists Windows 7 SP1,
// Windows Server 2008 R2 SP1 and Windows Server 2012).
const (
	KBNotNeeded   KBStatus = iota // WinHTTP honours DefaultSecureProtocols without it (8.1/2012 R2 and later)
	KBNeeded                      // 7 SP1, 2008 R2 SP1, Server 2012
	KBNeedsSP1                    // 7 / 2008 R2 without SP1: install SP1 first
	KBUnavailable                 // no such update: Vista/2008, Windows 8 client
)

// Release is what a Windows build implies for TLS in SCHANNEL and WinHTTP.
type Release struct {
	Build   uint32  `json:"build"`
	Edition Edition `json:"-"`
	Name    string  `json:"name"`
	// SchannelTLS12 is true when SCHANNEL's TLS 1.2 client is enabled by
	// default (verified: "Protocols in TLS/SSL (Schannel SSP)": off on
	// 7/2008 R2, on from 8/2012).
	SchannelTLS12 bool `json:"schannel_tls12_default"`
	// SchannelTLS13 is true from Windows 11 and Server 2022 (same doc).
	SchannelTLS13 bool `json:"schannel_tls13_default"`
	// WinHTTPDefault is WinHTTP's default protocol mask when neither the
	// application nor DefaultSecureProtocols sets one (verified: 0xA0 on 7
	// and 8, 0xAA0 on 8.1 and 10; 0 when the build is unknown).
	WinHTTPDefault Protocols `json:"winhttp_default"`
	KB3140245      KBStatus  `json:"-"`
	// Believed names the facts of this release that are believed, not
	// verified; a verdict that uses them must say so.
	Believed string `json:"believed,omitempty"`
}

// Known reports whether the build was known (non-zero).
func (r Release) Known() bool { return r.Build != 0 }

// WinHTTPTLS12 reports whether WinHTTP asks for TLS 1.2 by default.
func (r Release) WinHTTPTLS12() bool { return r.WinHTTPDefault.Has(TLS12Client) }

// NeedsKB3140245 reports whether the KB must be installed before
// DefaultSecureProtocols has any effect.
func (r Release) NeedsKB3140245() bool { return r.KB3140245 == KBNeeded || r.KB3140245 == KBNeedsSP1 }

// WinHTTPDefaultText renders the default mask: "SSL3.0|TLS1.0 (0xa0)".
func (r Release) WinHTTPDefaultText() string {
	if r.WinHTTPDefault == 0 {
		return "unknown (the Windows build is not known)"
	}
	s := fmt.Sprintf("%s (%#x)", r.WinHTTPDefault.Names(), uint32(r.WinHTTPDefault))
	if r.Build >= 20348 {
		s += ", TLS 1.3 believed"
	}
	return s
}

// Lookup returns the release of a build number; e is EditionUnknown when
// the caller cannot tell client from server (a trace). Build 0 is an
// unknown release with no defaults.
func Lookup(build uint32, e Edition) Release {
	r := Release{Build: build, Edition: e}
	pick := func(both, client, server string) string {
		switch e {
		case EditionClient:
			return client
		case EditionServer:
			return server
		}
		return both
	}
	const aa0 = SSL3Client | TLS10Client | TLS11Client | TLS12Client
	switch {
	case build == 0:
		r.Name = "unknown Windows version"
	case build < 6000:
		r.Name = "Windows XP / Server 2003 or earlier"
		r.KB3140245 = KBUnavailable
	case build < 7600:
		r.Name = pick("Windows Vista / Server 2008", "Windows Vista", "Windows Server 2008")
		r.WinHTTPDefault = SSL3Client | TLS10Client
		r.KB3140245 = KBUnavailable
		r.Believed = "the WinHTTP default of Windows Vista / Server 2008"
	case build < 7601:
		r.Name = pick("Windows 7 / Server 2008 R2 (no SP1)", "Windows 7 (no SP1)", "Windows Server 2008 R2 (no SP1)")
		r.WinHTTPDefault = SSL3Client | TLS10Client
		r.KB3140245 = KBNeedsSP1
	case build < 9200:
		r.Name = pick("Windows 7 / Server 2008 R2", "Windows 7", "Windows Server 2008 R2")
		r.WinHTTPDefault = SSL3Client | TLS10Client
		r.KB3140245 = KBNeeded
	case build < 9600:
		r.Name = pick("Windows 8 / Server 2012", "Windows 8", "Windows Server 2012")
		r.SchannelTLS12 = true
		r.WinHTTPDefault = SSL3Client | TLS10Client
		r.KB3140245 = KBNeeded
		if e == EditionClient {
			r.KB3140245 = KBUnavailable
		}
	case build < 10240:
		r.Name = pick("Windows 8.1 / Server 2012 R2", "Windows 8.1", "Windows Server 2012 R2")
		r.SchannelTLS12 = true
		r.WinHTTPDefault = aa0
	case build < 20348:
		r.Name = windows10Name(build, e)
		r.SchannelTLS12 = true
		r.WinHTTPDefault = aa0
	case build < 22000:
		r.Name = pick("Windows Server 2022", "Windows 10 (build 20348)", "Windows Server 2022")
		r.SchannelTLS12, r.SchannelTLS13 = true, true
		r.WinHTTPDefault = aa0 | TLS13Client
		r.Believed = "that TLS 1.3 is in the WinHTTP default from Windows 11 / Server 2022 on"
	default:
		r.Name = pick("Windows 11 / Server 2025", "Windows 11", "Windows Server 2025")
		if build < 26100 {
			r.Name = pick("Windows 11", "Windows 11", "Windows Server (build "+fmt.Sprint(build)+")")
		}
		r.SchannelTLS12, r.SchannelTLS13 = true, true
		r.WinHTTPDefault = aa0 | TLS13Client
		r.Believed = "that TLS 1.3 is in the WinHTTP default from Windows 11 / Server 2022 on"
	}
	return r
}

// windows10Name names a Windows 10-generation build; the server releases
// of that generation are named by their build.
func windows10Name(build uint32, e Edition) string {
	server := ""
	switch build {
	case 14393:
		server = "Windows Server 2016"
	case 17763:
		server = "Windows Server 2019"
	}
	switch {
	case e == EditionClient:
		return "Windows 10"
	case e == EditionServer && server != "":
		return server
	case e == EditionServer:
		return "Windows Server (build " + fmt.Sprint(build) + ")"
	case server != "":
		return "Windows 10 / " + server
	}
	return "Windows 10 / Server 2016-2019"
}
