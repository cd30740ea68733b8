package decode_test

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
)

// tlMeta builds TraceLogging event metadata as TraceLoggingProvider.h lays
// it out: UINT16 size, one tag byte (0), the event name, then per field its
// name, an in-type byte (TlgInUINT8 = 4, TlgInUINT16 = 6, TlgInUINT32 = 8;
// bit 0x40 TlgInVcount: the payload has a UINT16 element count first).
func tlMeta(event string, fields ...any) []byte {
	b := []byte{0, 0, 0}
	b = append(append(b, event...), 0)
	for i := 0; i < len(fields); i += 2 {
		b = append(append(b, fields[i].(string)...), 0)
		b = append(b, fields[i+1].(byte))
	}
	binary.LittleEndian.PutUint16(b, uint16(len(b)))
	return b
}

// TestTraceLoggingArraysAreOneValue: a byte array, and a long array of
// wider integers (AMSI logs a script as a variable-count UINT16 array of
// UTF-16 code units, amsi-tracelogging-win10-18362.etl), is one hex
// property, not one property per element; a short array keeps its
// elements.
func TestTraceLoggingArraysAreOneValue(t *testing.T) {
	const vcount = 0x40
	meta := tlMeta("ArrayTest", "Bytes", byte(4|vcount), "Script", byte(6|vcount), "Ports", byte(8|vcount))
	var p []byte
	p = binary.LittleEndian.AppendUint16(p, 3)
	p = append(p, 0xde, 0xad, 0xbe)
	script := "Get-Date # a script long enough to be more than sixteen code units"
	p = binary.LittleEndian.AppendUint16(p, uint16(len(script)))
	for _, c := range script {
		p = binary.LittleEndian.AppendUint16(p, uint16(c))
	}
	p = binary.LittleEndian.AppendUint16(p, 2)
	p = binary.LittleEndian.AppendUint32(p, 443)
	p = binary.LittleEndian.AppendUint32(p, 80)
	ev := &etl.Event{Kind: etl.KindEventHeader, Provider: etl.MustParseGUID("11111111-2222-3333-4444-555555555555"), PointerSize: 8,
		UserData: p, Extended: []etl.ExtendedItem{{Type: etl.ExtEventSchemaTL, Data: meta}}}
	d := decode.New().Decode(ev)
	if d.Warning != "" {
		t.Fatalf("warning: %s", d.Warning)
	}
	var names []string
	for _, pr := range d.Properties {
		names = append(names, pr.Name)
	}
	if got, want := strings.Join(names, ","), "Bytes,Script,Ports[0],Ports[1]"; got != want {
		t.Errorf("properties %s, want %s", got, want)
	}
	if v, _ := d.Prop("Bytes"); v.String() != "deadbe" {
		t.Errorf("Bytes = %s", v)
	}
	if v, _ := d.Prop("Script"); !strings.HasPrefix(v.String(), "470065007400") { // "Get" in UTF-16LE
		t.Errorf("Script = %s", v)
	}
	if strings.Contains(d.Description(), "Script[") {
		t.Errorf("description lists elements: %s", d.Description())
	}
}
