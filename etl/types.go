package etl

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// GUID is a Windows GUID. It is stored in its canonical field order
// (Data1, Data2, Data3 as numbers, Data4 as bytes) so that String gives the
// usual text form regardless of how the GUID was laid out on disk.
type GUID struct {
	Data1 uint32
	Data2 uint16
	Data3 uint16
	Data4 [8]byte
}

// GUIDFromBytes decodes the 16-byte little-endian (Windows in-memory) layout of
// a GUID. b must hold at least 16 bytes.
func GUIDFromBytes(b []byte) GUID {
	var g GUID
	g.Data1 = binary.LittleEndian.Uint32(b[0:4])
	g.Data2 = binary.LittleEndian.Uint16(b[4:6])
	g.Data3 = binary.LittleEndian.Uint16(b[6:8])
	copy(g.Data4[:], b[8:16])
	return g
}

// Bytes returns the 16-byte little-endian (Windows in-memory) layout of g.
func (g GUID) Bytes() []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint32(b[0:4], g.Data1)
	binary.LittleEndian.PutUint16(b[4:6], g.Data2)
	binary.LittleEndian.PutUint16(b[6:8], g.Data3)
	copy(b[8:16], g.Data4[:])
	return b
}

// IsZero reports whether g is the all-zero GUID.
func (g GUID) IsZero() bool { return g == GUID{} }

// String returns the canonical lower-case form without braces,
// e.g. "50b3e73c-9370-461d-bb9f-26f32d68887d".
func (g GUID) String() string {
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x", g.Data1, g.Data2, g.Data3, g.Data4[:2], g.Data4[2:])
}

// ParseGUID parses a GUID in canonical text form, with or without braces,
// in any letter case.
func ParseGUID(s string) (GUID, error) {
	t := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "{"), "}")
	if len(t) != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-' {
		return GUID{}, fmt.Errorf("etl: invalid GUID %q", s)
	}
	raw, err := hex.DecodeString(t[0:8] + t[9:13] + t[14:18] + t[19:23] + t[24:36])
	if err != nil || len(raw) != 16 {
		return GUID{}, fmt.Errorf("etl: invalid GUID %q", s)
	}
	var g GUID
	g.Data1 = binary.BigEndian.Uint32(raw[0:4])
	g.Data2 = binary.BigEndian.Uint16(raw[4:6])
	g.Data3 = binary.BigEndian.Uint16(raw[6:8])
	copy(g.Data4[:], raw[8:16])
	return g, nil
}

// MustParseGUID is ParseGUID for constants; it panics on malformed input and
// must only be used with literal GUIDs.
func MustParseGUID(s string) GUID {
	g, err := ParseGUID(s)
	if err != nil {
		panic(err)
	}
	return g
}

// HeaderKind says which on-disk record header an event was stored with.
type HeaderKind uint8

// Record header kinds. The numbers are this package's own, not the on-disk
// TRACE_HEADER_TYPE values (see RawHeaderType for those).
const (
	KindUnknown     HeaderKind = iota
	KindSystem                 // SYSTEM_TRACE_HEADER (32 or 64 bit), kernel events
	KindCompact                // compact SYSTEM_TRACE_HEADER (no kernel/user times)
	KindPerfInfo               // PERFINFO_TRACE_HEADER (32 or 64 bit)
	KindFull                   // classic EVENT_TRACE_HEADER (FULL_HEADER), GUID or GuidPtr
	KindInstance               // EVENT_INSTANCE_HEADER
	KindEventHeader            // EVENT_HEADER (manifest, TraceLogging, ...)
	KindMessage                // WPP / TraceMessage record (MESSAGE header)
	KindError                  // ERROR header records
)

var kindNames = [...]string{"unknown", "system", "compact", "perfinfo", "full", "instance", "event", "message", "error"}

