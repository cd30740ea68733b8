package decode

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"unicode/utf16"

	"github.com/etlscope/etlscope/etl"
)

// inType is how a field is stored in the payload.
type inType uint8

const (
	tPtr inType = iota + 1
	tU8
	tU16
	tU32
	tU64
	tI8
	tI16
	tI32
	tI64
	tX32
	tX64
	tF32
	tF64
	tBool
	tGUID
	tFileTime
	tSysTime
	tWStr    // NUL-terminated UTF-16
	tAStr    // NUL-terminated bytes
	tBin     // bytes, length from another field
	tSock    // SOCKADDR, length from another field
	tCWStr   // UTF-16, length in characters from another field
	tCAStr   // bytes as text, length from another field
	tSID     // SID
	tBinU16  // bytes with a 16-bit length prefix (TraceLogging)
	tCWStr16 // UTF-16 with a 16-bit byte-length prefix (TraceLogging)
	tCAStr16 // ANSI with a 16-bit byte-length prefix (TraceLogging)
)

var typeNames = map[string]inType{
	"ptr": tPtr, "u8": tU8, "u16": tU16, "u32": tU32, "u64": tU64, "i32": tI32, "i64": tI64,
	"x32": tX32, "x64": tX64, "bool": tBool, "guid": tGUID, "ft": tFileTime, "st": tSysTime,
	"wstr": tWStr, "astr": tAStr, "bin": tBin, "sock": tSock, "cwstr": tCWStr, "castr": tCAStr, "sid": tSID,
}

// field is one property of a template.
type field struct {
	name     string
	typ      inType
	lenRef   int // index of the length field for tBin/tSock/tCWStr/tCAStr
	count    int // fixed array count, 0 = scalar
	vcount   bool
	countRef int     // index+1 of the field holding the array count, 0 = none
	fixedLen int     // fixed byte (or character) length of a binary or string field
	members  []field // the fields of a structure (TraceLogging); typ is 0
	mapper   valueMap
	kind     PropKind // what the value is about (see kindOf)
}

// schema is the layout of one event (provider, id, version).
type schema struct {
	provider etl.GUID
	id       uint16
	version  uint8
	name     string // event name
	task     string
	opcode   string
	message  string // template with %1..%n
	fields   []field
	believed bool // the layout or its meaning is believed, not verified
	trailing bool // extra trailing bytes are expected (optional newer fields)
}

// hexMaps are the value maps whose numbers read best in hex (bitmasks and
// HRESULT-style codes).
var hexMaps = map[string]bool{"prot": true, "status": true, "certflags": true}

// parseFields compiles "Name:type[=LenField][:map] ..." into fields.
func parseFields(spec string) []field {
	var out []field
	idx := map[string]int{}
	for _, f := range strings.Fields(spec) {
		parts := strings.Split(f, ":")
		if len(parts) < 2 {
			panic("decode: bad field spec " + f)
		}
		typ, ref, _ := strings.Cut(parts[1], "=")
		t, ok := typeNames[typ]
		if !ok {
			panic("decode: bad field type " + f)
		}
		fd := field{name: parts[0], typ: t, lenRef: -1}
		if ref != "" {
			i, ok := idx[ref]
			if !ok {
				panic("decode: unknown length field " + f)
			}
			fd.lenRef = i
		}
		if len(parts) > 2 {
			m, ok := maps[parts[2]]
			if !ok {
				panic("decode: unknown map " + f)
			}
			fd.mapper = m
			if fd.typ == tU32 && hexMaps[parts[2]] {
				fd.typ = tX32
			}
		}
		fd.kind = kindOf(fd.name, fd.typ, 0)
		idx[fd.name] = len(out)
		out = append(out, fd)
	}
	return out
}

