// Package tlswire parses the unencrypted part of a TLS connection: record
// headers, ClientHello, ServerHello and alerts, from reassembled TCP byte
// streams. It is what the packet analysis needs to say which versions a
// client offered, which one the server chose, and who aborted the handshake.
package tlswire

import (
	"crypto/tls"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/crypto/cryptobyte"
)

// Version is a TLS protocol version number as sent on the wire.
type Version uint16

// Versions.
const (
	SSL20 Version = 0x0002
	SSL30 Version = 0x0300
	TLS10 Version = 0x0301
	TLS11 Version = 0x0302
	TLS12 Version = 0x0303
	TLS13 Version = 0x0304
)

// String returns "TLS 1.2" style names, or the hex value.
func (v Version) String() string {
	switch v {
	case SSL20:
		return "SSL 2.0"
	case SSL30:
		return "SSL 3.0"
	case TLS10:
		return "TLS 1.0"
	case TLS11:
		return "TLS 1.1"
	case TLS12:
		return "TLS 1.2"
	case TLS13:
		return "TLS 1.3"
	case 0:
		return ""
	}
	return fmt.Sprintf("0x%04x", uint16(v))
}

// IsGREASE reports whether v is a GREASE value (RFC 8701): 0x?A?A with
// both bytes equal.
func IsGREASE(v uint16) bool {
	return v&0x0f0f == 0x0a0a && v>>8 == v&0xff
}

// Content types.
const (
	typeChangeCipherSpec = 20
	typeAlert            = 21
	typeHandshake        = 22
	typeApplicationData  = 23
)

// Handshake message types.
const (
	hsClientHello = 1
	hsServerHello = 2
)

// Extension numbers.
const (
	extServerName        = 0
	extALPN              = 16
	extSupportedVersions = 43
)

// ClientHello is what a client offered.
type ClientHello struct {
	RecordVersion     Version // version in the record header
	LegacyVersion     Version // client_version / legacy_version
	SupportedVersions []Version
	SNI               string
	CipherSuites      []uint16
	ALPN              []string
	Extensions        []uint16
	SSLv2             bool // SSLv2-compatible hello
	SessionIDLen      int
	// Truncated: the capture cut the hello (snap length); the fields are
	// those that were complete, and a version list that was not reached
	// is unknown (see VersionsKnown).
	Truncated bool
}

// VersionsKnown reports whether the offered versions are known: the hello
// is complete, or its supported_versions extension was captured whole.
func (h *ClientHello) VersionsKnown() bool {
	return !h.Truncated || len(h.SupportedVersions) > 0
}

// MaxVersion returns the highest version the client offers.
func (h *ClientHello) MaxVersion() Version {
	if len(h.SupportedVersions) > 0 {
		return slices.Max(h.SupportedVersions)
	}
	return h.LegacyVersion
}

// Offered returns every version the client offers, lowest first: the
// supported_versions list, or for a hello without it every version from
// TLS 1.0 (SSL 3.0 when that is the legacy version) up to the legacy
// version.
func (h *ClientHello) Offered() []Version {
	if len(h.SupportedVersions) > 0 {
		out := slices.Clone(h.SupportedVersions)
		slices.Sort(out)
		return slices.Compact(out)
	}
	lo := TLS10
	if h.LegacyVersion < TLS10 {
		lo = h.LegacyVersion
	}
	var out []Version
	for v := lo; v <= h.LegacyVersion && v <= TLS13; v++ {
		out = append(out, v)
	}
	return out
}

// ServerHello is what a server chose.
type ServerHello struct {
	LegacyVersion     Version
	SelectedVersion   Version // supported_versions if present, else LegacyVersion
	CipherSuite       uint16
	HelloRetryRequest bool
	DowngradeSentinel string // "", "TLS1.2" or "TLS1.1-or-below"
	// Truncated: the capture cut the hello; SelectedVersion is the legacy
	// version when the extensions were not reached, CipherSuite is 0 when
	// it was not reached.
	Truncated bool
}

