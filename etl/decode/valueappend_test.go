package decode

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// valueCases covers every kind of Value, with and without a value map,
// and the edges of their renderings: byte arrays around the 256-byte cut,
// floats around encoding/json's switch to exponent form, zero and far
// times, IPv4, IPv6 and zoned socket addresses, invalid socket addresses.
func valueCases() map[string]Value {
	names := func(u uint64) string {
		if u == 0 {
			return ""
		}
		return ProtocolNames(uint32(u))
	}
	long := bytes.Repeat([]byte{0xab, 0x01}, 200)
	// FILETIME ticks (100 ns since 1601) of t.
	ft := func(t time.Time) Value {
		return fileTimeVal(t.Sub(time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC)).Nanoseconds() / 100)
	}
	far := fileTimeVal(0x7fffffffffffffff) // 30828-09-14: past the years encoding/json writes
	sin := func(ap netip.AddrPort) Value { // SOCKADDR_IN / SOCKADDR_IN6, the port in network order
		var b []byte
		if ap.Addr().Is4() {
			b = binary.BigEndian.AppendUint16([]byte{2, 0}, ap.Port())
			a4 := ap.Addr().As4()
			b = append(append(b, a4[:]...), make([]byte, 8)...)
		} else {
			b = binary.BigEndian.AppendUint16([]byte{23, 0}, ap.Port())
			a16 := ap.Addr().As16()
			b = append(append(append(b, 0, 0, 0, 0), a16[:]...), 0, 0, 0, 0)
		}
		return sockVal(b)
	}
	guid := []byte{0x3c, 0xe7, 0xb3, 0x50, 0x70, 0x93, 0x1d, 0x46, 0xbb, 0x9f, 0x26, 0xf3, 0x2d, 0x68, 0x88, 0x7d}
	cases := map[string]Value{
		"invalid":        {},
		"int":            uintVal(KindInt, 42),
		"negative int":   uintVal(KindInt, uint64(1<<64-5)),
		"int mapped":     {Kind: KindInt, u: 0xa80, m: names},
		"int map empty":  {Kind: KindInt, u: 0, m: names},
		"uint":           uintVal(KindUint, math.MaxUint64),
		"uint mapped":    {Kind: KindUint, u: 0x800, m: names},
		"hex":            uintVal(KindHex, 0x80090331),
		"hex mapped":     {Kind: KindHex, u: 0xa80, m: names},
		"hex zero":       uintVal(KindHex, 0),
		"pointer":        uintVal(KindPointer, 0xfffff80012345678),
		"bool true":      uintVal(KindBool, 1),
		"bool false":     uintVal(KindBool, 0),
		"bool mapped":    {Kind: KindBool, u: 1, m: names},
		"string":         strVal("héllo \"<&>\"\n\x01\u2028"),
		"string empty":   strVal(""),
		"guid":           guidVal(guid),
		"time":           ft(time.Date(2024, 3, 12, 9, 30, 0, 16000000, time.UTC)),
		"time whole":     ft(time.Date(2024, 3, 12, 9, 30, 0, 0, time.UTC)),
		"time zero":      fileTimeVal(0),
		"time 1601":      fileTimeVal(1),
		"time far":       far,
		"time negative":  fileTimeVal(-1),
		"bytes":          bytesVal([]byte{0, 1, 0xfe, 0xff}),
		"bytes empty":    bytesVal(nil),
		"bytes 256":      bytesVal(long[:256]),
		"bytes 257":      bytesVal(long[:257]),
		"bytes 400":      bytesVal(long),
		"sockaddr v4":    sin(netip.MustParseAddrPort("52.97.0.2:443")),
		"sockaddr v6":    sin(netip.MustParseAddrPort("[2001:db8::1]:8443")),
		"sockaddr 4in6":  sin(netip.MustParseAddrPort("[::ffff:10.0.0.1]:80")),
		"sockaddr bad":   sockVal([]byte{2, 0, 0x01, 0xbb}),
		"sockaddr fam":   sockVal([]byte{9, 0, 0x01, 0xbb, 1, 2, 3, 4, 5, 6}),
		"float":          floatVal(1.5),
		"float zero":     floatVal(0),
		"float neg zero": floatVal(math.Copysign(0, -1)),
		"float tiny":     floatVal(1e-7),
		"float 1e-6":     floatVal(1e-6),
		"float huge":     floatVal(1e21),
		"float big":      floatVal(123456789012345678901.0),
		"float neg tiny": floatVal(-2.5e-10),
		"float e-100":    floatVal(1e-100),
		"float max":      floatVal(math.MaxFloat64),
		"float smallest": floatVal(math.SmallestNonzeroFloat64),
		"float nan":      floatVal(math.NaN()),
		"float inf":      floatVal(math.Inf(1)),
		"float -inf":     floatVal(math.Inf(-1)),
	}
	return cases
}

func TestAppendText(t *testing.T) {
	for name, v := range valueCases() {
		prefix := []byte("pre:")
		got := string(v.AppendText(prefix))
		if want := "pre:" + v.String(); got != want {
			t.Errorf("%s: AppendText = %q, want String's %q", name, got, want)
		}
	}
}

// TestAppendJSONScalar: the scalar is byte for byte what encoding/json
// writes for JSON's result, and the text/scalar split follows JSON's
// result type; JSON never returns what encoding/json refuses (NaN and
// infinite floats, years outside 0-9999 are text).
func TestAppendJSONScalar(t *testing.T) {
	for name, v := range valueCases() {
		j := v.JSON()
		_, isText := j.(string)
		if v.IsJSONText() != isText {
			t.Errorf("%s: IsJSONText = %v, JSON returns %T", name, v.IsJSONText(), j)
		}
		want, err := json.Marshal(j)
		got, ok := v.AppendJSONScalar([]byte("pre:"))
		switch {
		case isText:
			if ok || string(got) != "pre:" {
				t.Errorf("%s: text value: AppendJSONScalar = %q, %v; want nothing, false", name, got, ok)
			}
		case err != nil:
			t.Errorf("%s: encoding/json refuses JSON's result %v: %v", name, j, err)
		case !ok || string(got) != "pre:"+string(want):
			t.Errorf("%s: AppendJSONScalar = %q, %v; want %q", name, got, ok, "pre:"+string(want))
		}
	}
	if t.Failed() {
		return
	}
	// The table must reach every branch it claims to: the values JSON
	// has no form for among the text ones.
	var unrepresentable, scalars int
	for _, v := range valueCases() {
		if _, ok := v.AppendJSONScalar(nil); ok {
			scalars++
		} else if (v.Kind == KindFloat || v.Kind == KindTime) && v.IsJSONText() && v.String() != "" {
			unrepresentable++
		}
	}
	if unrepresentable < 4 || scalars < 15 {
		t.Errorf("cases reach %d unrepresentable and %d scalar values; the table lost its edges", unrepresentable, scalars)
	}
}

func BenchmarkAppendText(b *testing.B) {
	v := bytesVal(bytes.Repeat([]byte{0x16, 0x03}, 60))
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = v.AppendText(buf[:0])
	}
	if !strings.HasPrefix(string(buf), "1603") {
		b.Fatal(string(buf))
	}
}
