package etltest

import (
	"errors"
	"fmt"
	"time"
)

// ClockType is the TRACE_LOGFILE_HEADER.ReservedFlags value that says what
// the raw timestamps count.
type ClockType uint32

// Clock types.
const (
	ClockQPC        ClockType = 1 // QueryPerformanceCounter ticks at PerfFreq Hz (the default)
	ClockSystemTime ClockType = 2 // FILETIME, 100 ns units
	ClockCPUCycle   ClockType = 3 // CPU cycles at CPUSpeedMHz
)

func (c ClockType) String() string {
	switch c {
	case ClockQPC:
		return "qpc"
	case ClockSystemTime:
		return "systemtime"
	case ClockCPUCycle:
		return "cpucycle"
	}
	return fmt.Sprintf("clock(%d)", uint32(c))
}

// LogFileMode bits (EVENT_TRACE_* in evntrace.h) the writer uses.
const (
	ModeFileSequential = 0x00000001 // EVENT_TRACE_FILE_MODE_SEQUENTIAL
	ModeFileCircular   = 0x00000002 // EVENT_TRACE_FILE_MODE_CIRCULAR
	ModeRelog          = 0x00010000 // EVENT_TRACE_RELOG_MODE
	ModeCompressed     = 0x04000000 // EVENT_TRACE_COMPRESSED_MODE
)

// Defaults for zero Options fields.
const (
	DefaultBuild      = 17763 // Windows 10 1809 / Server 2019
	DefaultCPUs       = 2
	DefaultBufferSize = 64 << 10
	DefaultPerfFreq   = 10_000_000
	DefaultCPUSpeed   = 2400
	DefaultLoggerID   = 0x21
	DefaultLoggerName = "NetTrace"
	DefaultLogFile    = `C:\Users\Administrator\AppData\Local\Temp\NetTraces\NetTrace.etl`
	DefaultTimeZone   = "Coordinated Universal Time"
	// DefaultUptime is how long the machine had been up at Start: it fixes
	// BootTime and the raw clock value at Start.
	DefaultUptime = 2 * time.Hour
)

// DefaultStart is the trace start time used when Options.Start is zero.
var DefaultStart = time.Date(2024, time.March, 12, 9, 30, 0, 0, time.UTC)

// Options describes the trace session a file pretends to come from. Zero
// fields take the documented defaults.
type Options struct {
	PointerSize int // 4 or 8 (default 8): TRACE_LOGFILE_HEADER.PointerSize and the default record flavour

	// OS version in the logfile header. Zero OSMajor/OSMinor are derived from
	// Build (7600/7601 → 6.1, 9200 → 6.2, 9600 → 6.3, ≥10240 → 10.0).
	OSMajor, OSMinor uint8
	Build            uint32 // ProviderVersion = OS build number (default 17763)

	CPUs       int    // NumberOfProcessors and the number of per-CPU buffers (default 2)
	BufferSize uint32 // logger buffer size (default 64 KiB; at least 1 KiB, multiple of 8)

	Start       time.Time // StartTime (default DefaultStart)
	End         time.Time // EndTime; zero means the time of the last event (or Start)
	Uptime      time.Duration
	ClockType   ClockType // default ClockQPC
	PerfFreq    int64     // QPC frequency in Hz (default 10 MHz)
	CPUSpeedMHz uint32    // CpuSpeedInMHz (default 2400); the tick rate for ClockCPUCycle

	// Compress writes MS-XCA compressed buffers, in the style of the
	// compressed (relogged) sample files.
	Compress bool

	LoggerName   string // default "NetTrace"
	LogFileName  string // default DefaultLogFile
	TimeZoneBias int32  // minutes, UTC = local time + bias
	TimeZoneName string // StandardName and DaylightName (default "Coordinated Universal Time")

	LogFileMode     uint32 // default ModeFileSequential (ModeFileCircular with RingBuffers; plus ModeRelog|ModeCompressed with Compress)
	MaximumFileSize uint32 // in MB, as netsh's maxsize

	// RingBuffers > 0 writes a circular file (EVENT_TRACE_FILE_MODE_CIRCULAR,
	// what `netsh trace start` uses unless filemode=single): the header
	// buffer stays first and the data buffers go to a ring of RingBuffers
	// slots after it. Once the ring is full the next buffer overwrites the
	// oldest slot, so the file holds the newest RingBuffers buffers with the
	// write position somewhere in the middle: file order is no longer time
	// order. BuffersWritten counts every buffer written, overwritten ones
	// included (as tracelog's "Buffers Written" does). Not with Compress;
	// a Stream needs an io.WriterAt destination.
	RingBuffers int
	EventsLost  uint32
	BuffersLost uint32
	LoggerID    uint16 // ETW_BUFFER_CONTEXT.LoggerId (default 0x21; 0 in compressed files)

	// ControllerPID and ControllerTID go into the logfile header record
	// (the process that started the session, e.g. netsh.exe).
	ControllerPID, ControllerTID uint32
}