// VersionKnown reports whether SelectedVersion is certain: the hello is
// complete, or it was cut after its supported_versions extension.
func (h *ServerHello) VersionKnown() bool { return !h.Truncated || h.SelectedVersion >= TLS13 }

// Alert is one alert record.
type Alert struct {
	Level       uint8 // 1 warning, 2 fatal; 0 when encrypted
	Description uint8
	Encrypted   bool // sent after the switch to encryption: not readable
}

var errShort = errors.New("tlswire: message truncated")

// handshakeBody returns the body of a handshake message of type want.
func handshakeBody(msg []byte, want uint8, name string) (cryptobyte.String, error) {
	s := cryptobyte.String(msg)
	var typ uint8
	var body cryptobyte.String
	if !s.ReadUint8(&typ) || !s.ReadUint24LengthPrefixed(&body) {
		return nil, errShort
	}
	if typ != want {
		return nil, fmt.Errorf("tlswire: handshake type %d is not a %s", typ, name)
	}
	return body, nil
}

// eachExtension calls fn for every extension of a hello whose remaining
// body is the (optional) extensions block.
func eachExtension(body *cryptobyte.String, fn func(typ uint16, data cryptobyte.String) error) error {
	if body.Empty() {
		return nil // no extensions (old clients and servers)
	}
	var exts cryptobyte.String
	if !body.ReadUint16LengthPrefixed(&exts) {
		return errShort
	}
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			return errors.New("tlswire: malformed extension")
		}
		if err := fn(typ, data); err != nil {
			return err
		}
	}
	return nil
}

// ParseClientHello parses a handshake message (starting at the type byte)
// holding a ClientHello.
func ParseClientHello(msg []byte) (*ClientHello, error) {
	body, err := handshakeBody(msg, hsClientHello, "ClientHello")
	if err != nil {
		return nil, err
	}
	h := &ClientHello{}
	if err := h.parse(&body, false); err != nil {
		return nil, err
	}
	return h, nil
}

// ParsePartialClientHello parses the captured start of a ClientHello
// message (type byte, 3-byte length, then as much of the body as the
// capture kept): every field that is complete, Truncated set. It never
// fails; a hello cut before its version has only Truncated set.
func ParsePartialClientHello(msg []byte) *ClientHello {
	h := &ClientHello{Truncated: true}
	s := cryptobyte.String(msg)
	var typ uint8
	if !s.ReadUint8(&typ) || typ != hsClientHello || !s.Skip(3) {
		return h
	}
	_ = h.parse(&s, true)
	return h
}

// parse reads a ClientHello body. With partial, a body that ends early
// leaves the fields read so far and returns nil.
func (h *ClientHello) parse(body *cryptobyte.String, partial bool) error {
	short := func() error {
		if partial {
			return nil
		}
		return errShort
	}
	var ver uint16
	var sid, suites cryptobyte.String
	var comp cryptobyte.String
	if !body.ReadUint16(&ver) {
		return short()
	}
	h.LegacyVersion = Version(ver)
	if !body.Skip(32) || !body.ReadUint8LengthPrefixed(&sid) {
		return short()
	}
	h.SessionIDLen = len(sid)
	if !body.ReadUint16LengthPrefixed(&suites) {
		return short()
	}
	for !suites.Empty() {
		var cs uint16
		if !suites.ReadUint16(&cs) {
			return errors.New("tlswire: odd cipher suite list")
		}
		if !IsGREASE(cs) {
			h.CipherSuites = append(h.CipherSuites, cs)
		}
	}
	if !body.ReadUint8LengthPrefixed(&comp) {
		return short()
	}
	if partial {
		if body.Empty() {
			return nil
		}
		var n uint16
		if !body.ReadUint16(&n) {
			return nil
		}
		// Complete extensions only.
		for {
			var typ uint16
			var data cryptobyte.String
			if !body.ReadUint16(&typ) || !body.ReadUint16LengthPrefixed(&data) {
				return nil
			}
			if err := h.extension(typ, data); err != nil {
				return nil
			}
		}
	}
	return eachExtension(body, h.extension)
}

