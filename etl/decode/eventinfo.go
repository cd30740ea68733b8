package decode

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/etlscope/etlscope/etl"
)

// KernelTraceControl writes the schemas of the events in a merged or
// relogged trace into the trace itself, as TRACE_EVENT_INFO structures
// (tdh.h) in events of this provider with opcode 32, so the trace can be
// decoded on a machine without the providers' manifests.
var ktcMetadata = etl.MustParseGUID("bbccf6c1-6cd1-48c4-80ff-839482e37671")

const (
	ktcEventInfoOpcode = 32
	teiHeaderSize      = 112
	epiSize            = 24
	maxProperties      = 1024
	maxMetaSchemas     = 65536
)

// EVENT_PROPERTY_INFO flags.
const (
	propStruct         = 0x1
	propParamLength    = 0x2
	propParamCount     = 0x4
	propParamFixedLen  = 0x10
	propParamFixedCnt  = 0x20
	propHasCustomSchem = 0x80
)

// tdhTypes maps TDH_INTYPE values to payload types.
var tdhTypes = map[uint16]inType{
	1: tWStr, 2: tAStr, 3: tI8, 4: tU8, 5: tI16, 6: tU16, 7: tI32, 8: tU32, 9: tI64, 10: tU64,
	11: tF32, 12: tF64, 13: tBool, 14: tBin, 15: tGUID, 16: tPtr, 17: tFileTime, 18: tSysTime,
	19: tSID, 20: tX32, 21: tX64, 22: tCWStr16, 23: tCAStr16, 25: tBinU16, 308: tPtr,
}

// metaKey identifies the events a TRACE_EVENT_INFO describes: for
// manifest and TraceLogging events (provider, id, version), for MOF events
// (event class GUID, opcode, version) with mof set.
type metaKey struct {
	provider etl.GUID
	id       uint16
	version  uint8
	mof      bool
}

var errEventInfo = errors.New("decode: malformed TRACE_EVENT_INFO")

// parseEventInfo turns a TRACE_EVENT_INFO into a schema and its key.
func parseEventInfo(b []byte) (metaKey, *schema, error) {
	le := binary.LittleEndian
	if len(b) < teiHeaderSize {
		return metaKey{}, nil, errEventInfo
	}
	str := func(off uint32) string {
		if off == 0 || int(off) >= len(b) {
			return ""
		}
		s, _, ok := utf16z(b[off:])
		if !ok {
			return ""
		}
		return s
	}
	provider := etl.GUIDFromBytes(b[0:])
	eventGUID := etl.GUIDFromBytes(b[16:])
	id := le.Uint16(b[32:])
	version := b[34]
	opcode := b[36]
	source := le.Uint32(b[48:])
	s := &schema{
		provider: provider,
		id:       id,
		version:  version,
		task:     str(le.Uint32(b[68:])),
		opcode:   str(le.Uint32(b[72:])),
		message:  str(le.Uint32(b[76:])),
		name:     str(le.Uint32(b[92:])),
	}
	if s.name == "" {
		s.name = s.task
		if s.opcode != "" && s.opcode != s.task {
			s.name = s.task + "/" + s.opcode
		}
	}
	n := int(le.Uint32(b[100:]))
	if n > maxProperties || teiHeaderSize+n*epiSize > len(b) {
		return metaKey{}, nil, errEventInfo
	}
	for i := 0; i < n; i++ {
		p := b[teiHeaderSize+i*epiSize:]
		flags := le.Uint32(p)
		if flags&(propStruct|propHasCustomSchem) != 0 {
			return metaKey{}, nil, fmt.Errorf("decode: TRACE_EVENT_INFO with structures is not supported")
		}
		in := le.Uint16(p[8:])
		t, ok := tdhTypes[in]
		if !ok {
			return metaKey{}, nil, fmt.Errorf("decode: TDH in-type %d not supported", in)
		}
		f := field{name: str(le.Uint32(p[4:])), typ: t, lenRef: -1}
		count, length := le.Uint16(p[16:]), le.Uint16(p[18:])
		if flags&propParamLength != 0 {
			if int(length) >= i {
				return metaKey{}, nil, errEventInfo
			}
			f.lenRef = int(length)
			f.typ = counted(t)
		} else if t == tBin || ((t == tWStr || t == tAStr) && (flags&propParamFixedLen != 0 || length > 0)) {
			if t == tBin && length == 0 && flags&propParamFixedLen == 0 {
				return metaKey{}, nil, fmt.Errorf("decode: binary property %q without a length", f.name)
			}
			f.fixedLen = int(length)
			f.typ = counted(t)
		}
		if flags&propParamCount != 0 {
			if int(count) >= i {
				return metaKey{}, nil, errEventInfo
			}
			f.countRef = int(count) + 1
		} else if count > 1 || flags&propParamFixedCnt != 0 {
			f.count = int(count)
		}
		f.kind = kindOf(f.name, f.typ, 0)
		if f.name == "" {
			f.name = fmt.Sprintf("field%d", i+1)
		}
		s.fields = append(s.fields, f)
	}
	key := metaKey{provider: provider, id: id, version: version}
	if source == 1 { // DecodingSourceWbem: a MOF class, keyed by opcode
		key = metaKey{provider: eventGUID, id: uint16(opcode), version: version, mof: true}
		s.provider = eventGUID
	}
	return key, s, nil
}

// counted returns the counted form of a string type (the length then comes
// from another field or a fixed size); other types are unchanged.
func counted(t inType) inType {
	switch t {
	case tWStr:
		return tCWStr
	case tAStr:
		return tCAStr
	}
	return t
}

// observeEventInfo learns a schema from a KernelTraceControl metadata
// event.
func (d *Decoder) observeEventInfo(ev *etl.Event) {
	if ev.Provider != ktcMetadata || ev.Opcode != ktcEventInfoOpcode || len(d.meta) >= maxMetaSchemas {
		return
	}
	k, s, err := parseEventInfo(ev.UserData)
	if err != nil {
		d.metaErrors++
		return
	}
	d.meta[k] = s
}

// metaSchema returns the embedded schema for ev, if the trace carries one.
func (d *Decoder) metaSchema(ev *etl.Event) *schema {
	if len(d.meta) == 0 {
		return nil
	}
	if ev.Kind == etl.KindEventHeader {
		return d.meta[metaKey{provider: ev.Provider, id: ev.ID, version: ev.Version}]
	}
	return d.meta[metaKey{provider: ev.Provider, id: uint16(ev.Opcode), version: ev.Version, mof: true}]
}
