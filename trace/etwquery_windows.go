//go:build windows

package trace

import (
	"unsafe"

	"golang.org/x/sys/windows"
)

// eventTraceProperties is EVENT_TRACE_PROPERTIES (evntrace.h): the
// 48-byte WNODE_HEADER, then the session's settings and counters; Go lays
// it out as C does on 386, amd64 and arm64.
type eventTraceProperties struct {
	wnodeBufferSize     uint32
	wnodeProviderID     uint32
	wnodeHistorical     uint64
	wnodeTimeStamp      int64
	wnodeGUID           windows.GUID
	wnodeClientContext  uint32
	wnodeFlags          uint32
	BufferSize          uint32
	MinimumBuffers      uint32
	MaximumBuffers      uint32
	MaximumFileSize     uint32
	LogFileMode         uint32
	FlushTimer          uint32
	EnableFlags         uint32
	AgeLimit            int32
	NumberOfBuffers     uint32
	FreeBuffers         uint32
	EventsLost          uint32
	BuffersWritten      uint32
	LogBuffersLost      uint32
	RealTimeBuffersLost uint32
	LoggerThreadID      windows.Handle
	LogFileNameOffset   uint32
	LoggerNameOffset    uint32
}

const eventTraceControlQuery = 0 // EVENT_TRACE_CONTROL_QUERY

var procControlTraceW = windows.NewLazySystemDLL("advapi32.dll").NewProc("ControlTraceW")

// queryLost asks ETW for the lost counts of the session called name
// (ControlTraceW with EVENT_TRACE_CONTROL_QUERY; the buffer has room for
// the session and log file names ETW copies back).
func queryLost(name string) (events, buffers uint32, err error) {
	n, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return 0, 0, err
	}
	const names = 2 * 1024 * 2 // two names of up to 1024 UTF-16 units
	buf := make([]byte, unsafe.Sizeof(eventTraceProperties{})+names)
	p := (*eventTraceProperties)(unsafe.Pointer(&buf[0]))
	p.wnodeBufferSize = uint32(len(buf))
	p.LoggerNameOffset = uint32(unsafe.Sizeof(eventTraceProperties{}))
	p.LogFileNameOffset = p.LoggerNameOffset + names/2
	r, _, _ := procControlTraceW.Call(0, uintptr(unsafe.Pointer(n)), uintptr(unsafe.Pointer(p)), eventTraceControlQuery)
	if r != 0 {
		return 0, 0, windows.Errno(r)
	}
	return p.EventsLost, p.RealTimeBuffersLost, nil
}