func (h *ClientHello) extension(typ uint16, data cryptobyte.String) error {
	if IsGREASE(typ) {
		return nil
	}
	h.Extensions = append(h.Extensions, typ)
	switch typ {
	case extServerName:
		var list cryptobyte.String
		if !data.ReadUint16LengthPrefixed(&list) {
			return errors.New("tlswire: malformed server_name")
		}
		for !list.Empty() {
			var nt uint8
			var name cryptobyte.String
			if !list.ReadUint8(&nt) || !list.ReadUint16LengthPrefixed(&name) {
				return errors.New("tlswire: malformed server_name")
			}
			if nt == 0 && h.SNI == "" {
				h.SNI = string(name)
			}
		}
	case extSupportedVersions:
		var list cryptobyte.String
		if !data.ReadUint8LengthPrefixed(&list) {
			return errors.New("tlswire: malformed supported_versions")
		}
		for !list.Empty() {
			var v uint16
			if !list.ReadUint16(&v) {
				return errors.New("tlswire: malformed supported_versions")
			}
			if !IsGREASE(v) {
				h.SupportedVersions = append(h.SupportedVersions, Version(v))
			}
		}
	case extALPN:
		var list cryptobyte.String
		if !data.ReadUint16LengthPrefixed(&list) {
			return errors.New("tlswire: malformed ALPN")
		}
		for !list.Empty() {
			var p cryptobyte.String
			if !list.ReadUint8LengthPrefixed(&p) {
				return errors.New("tlswire: malformed ALPN")
			}
			if len(h.ALPN) < 16 {
				h.ALPN = append(h.ALPN, string(p))
			}
		}
	}
	return nil
}

// helloRetryRandom is SHA-256("HelloRetryRequest") (RFC 8446 §4.1.3).
var helloRetryRandom = [32]byte{
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
}

// Downgrade sentinels in the last 8 bytes of ServerHello.random.
var (
	downgradeTLS12 = [8]byte{0x44, 0x4F, 0x57, 0x4E, 0x47, 0x52, 0x44, 0x01}
	downgradeTLS11 = [8]byte{0x44, 0x4F, 0x57, 0x4E, 0x47, 0x52, 0x44, 0x00}
)

// ParseServerHello parses a handshake message holding a ServerHello.
func ParseServerHello(msg []byte) (*ServerHello, error) {
	body, err := handshakeBody(msg, hsServerHello, "ServerHello")
	if err != nil {
		return nil, err
	}
	h := &ServerHello{}
	if err := h.parse(&body, false); err != nil {
		return nil, err
	}
	return h, nil
}

// ParsePartialServerHello parses the captured start of a ServerHello
// message: the fields that are complete, Truncated set.
func ParsePartialServerHello(msg []byte) *ServerHello {
	h := &ServerHello{Truncated: true}
	s := cryptobyte.String(msg)
	var typ uint8
	if !s.ReadUint8(&typ) || typ != hsServerHello || !s.Skip(3) {
		return h
	}
	_ = h.parse(&s, true)
	return h
}

func (h *ServerHello) parse(body *cryptobyte.String, partial bool) error {
	short := func() error {
		if partial {
			return nil
		}
		return errShort
	}
	var ver uint16
	var random []byte
	var sid cryptobyte.String
	var suite uint16
	var comp uint8
	if !body.ReadUint16(&ver) {
		return short()
	}
	h.LegacyVersion, h.SelectedVersion = Version(ver), Version(ver)
	if !body.ReadBytes(&random, 32) {
		return short()
	}
	h.HelloRetryRequest = [32]byte(random) == helloRetryRandom
	switch [8]byte(random[24:]) {
	case downgradeTLS12:
		h.DowngradeSentinel = "TLS1.2"
	case downgradeTLS11:
		h.DowngradeSentinel = "TLS1.1-or-below"
	}
	if !body.ReadUint8LengthPrefixed(&sid) || !body.ReadUint16(&suite) {
		return short()
	}
	h.CipherSuite = suite
	if !body.ReadUint8(&comp) {
		return short()
	}
	ext := func(typ uint16, data cryptobyte.String) error {
		if typ == extSupportedVersions {
			var v uint16
			if !data.ReadUint16(&v) {
				return errors.New("tlswire: malformed supported_versions")
			}
			h.SelectedVersion = Version(v)
		}
		return nil
	}
	if partial {
		var n uint16
		if body.Empty() || !body.ReadUint16(&n) {
			return nil
		}
		for {
			var typ uint16
			var data cryptobyte.String
			if !body.ReadUint16(&typ) || !body.ReadUint16LengthPrefixed(&data) || ext(typ, data) != nil {
				return nil
			}
		}
	}
	return eachExtension(body, ext)
}

