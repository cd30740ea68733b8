package etl

import (
	"encoding/binary"
	"time"
	"unicode/utf16"
)

// Clock types (TRACE_LOGFILE_HEADER.ReservedFlags, WNODE_HEADER.ClientContext):
// how raw record timestamps are measured.
const (
	ClockQPC       = 1 // QueryPerformanceCounter ticks at PerfFreq Hz
	ClockSystem    = 2 // system time: FILETIME, 100 ns since 1601
	ClockCPUCycles = 3 // CPU cycle counter at CPUSpeedMHz
)

// Log file modes (TRACE_LOGFILE_HEADER.LogFileMode) worth naming.
const (
	ModeFileSequential = 0x00000001
	ModeFileCircular   = 0x00000002
	ModeRealTime       = 0x00000100
	ModeRelog          = 0x00010000
	ModeCompressed     = 0x04000000
)

// Header is the trace-wide information of the logfile header record
// (TRACE_LOGFILE_HEADER) found in the first buffer of every ETL file.
type Header struct {
	BufferSize         uint32 // logger buffer size in bytes
	OSMajor, OSMinor   uint8  // Windows version that wrote the trace
	OSSubVersion       uint8
	OSSubMinorVersion  uint8
	OSBuild            uint32 // ProviderVersion: the Windows build number
	NumberOfProcessors uint32
	EndTime            time.Time
	TimerResolution    uint32 // in 100 ns units
	MaximumFileSize    uint32 // in MB
	LogFileMode        uint32 // EVENT_TRACE_* mode flags (Mode*)
	BuffersWritten     uint32
	StartBuffers       uint32
	PointerSize        int // 4 or 8: the writer's pointer size
	EventsLost         uint32
	CPUSpeedMHz        uint32
	LoggerName         string
	LogFileName        string

	TimeZoneBias         int32 // minutes; UTC = local time + bias
	TimeZoneStandardName string
	TimeZoneDaylightName string

	BootTime    time.Time
	PerfFreq    int64 // QPC frequency in Hz
	StartTime   time.Time
	ClockType   uint32 // Clock* (ReservedFlags)
	BuffersLost uint32

	// StartTimestamp is the raw timestamp of the logfile header record,
	// taken to be the clock value at StartTime.
	StartTimestamp int64
}

// filetimeEpochDelta is the number of 100 ns intervals between 1601-01-01
// and 1970-01-01.
const filetimeEpochDelta = 116444736000000000

// FileTime converts a Windows FILETIME (100 ns since 1601, UTC) to a time.
// Zero converts to the zero time.
func FileTime(ft int64) time.Time {
	if ft == 0 {
		return time.Time{}
	}
	d := ft - filetimeEpochDelta
	return time.Unix(d/1e7, (d%1e7)*100).UTC()
}

// logfile header offsets (relative to the start of TRACE_LOGFILE_HEADER).
const (
	lfBufferSize      = 0x00
	lfVersion         = 0x04
	lfProviderVersion = 0x08
	lfNumProcessors   = 0x0C
	lfEndTime         = 0x10
	lfTimerResolution = 0x18
	lfMaximumFileSize = 0x1C
	lfLogFileMode     = 0x20
	lfBuffersWritten  = 0x24
	lfStartBuffers    = 0x28
	lfPointerSize     = 0x2C
	lfEventsLost      = 0x30
	lfCPUSpeed        = 0x34
	lfNames           = 0x38 // LoggerName and LogFileName pointers
	tzSize            = 172
	maxNameChars      = 1024
)