// decodeFields decodes p with fields. It returns the properties, the number
// of bytes consumed and an error when the payload does not fit.
func decodeFields(fields []field, p []byte, ptrSize int, props []Property) ([]Property, int, error) {
	off := 0
	base := len(props)
	var small [32]ref
	vals := small[:0] // last value of each field, by field index (for length and count references)
	if len(fields) > len(small) {
		vals = make([]ref, 0, len(fields))
	}
	for i := range fields {
		f := &fields[i] // fields are ~100 bytes: not copied per value
		vals = append(vals, ref{})
		n := 1
		isArray := f.vcount || f.count > 0 || f.countRef > 0
		switch {
		case f.vcount:
			if len(p)-off < 2 {
				return props, off, fmt.Errorf("field %s: array count truncated", f.name)
			}
			n = int(binary.LittleEndian.Uint16(p[off:]))
			off += 2
		case f.countRef > 0:
			u, ok := vals[f.countRef-1].u, vals[f.countRef-1].ok
			if !ok || u > uint64(len(p)) {
				return props, off, fmt.Errorf("field %s: bad array count", f.name)
			}
			n = int(u)
		case f.count > 0:
			n = f.count
		}
		if f.members != nil {
			for k := 0; k < n; k++ {
				prefix := f.name + "."
				if isArray {
					prefix = fmt.Sprintf("%s[%d].", f.name, k)
				}
				start := len(props)
				var used int
				var err error
				props, used, err = decodeFields(f.members, p[off:], ptrSize, props)
				for j := start; j < len(props); j++ {
					props[j].Name = prefix + props[j].Name
					props[j].Off += off
				}
				off += used
				if err != nil {
					return props, off, fmt.Errorf("field %s: %w", f.name, err)
				}
				if len(props)-base > 4096 {
					return props, off, fmt.Errorf("too many values")
				}
			}
			continue
		}
		if sz := intSize(f.typ); isArray && (sz == 1 || sz > 0 && n > maxArrayValues) {
			// Byte arrays, and long arrays of other integers (AMSI logs
			// a script as a UINT16 array of UTF-16 code units), are one
			// binary value, shown as hex: not one property per element.
			if n > (len(p)-off)/sz {
				return props, off, fmt.Errorf("field %s: %w", f.name, errTrunc)
			}
			props = append(props, Property{Name: f.name, Value: bytesVal(p[off : off+n*sz]), Kind: f.kind, Off: off, Len: n * sz})
			off += n * sz
			continue
		}
		for k := 0; k < n; k++ {
			v, used, err := decodeOne(f, p[off:], ptrSize, vals)
			if err != nil {
				return props, off, fmt.Errorf("field %s: %w", f.name, err)
			}
			off += used
			vals[i].u, vals[i].ok = v.Uint()
			name := f.name
			if isArray {
				name = fmt.Sprintf("%s[%d]", f.name, k)
			}
			props = append(props, Property{Name: name, Value: v, Kind: f.kind, Off: off - used, Len: used})
			if len(props)-base > 4096 {
				return props, off, fmt.Errorf("too many values")
			}
		}
	}
	return props, off, nil
}

var errTrunc = fmt.Errorf("payload truncated")

// ref is the last value of a field as a length or count of a later
// field: ok when it was a number.
type ref struct {
	u  uint64
	ok bool
}

// maxArrayValues is the longest array of integers wider than a byte that
// is decoded element by element ("Ports[0]", "Ports[1]", …); longer ones
// are one binary value.
const maxArrayValues = 16

// intSize is the size of a fixed-size integer type, 0 for other types.
func intSize(t inType) int {
	switch t {
	case tU8, tI8:
		return 1
	case tU16, tI16:
		return 2
	case tU32, tI32, tX32:
		return 4
	case tU64, tI64, tX64:
		return 8
	}
	return 0
}

