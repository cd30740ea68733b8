package etltest

import (
	"encoding/binary"
	"net/netip"
	"time"
	"unicode/utf16"

	"github.com/etlscope/etlscope/etl"
)

// Payload builds the user data of an event: little-endian values packed
// back to back with no alignment padding, which is how ETW providers lay out
// their fields. Every method appends and returns p, so calls chain:
//
//	data := etltest.NewPayload(8).Ptr(conn).U32(0xA0).UTF16Z("host").Bytes()
type Payload struct {
	b   []byte
	ptr int
}

// NewPayload returns an empty builder whose Ptr fields take pointerSize
// bytes (4 or 8; anything else means 8).
func NewPayload(pointerSize int) *Payload {
	if pointerSize != 4 {
		pointerSize = 8
	}
	return &Payload{ptr: pointerSize}
}

// PointerSize reports the size Ptr writes.
func (p *Payload) PointerSize() int { return p.ptr }

// Len returns the number of bytes written so far.
func (p *Payload) Len() int { return len(p.b) }

// Bytes returns the bytes written so far. The slice aliases the builder.
func (p *Payload) Bytes() []byte { return p.b }

// U8 appends one byte.
func (p *Payload) U8(v uint8) *Payload { p.b = append(p.b, v); return p }

// U16 appends a little-endian uint16.
func (p *Payload) U16(v uint16) *Payload { p.b = binary.LittleEndian.AppendUint16(p.b, v); return p }

// U32 appends a little-endian uint32.
func (p *Payload) U32(v uint32) *Payload { p.b = binary.LittleEndian.AppendUint32(p.b, v); return p }

// U64 appends a little-endian uint64.
func (p *Payload) U64(v uint64) *Payload { p.b = binary.LittleEndian.AppendUint64(p.b, v); return p }

// I32 appends a little-endian int32.
func (p *Payload) I32(v int32) *Payload { return p.U32(uint32(v)) }

// I64 appends a little-endian int64.
func (p *Payload) I64(v int64) *Payload { return p.U64(uint64(v)) }

// Bool32 appends a win:Boolean, which is a 4-byte BOOL (0 or 1).
func (p *Payload) Bool32(v bool) *Payload {
	if v {
		return p.U32(1)
	}
	return p.U32(0)
}

// Ptr appends a win:Pointer: 4 or 8 bytes depending on the pointer size.
func (p *Payload) Ptr(v uint64) *Payload {
	if p.ptr == 4 {
		return p.U32(uint32(v))
	}
	return p.U64(v)
}

// FileTime appends t as a FILETIME (100 ns intervals since 1601, UTC); the
// zero time is written as 0.
func (p *Payload) FileTime(t time.Time) *Payload { return p.U64(uint64(FileTime(t))) }

// UTF16 appends s as UTF-16LE without a terminator.
func (p *Payload) UTF16(s string) *Payload {
	for _, u := range utf16.Encode([]rune(s)) {
		p.U16(u)
	}
	return p
}

// UTF16Z appends s as NUL-terminated UTF-16LE (win:UnicodeString without a
// length attribute).
func (p *Payload) UTF16Z(s string) *Payload { return p.UTF16(s).U16(0) }

// AnsiZ appends s as NUL-terminated bytes (win:AnsiString). s is written
// byte for byte; callers pass ASCII.
func (p *Payload) AnsiZ(s string) *Payload { p.b = append(append(p.b, s...), 0); return p }

// CountedUTF16 appends a counted string as TDH's win:CountedString: a
// uint16 byte count followed by that many bytes of UTF-16LE, no terminator.
func (p *Payload) CountedUTF16(s string) *Payload {
	u := utf16.Encode([]rune(s))
	p.U16(uint16(2 * len(u)))
	for _, c := range u {
		p.U16(c)
	}
	return p
}

// CountedAnsi appends a uint16 byte count followed by the bytes of s
// (win:CountedAnsiString), no terminator.
func (p *Payload) CountedAnsi(s string) *Payload {
	p.U16(uint16(len(s)))
	p.b = append(p.b, s...)
	return p
}

// Raw appends b unchanged (win:Binary). (Bytes returns the result.)
func (p *Payload) Raw(b []byte) *Payload { p.b = append(p.b, b...); return p }

// GUID appends g in its 16-byte Windows layout.
func (p *Payload) GUID(g etl.GUID) *Payload { p.b = append(p.b, g.Bytes()...); return p }

// SockaddrIn appends a Windows SOCKADDR_IN (16 bytes: family 2, port in
// network byte order, IPv4 address, 8 zero bytes) for an IPv4 or
// IPv4-mapped address, and a SOCKADDR_IN6 (28 bytes: family 23 — AF_INET6
// on Windows —, port in network byte order, flow info 0, address, scope id)
// otherwise.
func (p *Payload) SockaddrIn(ap netip.AddrPort) *Payload {
	p.b = AppendSockaddr(p.b, ap)
	return p
}

// Windows address families used in SOCKADDR structures.
const (
	AFInet  = 2
	AFInet6 = 23
)

// AppendSockaddr appends the SOCKADDR_IN or SOCKADDR_IN6 form of ap to b
// (see Payload.SockaddrIn).
func AppendSockaddr(b []byte, ap netip.AddrPort) []byte {
	a := ap.Addr()
	if a.Is4() || a.Is4In6() {
		a4 := a.Unmap().As4()
		b = binary.LittleEndian.AppendUint16(b, AFInet)
		b = binary.BigEndian.AppendUint16(b, ap.Port())
		b = append(b, a4[:]...)
		return append(b, 0, 0, 0, 0, 0, 0, 0, 0)
	}
	a16 := a.As16()
	b = binary.LittleEndian.AppendUint16(b, AFInet6)
	b = binary.BigEndian.AppendUint16(b, ap.Port())
	b = binary.LittleEndian.AppendUint32(b, 0) // sin6_flowinfo
	b = append(b, a16[:]...)
	var scope uint32
	if z := a.Zone(); z != "" {
		for _, c := range z {
			if c < '0' || c > '9' {
				scope = 0
				break
			}
			scope = scope*10 + uint32(c-'0')
		}
	}
	return binary.LittleEndian.AppendUint32(b, scope)
}

// SockaddrLen returns the size of the SOCKADDR form of ap: 16 or 28.
func SockaddrLen(ap netip.AddrPort) int {
	if a := ap.Addr(); a.Is4() || a.Is4In6() {
		return 16
	}
	return 28
}
