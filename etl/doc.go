// Package etl reads Windows Event Trace Log (.etl) files: the logfile
// header, the buffers and the event records in them, in time order or file
// order, through an io.ReaderAt with a few buffers in memory whatever the
// file's size.
//
// # Damaged, cut and wrapped files
//
// A trace can be incomplete in ways the reader can see: the file ends
// inside a buffer or holds fewer buffers than the logfile header's
// BuffersWritten, a buffer header or record is damaged, the header or a
// buffer's flags say events or buffers were lost, a circular file
// (EVENT_TRACE_FILE_MODE_CIRCULAR, what `netsh trace` writes by default)
// wrapped and overwrote its oldest events, or regions of the file are zero
// or 0xFF fill. None of that stops the reading: Events goes on at the next
// valid record or buffer and yields an error only when reading the file
// fails. Each finding is an Issue in File.Integrity (and passed to
// ReadOptions.OnIssue as it is found); Integrity.Complete is false when
// any of them means data that was written is missing.
//
// Open walks the buffer headers once (a few bytes per buffer, fill skipped
// at memory speed), so the findings about the file's structure are known
// before the first event is read; iterations add damaged records and
// buffers that do not decompress.
//
// What the checks rely on, from the real samples in ../shared/testdata/etl
// and the documented layouts: every buffer of an uncompressed file has the
// logger's buffer size; the header counts all buffers it wrote
// (BuffersWritten, the header buffer included); the last buffer written
// when the session stops carries ETW_BUFFER_FLAG_FLUSH_MARKER; each CPU's
// buffers carry increasing SequenceNumber values, which is how the buffers
// of a wrapped circular file are put back in time order.
package etl
