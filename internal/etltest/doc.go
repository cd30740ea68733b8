// Package etltest writes Windows ETL (Event Trace Log) files for tests: the
// same on-disk format Windows produces, so the reader in package etl can be
// tested on files whose every byte is known, and so scenario fixtures (package
// nettrace) can stand in for the NetTrace.etl files no one may publish.
//
// # What a written file looks like
//
// The layout follows the real files in ../shared/testdata/etl (checked field
// by field in TestLooksLikeRealFirstBuffer) and the public descriptions of the
// format (evntrace.h / evntcons.h, fox-it/dissect.etl, Geoff Chappell's ETW
// notes):
//
//   - The file is a sequence of buffers. Each starts with the 72-byte
//     WMI_BUFFER_HEADER: BufferSize, SavedOffset, CurrentOffset,
//     ReferenceCount, TimeStamp, SequenceNumber, ClockType/Frequency,
//     ETW_BUFFER_CONTEXT (ProcessorIndex, LoggerId), State, Offset (the
//     filled bytes, header included), BufferFlag, BufferType and 16 bytes
//     this writer leaves zero.
//   - The first buffer (BufferType 4, "header") holds the logfile header
//     record: a SYSTEM_TRACE_HEADER (HookId 0, group EventTrace) followed by
//     TRACE_LOGFILE_HEADER (0x118 bytes with 8-byte pointers, 0x110 with
//     4-byte ones) and the logger and log file names as NUL-terminated
//     UTF-16. Live Windows 10+ files follow it with an 80-byte EventTrace
//     record with opcode 0x50 whose payload is zero; the writer copies that.
//   - Every other buffer belongs to one CPU (ProcessorIndex) and holds records
//     of that CPU in time order, each record 8-byte aligned; unused space is
//     filled with 0xFF. A buffer is flushed when the next record does not fit
//     (CurrentOffset then says how far the failed reservation reached, as in
//     real files) and at the end (CurrentOffset = BufferSize + filled, and
//     the very last buffer carries the flush-marker flag). So buffers appear
//     in flush order, not in time order, and a reader has to merge the
//     per-CPU streams by timestamp.
//   - Records: EVENT_HEADER (80 bytes, type 0x13 for 8-byte pointers, 0x12
//     for 4-byte ones) with extended data items stored inline (each item:
//     uint16 size rounded up to 8, uint16 type, uint16 linkage, uint16 data
//     size, data, zero padding); classic EVENT_TRACE_HEADER (FULL_HEADER64
//     0x14 / FULL_HEADER32 0x0A, 48 bytes); kernel SYSTEM_TRACE_HEADER (32
//     bytes, types 2/1), its compact form (24 bytes, types 4/3) and
//     PERFINFO_TRACE_HEADER (16 bytes, types 0x11/0x10). MarkerFlags is always
//     0xC0 (TRACE_HEADER_FLAG | TRACE_HEADER_EVENT_TRACE).
//   - Timestamps are raw clock values: QPC ticks (ClockType 1, the default),
//     FILETIME (2) or CPU cycles (3). The logfile header record's timestamp
//     is the raw value at StartTime, which is how readers (TraceEvent,
//     dissect.etl) anchor raw values to absolute time: time = StartTime +
//     (raw - headerRaw) * 10^7 / PerfFreq.
//   - With Options.Compress the file looks like the compressed samples (all
//     of them relogged files): LogFileMode has EVENT_TRACE_COMPRESSED_MODE and
//     EVENT_TRACE_RELOG_MODE, the header buffer is cut to a multiple of 512
//     bytes with BufferFlag 0x1, and every other buffer is stored as its
//     72-byte header followed by the MS-XCA plain LZ77 stream of its records
//     (BufferSize = on-disk size, SavedOffset = Offset = uncompressed size
//     with header; see ../../etl/lz77). A buffer whose records do not shrink
//     is stored uncompressed instead (believed to be what Windows does too;
//     not seen in the samples).
//   - With Options.RingBuffers the file is circular
//     (EVENT_TRACE_FILE_MODE_CIRCULAR, netsh trace's default file mode):
//     the header buffer stays first and the data buffers go round a ring
//     of slots after it, each new buffer overwriting the oldest once the
//     ring is full. The real circular sample in ../shared never wrapped, so
//     the wrapped layout follows the documented behaviour ("after the file
//     reaches the maximum size, the oldest events are replaced with
//     incoming events"); BuffersWritten counts the overwritten buffers too.
//
// # Determinism
//
// The writer is a pure function of its input: the same Options and events
// give the same bytes (no clock, no randomness, no map iteration). Zero
// Options fields get fixed defaults (see Options).
package etltest
