package etl

import (
	"encoding/binary"
)

// On-disk record header types (TRACE_HEADER_TYPE_*, byte 2 of every record).
const (
	typeSystem32      = 0x01
	typeSystem64      = 0x02
	typeCompact32     = 0x03
	typeCompact64     = 0x04
	typeFull32        = 0x0A
	typeInstance32    = 0x0B
	typeTimed         = 0x0C
	typeError         = 0x0D
	typeWnode         = 0x0E
	typeMessage       = 0x0F
	typePerfInfo32    = 0x10
	typePerfInfo64    = 0x11
	typeEventHeader32 = 0x12
	typeEventHeader64 = 0x13
	typeFull64        = 0x14
	typeInstance64    = 0x15
)

// Record header sizes.
const (
	systemHeaderSize   = 32
	compactHeaderSize  = 24
	perfInfoHeaderSize = 16
	fullHeaderSize     = 48
	instanceHeaderSize = 72 // EVENT_INSTANCE_GUID_HEADER
	eventHeaderSize    = 80
	messageHeaderSize  = 8
	extItemHeaderSize  = 8
)

// TRACE_MESSAGE_* option flags of MESSAGE records.
const (
	msgSequence    = 0x0001
	msgGUID        = 0x0002
	msgComponentID = 0x0004
	msgTimestamp   = 0x0008
	msgPerfTime    = 0x0010
	msgSystemInfo  = 0x0020
)

// maxExtended bounds the number of extended data items kept per event.
const maxExtended = 64

// noID is the PID/TID of records that do not carry one.
const noID = 0xFFFFFFFF

// recordSize returns the size of the record starting at p (header included,
// not yet aligned) and whether p starts with a plausible record marker.
func recordSize(p []byte) (int, bool) {
	if len(p) < 8 {
		return 0, false
	}
	le := binary.LittleEndian
	typ, marker := p[2], p[3]
	switch typ {
	case typeSystem32, typeSystem64, typeCompact32, typeCompact64, typePerfInfo32, typePerfInfo64:
		if marker&0xC0 != 0xC0 {
			return 0, false
		}
		return int(le.Uint16(p[4:])), true
	case typeFull32, typeFull64, typeInstance32, typeInstance64, typeEventHeader32, typeEventHeader64,
		typeError, typeTimed, typeWnode:
		if marker&0xC0 != 0xC0 {
			return 0, false
		}
		return int(le.Uint16(p[0:])), true
	case typeMessage:
		if marker&0x80 == 0 {
			return 0, false
		}
		return int(le.Uint16(p[0:])), true
	}
	return 0, false
}

// minHeader returns the smallest valid size for a record of type typ.
func minHeader(typ byte) int {
	switch typ {
	case typeSystem32, typeSystem64:
		return systemHeaderSize
	case typeCompact32, typeCompact64:
		return compactHeaderSize
	case typePerfInfo32, typePerfInfo64:
		return perfInfoHeaderSize
	case typeFull32, typeFull64:
		return fullHeaderSize
	case typeInstance32, typeInstance64:
		return instanceHeaderSize
	case typeEventHeader32, typeEventHeader64:
		return eventHeaderSize
	case typeMessage:
		return messageHeaderSize
	}
	return 8
}