// ParseSSLv2ClientHello parses an SSLv2-compatible ClientHello record
// (2-byte header with the high bit set, then msg type 1).
func ParseSSLv2ClientHello(rec []byte) (*ClientHello, error) {
	s := cryptobyte.String(rec)
	var hdr uint16
	var typ uint8
	var ver, specLen, sidLen, chLen uint16
	if !s.ReadUint16(&hdr) || hdr&0x8000 == 0 || !s.ReadUint8(&typ) || typ != 1 ||
		!s.ReadUint16(&ver) || !s.ReadUint16(&specLen) || !s.ReadUint16(&sidLen) || !s.ReadUint16(&chLen) {
		return nil, errors.New("tlswire: not an SSLv2 ClientHello")
	}
	var specs []byte
	if specLen%3 != 0 || !s.ReadBytes(&specs, int(specLen)) {
		return nil, errShort
	}
	h := &ClientHello{SSLv2: true, RecordVersion: SSL20, LegacyVersion: Version(ver), SessionIDLen: int(sidLen)}
	for i := 0; i+3 <= len(specs); i += 3 {
		if specs[i] == 0 { // TLS cipher suites are 00 xx yy
			h.CipherSuites = append(h.CipherSuites, uint16(specs[i+1])<<8|uint16(specs[i+2]))
		}
	}
	return h, nil
}

// AlertName names a TLS AlertDescription.
func AlertName(d uint8) string {
	if n, ok := alertNames[d]; ok {
		return n
	}
	return fmt.Sprintf("alert_%d", d)
}

var alertNames = map[uint8]string{
	0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 21: "decryption_failed",
	22: "record_overflow", 30: "decompression_failure", 40: "handshake_failure", 41: "no_certificate",
	42: "bad_certificate", 43: "unsupported_certificate", 44: "certificate_revoked", 45: "certificate_expired",
	46: "certificate_unknown", 47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied",
	50: "decode_error", 51: "decrypt_error", 60: "export_restriction", 70: "protocol_version",
	71: "insufficient_security", 80: "internal_error", 86: "inappropriate_fallback", 90: "user_canceled",
	100: "no_renegotiation", 109: "missing_extension", 110: "unsupported_extension",
	111: "certificate_unobtainable", 112: "unrecognized_name", 113: "bad_certificate_status_response",
	114: "bad_certificate_hash_value", 115: "unknown_psk_identity", 116: "certificate_required",
	120: "no_application_protocol",
}

// CipherSuiteName returns the IANA name of a cipher suite.
func CipherSuiteName(id uint16) string {
	if n, ok := extraSuites[id]; ok {
		return n
	}
	n := tls.CipherSuiteName(id)
	if len(n) > 2 && n[:2] == "0x" {
		return fmt.Sprintf("0x%04x", id)
	}
	return n
}

// extraSuites are suites Windows clients offer that crypto/tls does not
// name.
var extraSuites = map[uint16]string{
	0x0004: "TLS_RSA_WITH_RC4_128_MD5",
	0x0013: "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA",
	0x0032: "TLS_DHE_DSS_WITH_AES_128_CBC_SHA",
	0x0033: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
	0x0038: "TLS_DHE_DSS_WITH_AES_256_CBC_SHA",
	0x0039: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
	0x003D: "TLS_RSA_WITH_AES_256_CBC_SHA256",
	0x0040: "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256",
	0x006A: "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256",
	0x009E: "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
	0x009F: "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
	0xC024: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
	0xC028: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
	0x00FF: "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
	0x5600: "TLS_FALLBACK_SCSV",
}