// String returns a short lower-case name for the header kind.
func (k HeaderKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// EVENT_HEADER flags (Event.Flags) as documented for EVENT_HEADER.Flags.
const (
	FlagExtendedInfo   = 0x0001
	FlagPrivateSession = 0x0002
	FlagStringOnly     = 0x0004
	FlagTraceMessage   = 0x0008
	FlagNoCPUTime      = 0x0010
	Flag32BitHeader    = 0x0020
	Flag64BitHeader    = 0x0040
	FlagDecodeGUID     = 0x0080
	FlagClassicHeader  = 0x0100
	FlagProcessorIndex = 0x0200
)

// Extended data item types (EVENT_HEADER_EXT_TYPE_*).
const (
	ExtRelatedActivityID = 0x0001
	ExtSID               = 0x0002
	ExtTSID              = 0x0003
	ExtInstanceInfo      = 0x0004
	ExtStackTrace32      = 0x0005
	ExtStackTrace64      = 0x0006
	ExtPEBSIndex         = 0x0007
	ExtPMCCounters       = 0x0008
	ExtPSMKey            = 0x0009
	ExtEventKey          = 0x000A
	ExtEventSchemaTL     = 0x000B // TraceLogging metadata
	ExtProvTraits        = 0x000C
	ExtProcessStartKey   = 0x000D
	ExtControlGUID       = 0x000E
	ExtQPCDelta          = 0x000F
	ExtContainerID       = 0x0010
	ExtStackKey32        = 0x0011
	ExtStackKey64        = 0x0012
)

// ExtendedItem is one EVENT_HEADER_EXTENDED_DATA_ITEM. Data aliases the
// reader's buffer and is only valid until the next event is read (see Event).
type ExtendedItem struct {
	Type uint16
	Data []byte
}

// Event is one record read from an ETL file, with the fields of all header
// kinds flattened into one struct. Fields a header kind does not carry are
// zero.
//
// Byte slices (UserData, Extended[i].Data) alias the reader's buffer: they are
// valid until the iteration moves on. Call Clone to keep an event.
type Event struct {
	Kind          HeaderKind
	RawHeaderType uint8 // on-disk TRACE_HEADER_TYPE_* value
	PointerSize   int   // 4 or 8: size of pointers in this record's payload

	Offset int64 // file offset of the record header; for compressed buffers the buffer's offset
	Buffer int   // index of the buffer the record came from (0-based, file order)
	CPU    uint16

	Timestamp int64     // raw timestamp as stored (QPC, system time or CPU cycles; see Header.ClockType)
	Time      time.Time // absolute UTC time, 100 ns precision

	Provider GUID // provider GUID; for kernel SYSTEM/PERFINFO records the kernel group GUID

	// EVENT_DESCRIPTOR (EVENT_HEADER records). For classic records Opcode
	// holds the event type, Version the class version and Level the level.
	ID       uint16
	Version  uint8
	Channel  uint8
	Level    uint8
	Opcode   uint8
	Task     uint16
	Keywords uint64

	HookID uint16 // SYSTEM/PERFINFO hook id (group << 8 | type)

	Flags         uint16 // EVENT_HEADER.Flags (Flag*), synthesised for other kinds where meaningful
	EventProperty uint16 // EVENT_HEADER.EventProperty (EVENT_HEADER_PROPERTY_*)

	PID uint32 // 0xFFFFFFFF when the record does not say
	TID uint32

	KernelTime uint32
	UserTime   uint32

	ActivityID        GUID
	RelatedActivityID GUID

	// WPP / TraceMessage records.
	MessageGUID   GUID   // message GUID (or component id), when present
	MessageNumber uint16 // message number within the TMF
	MessageFlags  uint16 // TRACE_MESSAGE_* flags

	// Instance records.
	InstanceID       uint32
	ParentInstanceID uint32
	ParentGUID       GUID

	Extended []ExtendedItem
	UserData []byte
}

// Clone returns a deep copy of e whose slices no longer alias the reader's
// buffers.
func (e *Event) Clone() *Event {
	c := *e
	if e.UserData != nil {
		c.UserData = append([]byte(nil), e.UserData...)
	}
	if e.Extended != nil {
		c.Extended = make([]ExtendedItem, len(e.Extended))
		for i, x := range e.Extended {
			c.Extended[i] = ExtendedItem{Type: x.Type, Data: append([]byte(nil), x.Data...)}
		}
	}
	return &c
}

// Ext returns the data of the first extended item of type t, if any.
func (e *Event) Ext(t uint16) ([]byte, bool) {
	for _, x := range e.Extended {
		if x.Type == t {
			return x.Data, true
		}
	}
	return nil, false
}

// FormatError reports a malformed ETL file, with the byte offset where the
// problem was found.
type FormatError struct {
	Off int64  // absolute file offset
	Msg string // what is wrong
	Val any    // the offending value, if any
}

func (e *FormatError) Error() string {
	msg := "etl: " + e.Msg
	if e.Val != nil {
		msg += fmt.Sprintf(" '%v'", e.Val)
	}
	return msg + fmt.Sprintf(" at offset %#x", e.Off)
}

// ProviderCounts counts events by provider. Events come in runs from
// one provider, so a run costs an integer increment per event and one
// map update, not a map update per event.
type ProviderCounts struct {
	m    map[GUID]int
	last GUID
	run  int
}

// Add counts one event of provider g.
func (c *ProviderCounts) Add(g GUID) {
	if c.run > 0 && g == c.last {
		c.run++
		return
	}
	c.flush()
	c.last, c.run = g, 1
}

func (c *ProviderCounts) flush() {
	if c.run == 0 {
		return
	}
	if c.m == nil {
		c.m = map[GUID]int{}
	}
	c.m[c.last] += c.run
	c.run = 0
}

// Map returns the counts so far (never nil).
func (c *ProviderCounts) Map() map[GUID]int {
	c.flush()
	if c.m == nil {
		c.m = map[GUID]int{}
	}
	return c.m
}
