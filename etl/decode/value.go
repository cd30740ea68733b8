// Package decode turns raw ETL event records into named, typed properties
// and a human description, offline and on any OS: built-in schemas for the
// network providers a NetTrace holds (written from the facts in
// ../shared/docs/providers.md), TraceLogging self-describing events, and
// instrumentation manifests the user loads.
package decode

import (
	"encoding/hex"
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/etlscope/etlscope/etl"
)

// Kind is the type of a decoded value.
type Kind uint8

// Value kinds.
const (
	KindInvalid Kind = iota
	KindInt
	KindUint
	KindHex // unsigned, shown in hex
	KindFloat
	KindBool
	KindString
	KindGUID
	KindTime
	KindBytes
	KindSockAddr
	KindPointer
)

// Value is one decoded property value. It is kept small (64 bytes): an
// event's properties are copied around by the hundred thousand, so
// GUIDs, times and socket addresses stay in their payload bytes and are
// decoded when asked for.
type Value struct {
	Kind Kind
	u    uint64 // numbers; float64 bits (KindFloat); FILETIME ticks (KindTime)
	s    string
	b    []byte   // bytes; the 16 bytes of a GUID; a SOCKADDR
	m    valueMap // optional: renders the number
}

func (v Value) float() float64  { return math.Float64frombits(v.u) }
func (v Value) guid() etl.GUID  { return etl.GUIDFromBytes(v.b) }
func (v Value) time() time.Time { return etl.FileTime(int64(v.u)) }

// Uint returns the value as an unsigned number, for numeric kinds.
func (v Value) Uint() (uint64, bool) {
	switch v.Kind {
	case KindUint, KindHex, KindPointer, KindBool, KindInt:
		return v.u, true
	}
	return 0, false
}

// Int returns the value as a signed number, for numeric kinds.
func (v Value) Int() (int64, bool) {
	switch v.Kind {
	case KindInt, KindUint, KindHex, KindPointer, KindBool:
		return int64(v.u), true
	}
	return 0, false
}

// Str returns the string of a string value (and "" otherwise).
func (v Value) Str() string {
	if v.Kind == KindString {
		return v.s
	}
	return ""
}

// Bytes returns the bytes of a binary value.
func (v Value) Bytes() []byte {
	if v.Kind == KindGUID {
		return nil // its bytes are an encoding detail
	}
	return v.b
}

// AddrPort returns the address of a socket-address value.
func (v Value) AddrPort() (netip.AddrPort, bool) {
	if v.Kind != KindSockAddr {
		return netip.AddrPort{}, false
	}
	return parseSockaddr(v.b), true
}

// String renders the value for people: numbers with their names when a
// value map applies (e.g. "0xa80 (TLS1.0|TLS1.1|TLS1.2 client)").
func (v Value) String() string {
	if v.Kind == KindString {
		return v.s // no copy
	}
	return string(v.AppendText(make([]byte, 0, 32)))
}

// Raw returns the value without map names: for numbers the plain number.
func (v Value) Raw() any {
	switch v.Kind {
	case KindInt:
		return int64(v.u)
	case KindUint, KindHex, KindPointer:
		return v.u
	case KindFloat:
		return v.float()
	case KindBool:
		return v.u != 0
	}
	return v.String()
}

func uintVal(k Kind, u uint64) Value { return Value{Kind: k, u: u} }
func strVal(s string) Value          { return Value{Kind: KindString, s: s} }
func bytesVal(b []byte) Value        { return Value{Kind: KindBytes, b: b} }
func guidVal(b []byte) Value         { return Value{Kind: KindGUID, b: b[:16:16]} }
func fileTimeVal(ticks int64) Value  { return Value{Kind: KindTime, u: uint64(ticks)} }
func floatVal(f float64) Value       { return Value{Kind: KindFloat, u: math.Float64bits(f)} }
func sockVal(b []byte) Value         { return Value{Kind: KindSockAddr, b: b} }

