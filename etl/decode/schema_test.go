package decode

import (
	"encoding/binary"
	"fmt"
	"testing"
	"unicode/utf16"

	"github.com/etlscope/etlscope/etl"
)

// encodeFor builds a payload for fields with distinct values, as the
// provider would lay it out, and returns the value each field should
// decode to (rendered without value maps).
func encodeFor(t *testing.T, fields []field, ptrSize int) ([]byte, map[string]string) {
	le := binary.LittleEndian
	// Variable-length fields get a value first, so their length fields
	// can be written before them.
	text := map[int]string{}
	lengthOf := map[int]uint64{}
	for i, f := range fields {
		switch f.typ {
		case tCWStr, tCAStr, tBin, tSock:
			text[i] = fmt.Sprintf("v%d", i)
			n := uint64(len(text[i]))
			if f.typ == tSock {
				n = 16
			}
			if f.lenRef >= 0 {
				lengthOf[f.lenRef] = n
			}
		}
	}
	var p []byte
	want := map[string]string{}
	for i, f := range fields {
		if f.count > 0 || f.vcount || f.countRef > 0 || f.members != nil {
			t.Fatalf("field %s: arrays are not built by this test", f.name)
		}
		n, isLen := lengthOf[i]
		num := uint64(i + 1)
		if isLen {
			num = n
		}
		switch f.typ {
		case tU8:
			p = append(p, byte(num))
			want[f.name] = fmt.Sprint(num)
		case tU16:
			p = le.AppendUint16(p, uint16(num))
			want[f.name] = fmt.Sprint(num)
		case tU32, tI32:
			p = le.AppendUint32(p, uint32(num))
			want[f.name] = fmt.Sprint(num)
		case tX32:
			p = le.AppendUint32(p, uint32(num))
			want[f.name] = fmt.Sprintf("%#x", num)
		case tBool:
			p = le.AppendUint32(p, 1)
			want[f.name] = "true"
		case tU64, tI64:
			p = le.AppendUint64(p, num)
			want[f.name] = fmt.Sprint(num)
		case tX64:
			p = le.AppendUint64(p, num)
			want[f.name] = fmt.Sprintf("%#x", num)
		case tPtr:
			if ptrSize == 4 {
				p = le.AppendUint32(p, uint32(num))
			} else {
				p = le.AppendUint64(p, num)
			}
			want[f.name] = fmt.Sprintf("%#x", num)
		case tWStr:
			for _, c := range utf16.Encode([]rune(fmt.Sprintf("w%d", i))) {
				p = le.AppendUint16(p, c)
			}
			p = le.AppendUint16(p, 0)
			want[f.name] = fmt.Sprintf("w%d", i)
		case tAStr:
			p = append(append(p, fmt.Sprintf("a%d", i)...), 0)
			want[f.name] = fmt.Sprintf("a%d", i)
		case tCWStr:
			for _, c := range utf16.Encode([]rune(text[i])) {
				p = le.AppendUint16(p, c)
			}
			want[f.name] = text[i]
		case tCAStr:
			p = append(p, text[i]...)
			want[f.name] = text[i]
		case tBin:
			p = append(p, text[i]...)
			want[f.name] = fmt.Sprintf("%x", text[i])
		case tSock:
			p = append(p, 2, 0, 0x01, 0xbb, 10, 0, 0, byte(i), 0, 0, 0, 0, 0, 0, 0, 0)
			want[f.name] = fmt.Sprintf("10.0.0.%d:443", i)
		case tGUID:
			g := etl.GUID{Data1: uint32(num)}
			p = append(p, g.Bytes()...)
			want[f.name] = g.String()
		case tFileTime:
			p = le.AppendUint64(p, 133000000000000000)
			want[f.name] = etl.FileTime(133000000000000000).Format("2006-01-02T15:04:05Z07:00")
		default:
			t.Fatalf("field %s: type %d not built by this test", f.name, f.typ)
		}
	}
	return p, want
}

// TestEveryBuiltinSchema builds a payload for every built-in layout from
// its field list and decodes it back: every field comes out with the value
// written, with both pointer sizes, and nothing is left over.
func TestEveryBuiltinSchema(t *testing.T) {
	d := New()
	for _, s := range append(builtinSchemas(), logfileHeader) {
		for _, ptr := range []int{4, 8} {
			p, want := encodeFor(t, s.fields, ptr)
			props, n, err := decodeFields(s.fields, p, ptr, nil)
			if err != nil || n != len(p) {
				t.Errorf("%v %d v%d ptr %d: %v, %d of %d bytes", s.provider, s.id, s.version, ptr, err, n, len(p))
				continue
			}
			for _, pr := range props {
				got := pr.Value.String()
				if pr.Value.m != nil { // value maps append a name in parentheses
					got = Value{Kind: pr.Value.Kind, u: pr.Value.u}.String()
				}
				if got != want[pr.Name] {
					t.Errorf("%v %d v%d ptr %d: %s = %q, want %q", s.provider, s.id, s.version, ptr, pr.Name, got, want[pr.Name])
				}
			}
			// Through the decoder, too: a known layout gives no warning.
			if s.provider != etl.EventTraceGUID {
				ev := &etl.Event{Kind: etl.KindEventHeader, Provider: s.provider, ID: s.id, Version: s.version, PointerSize: ptr, UserData: p}
				if x := d.Decode(ev); x.Warning != "" || x.Description() == "" {
					t.Errorf("%v %d v%d: warning %q, description %q", s.provider, s.id, s.version, x.Warning, x.Description())
				}
			}
		}
	}
}
