package etl

import (
	"encoding/binary"
	"testing"
)

// TestMessageRecord decodes a WPP/TraceMessage record with every optional
// field: sequence, GUID, timestamp and system info.
func TestMessageRecord(t *testing.T) {
	g := MustParseGUID("37d2c3cd-c5d4-4587-8531-4696c44244c8")
	var p []byte
	le := binary.LittleEndian
	p = le.AppendUint16(p, 0) // size, set below
	p = append(p, typeMessage, 0x80)
	p = le.AppendUint16(p, 42)                                             // message number
	p = le.AppendUint16(p, msgSequence|msgGUID|msgTimestamp|msgSystemInfo) // options
	p = le.AppendUint32(p, 7)                                              // sequence
	p = append(p, g.Bytes()...)
	p = le.AppendUint64(p, 123456789) // timestamp
	p = le.AppendUint32(p, 88)        // thread
	p = le.AppendUint32(p, 99)        // process
	p = append(p, "args"...)
	le.PutUint16(p, uint16(len(p)))
	size, ok := recordSize(p)
	if !ok || size != len(p) {
		t.Fatalf("recordSize %d %v", size, ok)
	}
	var ev Event
	if msg := decodeRecord(&ev, p); msg != "" {
		t.Fatal(msg)
	}
	if ev.Kind != KindMessage || ev.MessageNumber != 42 || ev.ID != 42 || ev.MessageGUID != g || ev.Provider != g ||
		ev.Timestamp != 123456789 || ev.TID != 88 || ev.PID != 99 || string(ev.UserData) != "args" {
		t.Errorf("%+v", ev)
	}
	// Cut inside the optional fields: an error, never a panic.
	for n := messageHeaderSize; n < len(p)-4; n++ {
		q := append([]byte(nil), p[:n]...)
		le.PutUint16(q, uint16(n))
		if msg := decodeRecord(&ev, q); msg == "" && n < 8+4+16+8+8 {
			t.Errorf("cut at %d: no error", n)
		}
	}
}

// TestInstanceRecord decodes an EVENT_INSTANCE_GUID_HEADER record.
func TestInstanceRecord(t *testing.T) {
	g, parent := MustParseGUID("11111111-2222-3333-4444-555555555555"), MustParseGUID("66666666-7777-8888-9999-aaaaaaaaaaaa")
	le := binary.LittleEndian
	p := make([]byte, instanceHeaderSize, instanceHeaderSize+3)
	le.PutUint16(p, instanceHeaderSize+3)
	p[2], p[3] = typeInstance64, 0xC0
	p[4], p[5] = 12, 4 // type (opcode), level
	le.PutUint16(p[6:], 2)
	le.PutUint32(p[8:], 5)
	le.PutUint32(p[12:], 6)
	le.PutUint64(p[16:], 1000)
	copy(p[24:], g.Bytes())
	le.PutUint32(p[48:], 77)
	le.PutUint32(p[52:], 76)
	copy(p[56:], parent.Bytes())
	p = append(p, 1, 2, 3)
	var ev Event
	if msg := decodeRecord(&ev, p); msg != "" {
		t.Fatal(msg)
	}
	if ev.Kind != KindInstance || ev.Provider != g || ev.Opcode != 12 || ev.Level != 4 || ev.Version != 2 || ev.TID != 5 || ev.PID != 6 ||
		ev.InstanceID != 77 || ev.ParentInstanceID != 76 || ev.ParentGUID != parent || len(ev.UserData) != 3 || ev.PointerSize != 8 {
		t.Errorf("%+v", ev)
	}
}

// TestExtendedItemsBounds: extended data items that run past the record
// are an error.
func TestExtendedItemsBounds(t *testing.T) {
	le := binary.LittleEndian
	p := make([]byte, eventHeaderSize+8)
	le.PutUint16(p, uint16(len(p)))
	p[2], p[3] = typeEventHeader64, 0xC0
	le.PutUint16(p[4:], FlagExtendedInfo)
	le.PutUint16(p[eventHeaderSize+2:], ExtSID)
	le.PutUint16(p[eventHeaderSize+6:], 200) // data size beyond the record
	var ev Event
	if msg := decodeRecord(&ev, p); msg == "" {
		t.Error("no error for an extended item past the record")
	}
}