// parseLogfileHeader decodes TRACE_LOGFILE_HEADER from the payload of the
// logfile header record. off is the payload's file offset, for errors.
func parseLogfileHeader(p []byte, off int64) (Header, error) {
	var h Header
	le := binary.LittleEndian
	if len(p) < lfNames {
		return h, &FormatError{Off: off, Msg: "logfile header record too short", Val: len(p)}
	}
	h.BufferSize = le.Uint32(p[lfBufferSize:])
	h.OSMajor, h.OSMinor, h.OSSubVersion, h.OSSubMinorVersion = p[lfVersion], p[lfVersion+1], p[lfVersion+2], p[lfVersion+3]
	h.OSBuild = le.Uint32(p[lfProviderVersion:])
	h.NumberOfProcessors = le.Uint32(p[lfNumProcessors:])
	h.EndTime = validTime(FileTime(int64(le.Uint64(p[lfEndTime:]))))
	h.TimerResolution = le.Uint32(p[lfTimerResolution:])
	h.MaximumFileSize = le.Uint32(p[lfMaximumFileSize:])
	h.LogFileMode = le.Uint32(p[lfLogFileMode:])
	h.BuffersWritten = le.Uint32(p[lfBuffersWritten:])
	h.StartBuffers = le.Uint32(p[lfStartBuffers:])
	ps := le.Uint32(p[lfPointerSize:])
	if ps != 4 && ps != 8 {
		return h, &FormatError{Off: off + lfPointerSize, Msg: "logfile header has an invalid pointer size", Val: ps}
	}
	h.PointerSize = int(ps)
	h.EventsLost = le.Uint32(p[lfEventsLost:])
	h.CPUSpeedMHz = le.Uint32(p[lfCPUSpeed:])

	tz := lfNames + 2*h.PointerSize
	rest := (tz + tzSize + 7) &^ 7
	if len(p) < rest+32 {
		return h, &FormatError{Off: off, Msg: "logfile header record too short for its time zone and clock fields", Val: len(p)}
	}
	h.TimeZoneBias = int32(le.Uint32(p[tz:]))
	h.TimeZoneStandardName = utf16Fixed(p[tz+4 : tz+4+64])
	h.TimeZoneDaylightName = utf16Fixed(p[tz+88 : tz+88+64])
	h.BootTime = validTime(FileTime(int64(le.Uint64(p[rest:]))))
	h.PerfFreq = int64(le.Uint64(p[rest+8:]))
	h.StartTime = validTime(FileTime(int64(le.Uint64(p[rest+16:]))))
	h.ClockType = le.Uint32(p[rest+24:])
	h.BuffersLost = le.Uint32(p[rest+28:])
	names := p[rest+32:]
	var n int
	h.LoggerName, n = utf16Z(names)
	h.LogFileName, _ = utf16Z(names[n:])
	return h, nil
}

// utf16Fixed decodes a fixed-size, NUL-padded UTF-16LE field.
func utf16Fixed(b []byte) string {
	s, _ := utf16Z(b)
	return s
}

// utf16Z decodes a NUL-terminated UTF-16LE string of at most maxNameChars
// characters from b and returns it with the number of bytes consumed
// (including the terminator when present).
func utf16Z(b []byte) (string, int) {
	var u []uint16
	i := 0
	for ; i+1 < len(b) && len(u) < maxNameChars; i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			return string(utf16.Decode(u)), i + 2
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u)), i
}

// clock converts raw record timestamps to absolute time.
type clock struct {
	kind  uint32
	freq  int64 // ticks per second for QPC and CPU cycles
	base  int64 // raw value at start
	start int64 // start as 100 ns since the Unix epoch
}

func newClock(h *Header) clock {
	c := clock{kind: h.ClockType, base: h.StartTimestamp}
	if !h.StartTime.IsZero() {
		c.start = h.StartTime.Unix()*1e7 + int64(h.StartTime.Nanosecond()/100)
	}
	switch h.ClockType {
	case ClockCPUCycles:
		c.freq = int64(h.CPUSpeedMHz) * 1e6
	case ClockSystem:
	default:
		c.freq = h.PerfFreq
	}
	if c.kind != ClockSystem && c.freq <= 0 {
		// No usable frequency: fall back to the start time for every event
		// rather than invent a scale.
		c.freq = 0
	}
	return c
}

// time converts a raw timestamp.
func (c *clock) time(raw int64) time.Time {
	var t100 int64 // 100 ns since the Unix epoch
	if c.kind == ClockSystem {
		if raw == 0 {
			return time.Time{}
		}
		t100 = raw - filetimeEpochDelta
	} else if c.freq > 0 {
		d := raw - c.base
		t100 = c.start + (d/c.freq)*1e7 + (d%c.freq)*1e7/c.freq
	} else {
		t100 = c.start
	}
	// The range validTime keeps, as 100 ns units since the Unix epoch:
	// an integer test per event instead of computing the year.
	if t100 < minTime100 || t100 >= maxTime100 {
		return time.Time{}
	}
	return time.Unix(t100/1e7, (t100%1e7)*100).UTC()
}

// minTime100 and maxTime100 bound the times validTime keeps
// (1601-01-01, 10000-01-01 UTC) in 100 ns units since the Unix epoch.
const (
	minTime100 = -11644473600 * 1e7
	maxTime100 = 253402300800 * 1e7
)

// validTime returns t, or the zero time (unknown) when t lies outside the
// years 1601-9999: no ETW writer stamps a trace or an event so (FILETIME
// starts in 1601; a damaged header or timestamp does), and RFC 3339, the
// form of every time etlscope writes as JSON, has four digits for the
// year.
func validTime(t time.Time) time.Time {
	if y := t.Year(); y < 1601 || y > 9999 {
		return time.Time{}
	}
	return t
}
