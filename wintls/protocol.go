package wintls

import (
	"fmt"
	"strings"
)

// Protocols is an SP_PROT_* bit mask, the form of the WebIO EnabledProtocols
// field, WINHTTP_OPTION_SECURE_PROTOCOLS, the WinHTTP DefaultSecureProtocols
// value and SCHANNEL_CRED.grbitEnabledProtocols. The WINHTTP_FLAG_SECURE_PROTOCOL_*
// flags use the SP_PROT client bits (verified: schannel.h and winhttp.h
// carry the same numbers).
type Protocols uint32

// Client-side protocol bits.
const (
	PCT1Client   Protocols = 0x00000002
	SSL2Client   Protocols = 0x00000008
	SSL3Client   Protocols = 0x00000020
	TLS10Client  Protocols = 0x00000080
	TLS11Client  Protocols = 0x00000200
	TLS12Client  Protocols = 0x00000800
	TLS13Client  Protocols = 0x00002000
	DTLS10Client Protocols = 0x00020000
	DTLS12Client Protocols = 0x00080000
	UniClient    Protocols = 0x80000000 // "unified hello"
)

// Server-side protocol bits.
const (
	PCT1Server   Protocols = 0x00000001
	SSL2Server   Protocols = 0x00000004
	SSL3Server   Protocols = 0x00000010
	TLS10Server  Protocols = 0x00000040
	TLS11Server  Protocols = 0x00000100
	TLS12Server  Protocols = 0x00000400
	TLS13Server  Protocols = 0x00001000
	DTLS10Server Protocols = 0x00010000
	DTLS12Server Protocols = 0x00040000
	UniServer    Protocols = 0x40000000
)

// Well-known DefaultSecureProtocols values (the Hybrid Configuration Wizard
// article and KB3140245).
const (
	DefaultSecureTLS12     Protocols = TLS12Client                             // 0x800
	DefaultSecureTLS10to12 Protocols = TLS10Client | TLS11Client | TLS12Client // 0xA80
)

var protocolBits = []struct {
	bit  Protocols
	name string
}{
	{PCT1Server, "PCT1.0 server"}, {PCT1Client, "PCT1.0"},
	{SSL2Server, "SSL2.0 server"}, {SSL2Client, "SSL2.0"},
	{SSL3Server, "SSL3.0 server"}, {SSL3Client, "SSL3.0"},
	{TLS10Server, "TLS1.0 server"}, {TLS10Client, "TLS1.0"},
	{TLS11Server, "TLS1.1 server"}, {TLS11Client, "TLS1.1"},
	{TLS12Server, "TLS1.2 server"}, {TLS12Client, "TLS1.2"},
	{TLS13Server, "TLS1.3 server"}, {TLS13Client, "TLS1.3"},
	{DTLS10Server, "DTLS1.0 server"}, {DTLS10Client, "DTLS1.0"},
	{DTLS12Server, "DTLS1.2 server"}, {DTLS12Client, "DTLS1.2"},
	{UniServer, "unified hello server"}, {UniClient, "unified hello"},
}

// Has reports whether every bit of q is set in p.
func (p Protocols) Has(q Protocols) bool { return p&q == q }

// Names lists the protocols of p in ascending order, with unknown bits as
// one hex number at the end: 0xA80 → "TLS1.0|TLS1.1|TLS1.2". A zero mask is
// "none (system default)": SCHANNEL_CRED's convention for "let Schannel use
// its defaults" (believed for WebIO's field).
func (p Protocols) Names() string {
	if p == 0 {
		return "none (system default)"
	}
	var names []string
	rest := p
	for _, b := range protocolBits {
		if p&b.bit != 0 {
			names = append(names, b.name)
			rest &^= b.bit
		}
	}
	if rest != 0 {
		names = append(names, fmt.Sprintf("0x%x", uint32(rest)))
	}
	return strings.Join(names, "|")
}

// String is Names with " (client)" added when p holds only known client
// bits, the form the decoded event descriptions use.
func (p Protocols) String() string {
	s := p.Names()
	if p != 0 && p&serverBits == 0 && p&^knownBits == 0 {
		s += " (client)"
	}
	return s
}

// ClientNames lists the client protocols of p: ["TLS1.0", "TLS1.1"].
func (p Protocols) ClientNames() []string {
	var out []string
	for _, b := range protocolBits {
		if p&b.bit != 0 && b.bit&serverBits == 0 {
			out = append(out, b.name)
		}
	}
	return out
}

const (
	serverBits Protocols = PCT1Server | SSL2Server | SSL3Server | TLS10Server | TLS11Server | TLS12Server | TLS13Server | DTLS10Server | DTLS12Server | UniServer
	knownBits  Protocols = serverBits | PCT1Client | SSL2Client | SSL3Client | TLS10Client | TLS11Client | TLS12Client | TLS13Client | DTLS10Client | DTLS12Client | UniClient
)
