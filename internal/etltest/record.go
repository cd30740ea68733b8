package etltest

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/etlscope/etlscope/etl"
)

// On-disk TRACE_HEADER_TYPE_* values.
const (
	HeaderSystem32      = 0x01
	HeaderSystem64      = 0x02
	HeaderCompact32     = 0x03
	HeaderCompact64     = 0x04
	HeaderFull32        = 0x0A
	HeaderPerfInfo32    = 0x10
	HeaderPerfInfo64    = 0x11
	HeaderEventHeader32 = 0x12
	HeaderEventHeader64 = 0x13
	HeaderFull64        = 0x14

	// MarkerFlags is TRACE_HEADER_FLAG | TRACE_HEADER_EVENT_TRACE, the value
	// every record in the sample files carries.
	MarkerFlags = 0xC0
)

// Record header sizes.
const (
	EventHeaderSize   = 80
	ClassicHeaderSize = 48
	SystemHeaderSize  = 32
	CompactHeaderSize = 24
	PerfInfoSize      = 16
	BufferHeaderSize  = 72
	extItemHeaderSize = 8
)

// EventTraceGUID is the provider of the logfile header record.
var EventTraceGUID = etl.MustParseGUID("68fdd900-4a3e-11d1-84f4-0000f80464e3")

// Event is one EVENT_HEADER record (manifest-based, TraceLogging or
// EventSource events). Fields map one to one onto EVENT_HEADER and its
// EVENT_DESCRIPTOR.
type Event struct {
	Provider etl.GUID
	ID       uint16
	Version  uint8
	Channel  uint8
	Level    uint8
	Opcode   uint8
	Task     uint16
	Keywords uint64

	PID, TID uint32
	CPU      int       // per-CPU buffer the record goes to (0..CPUs-1)
	Time     time.Time // zero means Options.Start

	// Flags is stored as given, except that FlagExtendedInfo is set
	// whenever Extended is not empty. (Real files store 0 or 0x1 here; the
	// 32/64-bit flags are implied by the record type.)
	Flags         uint16
	EventProperty uint16

	// PointerSize selects EVENT_HEADER32 (4) or EVENT_HEADER64 (8) for this
	// record; 0 means the file's pointer size. It should match how the
	// payload was built.
	PointerSize int

	KernelTime, UserTime uint32
	ActivityID           etl.GUID
	Extended             []etl.ExtendedItem
	UserData             []byte
}

// ClassicEvent is one classic (MOF-era) EVENT_TRACE_HEADER record with the
// provider GUID inline (FULL_HEADER).
type ClassicEvent struct {
	Provider etl.GUID
	Type     uint8  // event type (opcode)
	Level    uint8  // level
	Version  uint16 // class version

	PID, TID    uint32
	CPU         int
	Time        time.Time
	PointerSize int // 0: the file's

	KernelTime, UserTime uint32
	UserData             []byte
}

// SystemKind selects the kernel record header.
type SystemKind uint8

// Kernel record header flavours.
const (
	SystemFull     SystemKind = iota // SYSTEM_TRACE_HEADER, 32 bytes
	SystemCompact                    // compact SYSTEM_TRACE_HEADER, 24 bytes
	SystemPerfInfo                   // PERFINFO_TRACE_HEADER, 16 bytes
)

// SystemEvent is one kernel-logger record (NT Kernel Logger style): the
// group/type hook id identifies the event, the provider is implied by the
// group.
type SystemEvent struct {
	Kind    SystemKind
	HookID  uint16 // group<<8 | type, e.g. 0x0301 process start
	Version uint16 // header version; 0 means 2 as in all samples

	PID, TID    uint32 // not stored by SystemPerfInfo
	CPU         int
	Time        time.Time
	PointerSize int // 0: the file's

	KernelTime, UserTime uint32 // only SystemFull stores them
	UserData             []byte
}

// Kernel hook ids used by helpers.
const (
	HookProcessStart   = 0x0301 // EVENT_TRACE_GROUP_PROCESS | EVENT_TRACE_TYPE_START
	HookProcessDCStart = 0x0303 // ... | EVENT_TRACE_TYPE_DC_START
)

// record is an encoded record ready to be placed in a buffer.
type record struct {
	cpu  int
	raw  int64
	when time.Time
	data []byte // record bytes, not padded
}

func align8(n int) int { return (n + 7) &^ 7 }

func pickPointer(p, def int) int {
	if p == 4 || p == 8 {
		return p
	}
	return def
}

const maxRecord = 0xFFFF // record sizes are uint16

func checkCPU(cpu, cpus int) error {
	if cpu < 0 || cpu >= cpus {
		return fmt.Errorf("etltest: CPU %d out of range 0..%d", cpu, cpus-1)
	}
	return nil
}