// JSON returns the value as JSON output types it: plain integers as
// numbers, booleans as booleans, times in UTC; hex numbers (masks,
// statuses), numbers with a value map and everything else as the text
// String shows ("0xa0 (SSL3.0|TLS1.0 (client))").
func (v Value) JSON() any {
	switch v.Kind {
	case KindInt:
		if v.m == nil {
			i, _ := v.Int()
			return i
		}
	case KindUint:
		if v.m == nil {
			return v.u
		}
	case KindBool:
		if v.m == nil {
			return v.u != 0
		}
	case KindFloat:
		if f := v.float(); !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f
		}
	case KindTime:
		if t := v.time(); !t.IsZero() && jsonYear(t) {
			return t.UTC()
		}
	}
	return v.String()
}

// jsonYear reports whether JSON can hold t as a time: RFC 3339 has four
// digits for the year (encoding/json refuses the others, so such values
// are written as text, like numbers JSON has no form for: NaN, ±Inf).
func jsonYear(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 0 && y <= 9999
}

// AppendText appends the value's text (String) to dst, without building
// a string first (for writers that render millions of values).
func (v Value) AppendText(dst []byte) []byte {
	switch v.Kind {
	case KindInt:
		dst = strconv.AppendInt(dst, int64(v.u), 10)
	case KindUint:
		dst = strconv.AppendUint(dst, v.u, 10)
	case KindHex, KindPointer:
		dst = strconv.AppendUint(append(dst, "0x"...), v.u, 16)
	case KindFloat:
		dst = strconv.AppendFloat(dst, v.float(), 'g', -1, 64)
	case KindBool:
		dst = strconv.AppendBool(dst, v.u != 0)
	case KindBytes:
		if len(v.b) > 256 {
			dst = hex.AppendEncode(dst, v.b[:256])
			dst = strconv.AppendInt(append(dst, "… ("...), int64(len(v.b)), 10)
			return append(dst, " bytes)"...)
		}
		return hex.AppendEncode(dst, v.b)
	case KindSockAddr:
		ap := parseSockaddr(v.b)
		if !ap.IsValid() {
			return hex.AppendEncode(dst, v.b)
		}
		return ap.AppendTo(dst)
	case KindTime:
		t := v.time()
		if t.IsZero() {
			return dst
		}
		return t.UTC().AppendFormat(dst, time.RFC3339Nano)
	case KindString:
		return append(dst, v.s...)
	case KindGUID:
		return append(dst, v.guid().String()...)
	default: // kinds without text
		return dst
	}
	if v.m != nil {
		if name := v.m(v.u); name != "" {
			dst = append(append(append(dst, " ("...), name...), ')')
		}
	}
	return dst
}

// IsJSONText reports whether JSON returns the text String renders rather
// than a number, a boolean or a time.
func (v Value) IsJSONText() bool {
	switch v.Kind {
	case KindInt, KindUint, KindBool:
		return v.m != nil
	case KindFloat:
		f := v.float()
		return math.IsNaN(f) || math.IsInf(f, 0)
	case KindTime:
		t := v.time()
		return t.IsZero() || !jsonYear(t)
	}
	return true
}

// AppendJSONScalar appends the number, boolean or time JSON returns, as
// encoding/json writes it, and reports true. It appends nothing and
// reports false when JSON returns text (IsJSONText: also NaN and infinite
// floats, and times whose year is outside 0-9999, which JSON has no form
// for).
func (v Value) AppendJSONScalar(dst []byte) ([]byte, bool) {
	if v.IsJSONText() {
		return dst, false
	}
	switch v.Kind {
	case KindInt:
		return strconv.AppendInt(dst, int64(v.u), 10), true
	case KindUint:
		return strconv.AppendUint(dst, v.u, 10), true
	case KindBool:
		return strconv.AppendBool(dst, v.u != 0), true
	case KindFloat:
		return appendJSONFloat(dst, v.float())
	case KindTime:
		t := v.time().UTC()
		if y := t.Year(); y < 0 || y > 9999 {
			return dst, false
		}
		dst = t.AppendFormat(append(dst, '"'), time.RFC3339Nano)
		return append(dst, '"'), true
	}
	return dst, false
}

// appendJSONFloat appends f as encoding/json writes a float64: the
// shortest representation, in exponent form below 1e-6 and from 1e21 on,
// with a one-digit negative exponent ("1e-7", not "1e-07").
func appendJSONFloat(dst []byte, f float64) ([]byte, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, true
}
