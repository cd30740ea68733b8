package decode

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/etlscope/etlscope/etl"
)

// TraceLogging metadata (the EVENT_HEADER extended item of type
// EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL), as TraceLoggingProvider.h lays it
// out: UINT16 size, extension bytes (high bit = more follow), the event
// name (NUL-terminated), then per field: name, UINT8 in-type (bit 0x80: an
// out-type byte follows; bits 0x60: 0x20 constant count, 0x40 variable
// count, 0x60 custom), [UINT8 out-type (bit 0x80: extension bytes follow)],
// [UINT16 count], [UINT16 custom size + bytes].
const (
	tlChain     = 0x80
	tlTypeMask  = 0x1f
	tlCountMask = 0x60
	tlCcount    = 0x20
	tlVcount    = 0x40
	tlCustom    = 0x60
	tlStruct    = 24
	maxTLFields = 512
)

var tlTypes = map[uint8]inType{
	1: tWStr, 2: tAStr, 3: tI8, 4: tU8, 5: tI16, 6: tU16, 7: tI32, 8: tU32, 9: tI64, 10: tU64,
	11: tF32, 12: tF64, 13: tBool, 14: tBinU16, 15: tGUID, 16: tPtr, 17: tFileTime, 18: tSysTime,
	19: tSID, 20: tX32, 21: tX64, 22: tCWStr16, 23: tCAStr16, 25: tBinU16,
}

// tlEvent is parsed TraceLogging metadata.
type tlEvent struct {
	name   string
	fields []field
}

var errTLMeta = errors.New("decode: malformed TraceLogging metadata")

// parseTLMeta parses TraceLogging event metadata.
func parseTLMeta(m []byte) (*tlEvent, error) {
	if len(m) < 3 {
		return nil, errTLMeta
	}
	size := int(binary.LittleEndian.Uint16(m))
	if size > len(m) || size < 3 {
		return nil, errTLMeta
	}
	m = m[2:size]
	for len(m) > 0 && m[0]&0x80 != 0 { // extension bytes
		m = m[1:]
	}
	if len(m) == 0 {
		return nil, errTLMeta
	}
	m = m[1:] // last extension byte
	cstr := func() (string, bool) {
		for i, c := range m {
			if c == 0 {
				s := string(m[:i])
				m = m[i+1:]
				return s, true
			}
		}
		return "", false
	}
	ev := &tlEvent{}
	var ok bool
	if ev.name, ok = cstr(); !ok {
		return nil, errTLMeta
	}
	total := 0
	// readFields reads up to limit field descriptions (all that are left
	// when limit < 0); struct members become the members of their struct.
	var readFields func(limit, depth int) ([]field, error)
	readFields = func(limit, depth int) ([]field, error) {
		if depth > 8 {
			return nil, errTLMeta
		}
		var fields []field
		for len(m) > 0 && (limit < 0 || len(fields) < limit) {
			if total++; total > maxTLFields {
				return nil, errTLMeta
			}
			name, ok := cstr()
			if !ok || len(m) < 1 {
				return nil, errTLMeta
			}
			in := m[0]
			m = m[1:]
			var out uint8
			if in&tlChain != 0 {
				if len(m) < 1 {
					return nil, errTLMeta
				}
				out = m[0]
				m = m[1:]
				for o := out; o&tlChain != 0; { // out-type extension bytes
					if len(m) < 1 {
						return nil, errTLMeta
					}
					o = m[0]
					m = m[1:]
				}
			}
			count := 0
			switch in & tlCountMask {
			case tlCcount:
				if len(m) < 2 {
					return nil, errTLMeta
				}
				count = int(binary.LittleEndian.Uint16(m))
				m = m[2:]
			case tlCustom:
				return nil, fmt.Errorf("decode: TraceLogging custom field %q not supported", name)
			}
			f := field{name: name, lenRef: -1, count: count, vcount: in&tlCountMask == tlVcount}
			if in&tlTypeMask == tlStruct {
				members, err := readFields(int(out&^tlChain), depth+1)
				if err != nil {
					return nil, err
				}
				f.members = members
				fields = append(fields, f)
				continue
			}
			t, ok := tlTypes[in&tlTypeMask]
			if !ok {
				return nil, fmt.Errorf("decode: TraceLogging in-type %d of %q not supported", in&tlTypeMask, name)
			}
			f.typ = t
			f.kind = kindOf(name, t, out)
			fields = append(fields, f)
		}
		return fields, nil
	}
	fields, err := readFields(-1, 0)
	if err != nil {
		return nil, err
	}
	ev.fields = fields
	return ev, nil
}

// decodeTL decodes a TraceLogging event; false when its metadata is not
// usable (the caller then falls back).
func (d *Decoder) decodeTL(out *Decoded, ev *etl.Event, meta []byte) bool {
	tl, err := parseTLMeta(meta)
	if err != nil {
		out.Warning = err.Error()
		return false
	}
	props, n, err := decodeFields(tl.fields, ev.UserData, ev.PointerSize, out.Properties[:0])
	out.Properties = props
	out.EventName = tl.name
	if err != nil {
		out.Warning = fmt.Sprintf("TraceLogging event %s: %v", tl.name, err)
	} else if n != len(ev.UserData) {
		out.Warning = fmt.Sprintf("TraceLogging event %s: %d bytes not described by its metadata", tl.name, len(ev.UserData)-n)
	}
	d.hideSecrets(out.Properties)
	out.message, out.rendered = "", false // rendered on demand: "name: Prop=Value, …"
	return true
}