// encodeEvent appends the EVENT_HEADER record for ev to dst.
func encodeEvent(dst []byte, ev *Event, raw int64, defPtr int) ([]byte, error) {
	size := EventHeaderSize + len(ev.UserData)
	for _, x := range ev.Extended {
		size += align8(extItemHeaderSize + len(x.Data))
	}
	if size > maxRecord {
		return dst, fmt.Errorf("etltest: event %d of %v is %d bytes, more than a record can hold", ev.ID, ev.Provider, size)
	}
	typ := byte(HeaderEventHeader64)
	if pickPointer(ev.PointerSize, defPtr) == 4 {
		typ = HeaderEventHeader32
	}
	flags := ev.Flags
	if len(ev.Extended) > 0 {
		flags |= etl.FlagExtendedInfo
	}
	le := binary.LittleEndian
	dst = le.AppendUint16(dst, uint16(size))
	dst = append(dst, typ, MarkerFlags)
	dst = le.AppendUint16(dst, flags)
	dst = le.AppendUint16(dst, ev.EventProperty)
	dst = le.AppendUint32(dst, ev.TID)
	dst = le.AppendUint32(dst, ev.PID)
	dst = le.AppendUint64(dst, uint64(raw))
	dst = append(dst, ev.Provider.Bytes()...)
	dst = le.AppendUint16(dst, ev.ID)
	dst = append(dst, ev.Version, ev.Channel, ev.Level, ev.Opcode)
	dst = le.AppendUint16(dst, ev.Task)
	dst = le.AppendUint64(dst, ev.Keywords)
	dst = le.AppendUint32(dst, ev.KernelTime)
	dst = le.AppendUint32(dst, ev.UserTime)
	dst = append(dst, ev.ActivityID.Bytes()...)
	for i, x := range ev.Extended {
		n := align8(extItemHeaderSize + len(x.Data))
		var link uint16
		if i < len(ev.Extended)-1 {
			link = 1
		}
		dst = le.AppendUint16(dst, uint16(n))
		dst = le.AppendUint16(dst, x.Type)
		dst = le.AppendUint16(dst, link)
		dst = le.AppendUint16(dst, uint16(len(x.Data)))
		dst = append(dst, x.Data...)
		for pad := n - extItemHeaderSize - len(x.Data); pad > 0; pad-- {
			dst = append(dst, 0)
		}
	}
	return append(dst, ev.UserData...), nil
}

// encodeClassic appends the FULL_HEADER record for ev to dst.
func encodeClassic(dst []byte, ev *ClassicEvent, raw int64, defPtr int) ([]byte, error) {
	size := ClassicHeaderSize + len(ev.UserData)
	if size > maxRecord {
		return dst, fmt.Errorf("etltest: classic event of %v is %d bytes, more than a record can hold", ev.Provider, size)
	}
	typ := byte(HeaderFull64)
	if pickPointer(ev.PointerSize, defPtr) == 4 {
		typ = HeaderFull32
	}
	le := binary.LittleEndian
	dst = le.AppendUint16(dst, uint16(size))
	dst = append(dst, typ, MarkerFlags)
	dst = append(dst, ev.Type, ev.Level)
	dst = le.AppendUint16(dst, ev.Version)
	dst = le.AppendUint32(dst, ev.TID)
	dst = le.AppendUint32(dst, ev.PID)
	dst = le.AppendUint64(dst, uint64(raw))
	dst = append(dst, ev.Provider.Bytes()...)
	dst = le.AppendUint32(dst, ev.KernelTime)
	dst = le.AppendUint32(dst, ev.UserTime)
	return append(dst, ev.UserData...), nil
}

// encodeSystem appends the kernel record for ev to dst.
func encodeSystem(dst []byte, ev *SystemEvent, raw int64, defPtr int) ([]byte, error) {
	hdr := SystemHeaderSize
	switch ev.Kind {
	case SystemCompact:
		hdr = CompactHeaderSize
	case SystemPerfInfo:
		hdr = PerfInfoSize
	case SystemFull:
	default:
		return dst, fmt.Errorf("etltest: unknown system record kind %d", ev.Kind)
	}
	size := hdr + len(ev.UserData)
	if size > maxRecord {
		return dst, fmt.Errorf("etltest: system event %#04x is %d bytes, more than a record can hold", ev.HookID, size)
	}
	p64 := pickPointer(ev.PointerSize, defPtr) == 8
	var typ byte
	switch ev.Kind {
	case SystemFull:
		typ = HeaderSystem32
		if p64 {
			typ = HeaderSystem64
		}
	case SystemCompact:
		typ = HeaderCompact32
		if p64 {
			typ = HeaderCompact64
		}
	case SystemPerfInfo:
		typ = HeaderPerfInfo32
		if p64 {
			typ = HeaderPerfInfo64
		}
	}
	ver := ev.Version
	if ver == 0 {
		ver = 2
	}
	le := binary.LittleEndian
	dst = le.AppendUint16(dst, ver)
	dst = append(dst, typ, MarkerFlags)
	dst = le.AppendUint16(dst, uint16(size))
	dst = le.AppendUint16(dst, ev.HookID)
	if ev.Kind != SystemPerfInfo {
		dst = le.AppendUint32(dst, ev.TID)
		dst = le.AppendUint32(dst, ev.PID)
	}
	dst = le.AppendUint64(dst, uint64(raw))
	if ev.Kind == SystemFull {
		dst = le.AppendUint32(dst, ev.KernelTime)
		dst = le.AppendUint32(dst, ev.UserTime)
	}
	return append(dst, ev.UserData...), nil
}
