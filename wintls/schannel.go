package wintls

// What the SCHANNEL protocol values mean (verified: Microsoft's
// "Transport Layer Security (TLS) registry settings"): Enabled=0 makes a
// protocol unusable for every application, even one that asks for it;
// DisabledByDefault=1 only drops it from SCHANNEL's default set — an
// application that requests the version explicitly still negotiates it.
// WinHTTP always requests explicitly: it hands SCHANNEL its protocol mask
// (the application's WINHTTP_OPTION_SECURE_PROTOCOLS, else
// DefaultSecureProtocols, else its per-release default; KB3140245 text),
// so DisabledByDefault alone does not take TLS 1.2 from WinHTTP. It does
// take it from applications that ask for the system default
// (grbitEnabledProtocols 0, .NET with SystemDefaultTlsVersions).
const (
	EnabledZeroMeaning       = "Enabled=0 turns the protocol off for every application, even one that asks for it"
	DisabledByDefaultMeaning = "DisabledByDefault=1 only drops the protocol from SCHANNEL's default set: applications that ask for the system default (.NET with SystemDefaultTlsVersions, grbitEnabledProtocols 0) do not get it; WinHTTP names its protocols explicitly and still does"
)

// DisabledByDefaultBlocksWinHTTP reports whether DisabledByDefault=1 on the
// TLS 1.2 client (with Enabled not 0) keeps TLS 1.2 from WinHTTP on r. Only
// where TLS 1.2 is off in SCHANNEL by default (7 / 2008 R2): there
// Microsoft's KB3140245 text says SCHANNEL itself must be configured to
// enable TLS 1.1/1.2, and its recipe sets DisabledByDefault=0 — doctor
// cannot tell "off" from "not in the default set" on those releases, so it
// keeps the documented recipe.
func DisabledByDefaultBlocksWinHTTP(r Release) bool {
	return r.Known() && !r.SchannelTLS12
}