// decodeRecord fills ev from the record p (exactly the record's bytes,
// header included). ev's slices are reused. It returns an error message
// when the record is inconsistent; ev is then unusable.
func decodeRecord(ev *Event, p []byte) string {
	le := binary.LittleEndian
	typ := p[2]
	ext := ev.Extended[:0]
	*ev = Event{RawHeaderType: typ, PID: noID, TID: noID}
	ev.Extended = ext[:0]
	if len(p) < minHeader(typ) {
		return "record shorter than its header"
	}
	switch typ {
	case typeSystem32, typeSystem64, typeCompact32, typeCompact64:
		ev.Kind = KindSystem
		ev.PointerSize = ptrSize(typ == typeSystem64 || typ == typeCompact64)
		ev.Version = uint8(le.Uint16(p[0:]))
		ev.HookID = le.Uint16(p[6:])
		ev.TID = le.Uint32(p[8:])
		ev.PID = le.Uint32(p[12:])
		ev.Timestamp = int64(le.Uint64(p[16:]))
		hdr := systemHeaderSize
		if typ == typeCompact32 || typ == typeCompact64 {
			ev.Kind = KindCompact
			hdr = compactHeaderSize
		} else {
			ev.KernelTime = le.Uint32(p[24:])
			ev.UserTime = le.Uint32(p[28:])
		}
		setKernelIdentity(ev)
		ev.UserData = p[hdr:]
	case typePerfInfo32, typePerfInfo64:
		ev.Kind = KindPerfInfo
		ev.PointerSize = ptrSize(typ == typePerfInfo64)
		ev.Version = uint8(le.Uint16(p[0:]))
		ev.HookID = le.Uint16(p[6:])
		ev.Timestamp = int64(le.Uint64(p[8:]))
		setKernelIdentity(ev)
		ev.UserData = p[perfInfoHeaderSize:]
	case typeFull32, typeFull64:
		ev.Kind = KindFull
		ev.PointerSize = ptrSize(typ == typeFull64)
		classicHeader(ev, p)
		ev.UserData = p[fullHeaderSize:]
	case typeInstance32, typeInstance64:
		ev.Kind = KindInstance
		ev.PointerSize = ptrSize(typ == typeInstance64)
		classicHeader(ev, p)
		ev.InstanceID = le.Uint32(p[48:])
		ev.ParentInstanceID = le.Uint32(p[52:])
		ev.ParentGUID = GUIDFromBytes(p[56:72])
		ev.UserData = p[instanceHeaderSize:]
	case typeEventHeader32, typeEventHeader64:
		ev.Kind = KindEventHeader
		ev.PointerSize = ptrSize(typ == typeEventHeader64)
		ev.Flags = le.Uint16(p[4:])
		ev.EventProperty = le.Uint16(p[6:])
		ev.TID = le.Uint32(p[8:])
		ev.PID = le.Uint32(p[12:])
		ev.Timestamp = int64(le.Uint64(p[16:]))
		ev.Provider = GUIDFromBytes(p[24:40])
		ev.ID = le.Uint16(p[40:])
		ev.Version, ev.Channel, ev.Level, ev.Opcode = p[42], p[43], p[44], p[45]
		ev.Task = le.Uint16(p[46:])
		ev.Keywords = le.Uint64(p[48:])
		ev.KernelTime = le.Uint32(p[56:])
		ev.UserTime = le.Uint32(p[60:])
		ev.ActivityID = GUIDFromBytes(p[64:80])
		rest := p[eventHeaderSize:]
		if ev.Flags&FlagExtendedInfo != 0 {
			for {
				if len(rest) < extItemHeaderSize {
					return "extended data item header runs past the record"
				}
				xtype := le.Uint16(rest[2:])
				link := le.Uint16(rest[4:])
				dsize := int(le.Uint16(rest[6:]))
				if extItemHeaderSize+dsize > len(rest) {
					return "extended data item runs past the record"
				}
				if len(ev.Extended) < maxExtended {
					ev.Extended = append(ev.Extended, ExtendedItem{Type: xtype, Data: rest[extItemHeaderSize : extItemHeaderSize+dsize]})
				}
				if xtype == ExtRelatedActivityID && dsize >= 16 {
					ev.RelatedActivityID = GUIDFromBytes(rest[extItemHeaderSize:])
				}
				n := (extItemHeaderSize + dsize + 7) &^ 7
				if n > len(rest) {
					n = len(rest)
				}
				rest = rest[n:]
				if link&1 == 0 {
					break
				}
			}
		}
		ev.UserData = rest
	case typeMessage:
		ev.Kind = KindMessage
		ev.PointerSize = 0 // the writer's; filled in by the caller
		ev.MessageNumber = le.Uint16(p[4:])
		ev.MessageFlags = le.Uint16(p[6:])
		ev.ID = ev.MessageNumber
		rest := p[messageHeaderSize:]
		need := func(n int) bool { return len(rest) >= n }
		if ev.MessageFlags&msgSequence != 0 {
			if !need(4) {
				return "message record too short for its sequence number"
			}
			rest = rest[4:]
		}
		if ev.MessageFlags&msgGUID != 0 {
			if !need(16) {
				return "message record too short for its GUID"
			}
			ev.MessageGUID = GUIDFromBytes(rest)
			ev.Provider = ev.MessageGUID
			rest = rest[16:]
		} else if ev.MessageFlags&msgComponentID != 0 {
			if !need(4) {
				return "message record too short for its component id"
			}
			ev.MessageGUID = GUID{Data1: le.Uint32(rest)}
			ev.Provider = ev.MessageGUID
			rest = rest[4:]
		}
		if ev.MessageFlags&(msgTimestamp|msgPerfTime) != 0 {
			if !need(8) {
				return "message record too short for its timestamp"
			}
			ev.Timestamp = int64(le.Uint64(rest))
			rest = rest[8:]
		}
		if ev.MessageFlags&msgSystemInfo != 0 {
			if !need(8) {
				return "message record too short for its thread and process id"
			}
			ev.TID = le.Uint32(rest)
			ev.PID = le.Uint32(rest[4:])
			rest = rest[8:]
		}
		ev.Flags = FlagTraceMessage
		ev.UserData = rest
	case typeError:
		ev.Kind = KindError
		ev.UserData = p[8:]
	default:
		ev.Kind = KindUnknown
		ev.UserData = p[8:]
	}
	return ""
}

// classicHeader decodes the EVENT_TRACE_HEADER fields that FULL_HEADER
// and INSTANCE records share (the first 48 bytes).
func classicHeader(ev *Event, p []byte) {
	le := binary.LittleEndian
	ev.Flags = FlagClassicHeader
	ev.Opcode, ev.Level = p[4], p[5]
	ev.Version = uint8(le.Uint16(p[6:]))
	ev.TID = le.Uint32(p[8:])
	ev.PID = le.Uint32(p[12:])
	ev.Timestamp = int64(le.Uint64(p[16:]))
	ev.Provider = GUIDFromBytes(p[24:40])
	ev.KernelTime = le.Uint32(p[40:])
	ev.UserTime = le.Uint32(p[44:])
}

func ptrSize(is64 bool) int {
	if is64 {
		return 8
	}
	return 4
}

// setKernelIdentity derives the provider GUID and event fields of a kernel
// (SYSTEM/PERFINFO) record from its hook id.
func setKernelIdentity(ev *Event) {
	group := ev.HookID >> 8
	ev.Opcode = uint8(ev.HookID)
	ev.Provider = KernelGroupGUID(uint8(group))
	if ev.HookID == hookImageLoadLegacy {
		ev.Provider = kernelGroups[0x14]
	}
}

// hookImageLoadLegacy is the image load event logged in the process group
// (EVENT_TRACE_GROUP_PROCESS | EVENT_TRACE_TYPE_LOAD): it belongs to the
// Image class, as the counts of the real samples confirm.
const hookImageLoadLegacy = 0x030A
