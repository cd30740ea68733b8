// Package decode turns raw ETL event records into named, typed properties
// and a human description, offline and on any OS: built-in schemas for the
// network providers a NetTrace holds (written from the facts in
// ../shared/docs/providers.md), TraceLogging self-describing events, and
// instrumentation manifests the user loads.
package decode

import (
	"encoding/hex"
	"fmt"
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
	var s string
	switch v.Kind {
	case KindInt:
		s = strconv.FormatInt(int64(v.u), 10)
	case KindUint:
		s = strconv.FormatUint(v.u, 10)
	case KindHex, KindPointer:
		s = "0x" + strconv.FormatUint(v.u, 16)
	case KindFloat:
		s = strconv.FormatFloat(v.float(), 'g', -1, 64)
	case KindBool:
		s = strconv.FormatBool(v.u != 0)
	case KindString:
		return v.s
	case KindGUID:
		return v.guid().String()
	case KindTime:
		t := v.time()
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	case KindBytes:
		if len(v.b) > 256 {
			return hex.EncodeToString(v.b[:256]) + fmt.Sprintf("… (%d bytes)", len(v.b))
		}
		return hex.EncodeToString(v.b)
	case KindSockAddr:
		ap := parseSockaddr(v.b)
		if !ap.IsValid() {
			return hex.EncodeToString(v.b)
		}
		return ap.String()
	default:
		return ""
	}
	if v.m != nil {
		if name := v.m(v.u); name != "" {
			return s + " (" + name + ")"
		}
	}
	return s
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
		return v.float()
	case KindTime:
		if t := v.time(); !t.IsZero() {
			return t.UTC()
		}
	}
	return v.String()
}