func (o Options) normalized() (Options, error) {
	switch o.PointerSize {
	case 0:
		o.PointerSize = 8
	case 4, 8:
	default:
		return o, fmt.Errorf("etltest: pointer size %d, want 4 or 8", o.PointerSize)
	}
	if o.Build == 0 {
		o.Build = DefaultBuild
	}
	if o.OSMajor == 0 && o.OSMinor == 0 {
		o.OSMajor, o.OSMinor = osVersionForBuild(o.Build)
	}
	if o.CPUs == 0 {
		o.CPUs = DefaultCPUs
	}
	if o.CPUs < 1 || o.CPUs > 4096 {
		return o, fmt.Errorf("etltest: %d CPUs, want 1..4096", o.CPUs)
	}
	if o.BufferSize == 0 {
		o.BufferSize = DefaultBufferSize
	}
	if o.BufferSize < 1024 || o.BufferSize%8 != 0 || o.BufferSize > 64<<20 {
		return o, fmt.Errorf("etltest: buffer size %d, want a multiple of 8 in 1 KiB..64 MiB", o.BufferSize)
	}
	if o.Start.IsZero() {
		o.Start = DefaultStart
	}
	o.Start = o.Start.UTC()
	if o.Uptime <= 0 {
		o.Uptime = DefaultUptime
	}
	if o.ClockType == 0 {
		o.ClockType = ClockQPC
	}
	if o.ClockType < ClockQPC || o.ClockType > ClockCPUCycle {
		return o, fmt.Errorf("etltest: unknown clock type %d", o.ClockType)
	}
	if o.PerfFreq == 0 {
		o.PerfFreq = DefaultPerfFreq
	}
	if o.PerfFreq < 1000 || o.PerfFreq > 1e12 {
		return o, errors.New("etltest: PerfFreq out of range")
	}
	if o.CPUSpeedMHz == 0 {
		o.CPUSpeedMHz = DefaultCPUSpeed
	}
	if o.LoggerName == "" {
		o.LoggerName = DefaultLoggerName
	}
	if o.LogFileName == "" {
		o.LogFileName = DefaultLogFile
	}
	if o.TimeZoneName == "" {
		o.TimeZoneName = DefaultTimeZone
	}
	if o.RingBuffers < 0 || o.RingBuffers > 0 && o.Compress {
		return o, errors.New("etltest: RingBuffers must be positive and cannot be combined with Compress")
	}
	if o.LogFileMode == 0 {
		o.LogFileMode = ModeFileSequential
		if o.RingBuffers > 0 {
			o.LogFileMode = ModeFileCircular
		}
	}
	if o.Compress {
		o.LogFileMode |= ModeCompressed | ModeRelog
		o.LoggerID = 0
	} else if o.LoggerID == 0 {
		o.LoggerID = DefaultLoggerID
	}
	if o.ControllerPID == 0 {
		o.ControllerPID = 1980
	}
	if o.ControllerTID == 0 {
		o.ControllerTID = 2044
	}
	return o, nil
}

// osVersionForBuild maps a Windows build number to the major.minor version
// the logfile header reports.
func osVersionForBuild(build uint32) (major, minor uint8) {
	switch {
	case build >= 10240:
		return 10, 0
	case build >= 9600:
		return 6, 3
	case build >= 9200:
		return 6, 2
	case build >= 7600:
		return 6, 1
	case build >= 6000:
		return 6, 0
	}
	return 5, 2
}

// FileTime converts t to a FILETIME value (100 ns intervals since
// 1601-01-01 UTC). The zero time gives 0.
func FileTime(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	const epochDelta = 116444736000000000 // 1601 → 1970 in 100 ns
	s := t.Unix()
	return s*1e7 + int64(t.Nanosecond())/100 + epochDelta
}

// clock converts absolute times to raw timestamps of the session's clock.
type clock struct {
	kind  ClockType
	start time.Time
	raw0  int64 // raw value at start
	rate  int64 // raw ticks per second
}

func newClock(o Options) clock {
	c := clock{kind: o.ClockType, start: o.Start}
	switch o.ClockType {
	case ClockSystemTime:
		c.rate = 1e7
		c.raw0 = FileTime(o.Start)
	case ClockCPUCycle:
		c.rate = int64(o.CPUSpeedMHz) * 1e6
	default:
		c.rate = o.PerfFreq
	}
	if o.ClockType != ClockSystemTime {
		c.raw0 = ticks(int64(o.Uptime/100), c.rate)
	}
	return c
}

// ticks converts a count of 100 ns units to ticks at rate Hz, rounding to
// nearest, without overflowing for any duration time.Duration can hold.
func ticks(d100 int64, rate int64) int64 {
	neg := d100 < 0
	if neg {
		d100 = -d100
	}
	q, r := d100/1e7, d100%1e7
	t := q*rate + (r*rate+5e6)/1e7
	if neg {
		return -t
	}
	return t
}

// raw returns the raw timestamp of t.
func (c clock) raw(t time.Time) int64 {
	if t.IsZero() {
		t = c.start
	}
	if c.kind == ClockSystemTime {
		return FileTime(t)
	}
	return c.raw0 + ticks(int64(t.Sub(c.start)/100), c.rate)
}