func decodeOne(f *field, p []byte, ptrSize int, vals []ref) (Value, int, error) {
	le := binary.LittleEndian
	need := func(n int) error {
		if len(p) < n {
			return errTrunc
		}
		return nil
	}
	length := func() (int, error) {
		if f.lenRef < 0 && f.fixedLen > 0 {
			return f.fixedLen, nil
		}
		if f.lenRef < 0 || f.lenRef >= len(vals) {
			return 0, fmt.Errorf("no length field")
		}
		u, ok := vals[f.lenRef].u, vals[f.lenRef].ok
		if !ok || u > uint64(len(p)) && f.typ != tCWStr {
			return 0, errTrunc
		}
		return int(u), nil
	}
	var v Value
	switch f.typ {
	case tPtr:
		if err := need(ptrSize); err != nil {
			return v, 0, err
		}
		if ptrSize == 4 {
			return uintVal(KindPointer, uint64(le.Uint32(p))), 4, nil
		}
		return uintVal(KindPointer, le.Uint64(p)), 8, nil
	case tU8, tI8:
		if err := need(1); err != nil {
			return v, 0, err
		}
		if f.typ == tI8 {
			v = uintVal(KindInt, uint64(int64(int8(p[0]))))
		} else {
			v = uintVal(KindUint, uint64(p[0]))
		}
		v.m = f.mapper
		return v, 1, nil
	case tU16, tI16:
		if err := need(2); err != nil {
			return v, 0, err
		}
		if f.typ == tI16 {
			v = uintVal(KindInt, uint64(int64(int16(le.Uint16(p)))))
		} else {
			v = uintVal(KindUint, uint64(le.Uint16(p)))
		}
		v.m = f.mapper
		return v, 2, nil
	case tU32, tI32, tX32, tBool:
		if err := need(4); err != nil {
			return v, 0, err
		}
		u := le.Uint32(p)
		switch f.typ {
		case tI32:
			v = uintVal(KindInt, uint64(int64(int32(u))))
		case tX32:
			v = uintVal(KindHex, uint64(u))
		case tBool:
			v = uintVal(KindBool, uint64(u))
		default:
			v = uintVal(KindUint, uint64(u))
		}
		v.m = f.mapper
		return v, 4, nil
	case tU64, tI64, tX64:
		if err := need(8); err != nil {
			return v, 0, err
		}
		k := KindUint
		if f.typ == tI64 {
			k = KindInt
		} else if f.typ == tX64 {
			k = KindHex
		}
		v = uintVal(k, le.Uint64(p))
		v.m = f.mapper
		return v, 8, nil
	case tF32:
		if err := need(4); err != nil {
			return v, 0, err
		}
		return floatVal(float64(math.Float32frombits(le.Uint32(p)))), 4, nil
	case tF64:
		if err := need(8); err != nil {
			return v, 0, err
		}
		return floatVal(math.Float64frombits(le.Uint64(p))), 8, nil
	case tGUID:
		if err := need(16); err != nil {
			return v, 0, err
		}
		return guidVal(p), 16, nil
	case tFileTime:
		if err := need(8); err != nil {
			return v, 0, err
		}
		return fileTimeVal(int64(le.Uint64(p))), 8, nil
	case tSysTime:
		if err := need(16); err != nil {
			return v, 0, err
		}
		return bytesVal(p[:16]), 16, nil
	case tWStr:
		s, n, ok := utf16z(p)
		if !ok {
			return v, 0, errTrunc
		}
		return strVal(s), n, nil
	case tAStr:
		for i, c := range p {
			if c == 0 {
				return strVal(string(p[:i])), i + 1, nil
			}
		}
		return v, 0, errTrunc
	case tBin, tSock, tCAStr:
		n, err := length()
		if err != nil {
			return v, 0, err
		}
		if n > len(p) {
			return v, 0, errTrunc
		}
		switch f.typ {
		case tSock:
			return sockVal(p[:n]), n, nil
		case tCAStr:
			return strVal(strings.TrimRight(string(p[:n]), "\x00")), n, nil
		}
		return bytesVal(p[:n]), n, nil
	case tCWStr:
		n, err := length()
		if err != nil {
			return v, 0, err
		}
		if 2*n > len(p) {
			return v, 0, errTrunc
		}
		return strVal(strings.TrimRight(utf16s(p[:2*n]), "\x00")), 2 * n, nil
	case tBinU16, tCWStr16, tCAStr16:
		if err := need(2); err != nil {
			return v, 0, err
		}
		n := int(le.Uint16(p))
		if len(p) < 2+n {
			return v, 0, errTrunc
		}
		b := p[2 : 2+n]
		switch f.typ {
		case tCWStr16:
			return strVal(utf16s(b)), 2 + n, nil
		case tCAStr16:
			return strVal(string(b)), 2 + n, nil
		}
		return bytesVal(b), 2 + n, nil
	case tSID:
		if err := need(8); err != nil {
			return v, 0, err
		}
		n := 8 + 4*int(p[1])
		if len(p) < n {
			return v, 0, errTrunc
		}
		return strVal(sidString(p[:n])), n, nil
	}
	return v, 0, fmt.Errorf("unsupported type %d", f.typ)
}

// utf16z decodes a NUL-terminated UTF-16LE string.
func utf16z(p []byte) (string, int, bool) {
	for i := 0; i+1 < len(p); i += 2 {
		if p[i] == 0 && p[i+1] == 0 {
			return utf16s(p[:i]), i + 2, true
		}
	}
	return "", 0, false
}

func utf16s(p []byte) string {
	u := make([]uint16, len(p)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(p[2*i:])
	}
	return string(utf16.Decode(u))
}

// parseSockaddr decodes SOCKADDR_IN (family 2) and SOCKADDR_IN6 (23).
func parseSockaddr(b []byte) netip.AddrPort {
	if len(b) < 8 {
		return netip.AddrPort{}
	}
	fam := binary.LittleEndian.Uint16(b)
	port := binary.BigEndian.Uint16(b[2:])
	switch {
	case fam == 2 && len(b) >= 8:
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), port)
	case fam == 23 && len(b) >= 24:
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[8:24])), port)
	}
	return netip.AddrPort{}
}

func sidString(b []byte) string {
	var auth uint64
	for _, c := range b[2:8] {
		auth = auth<<8 | uint64(c)
	}
	s := fmt.Sprintf("S-%d-%d", b[0], auth)
	for i := 8; i+4 <= len(b); i += 4 {
		s += fmt.Sprintf("-%d", binary.LittleEndian.Uint32(b[i:]))
	}
	return s
}
