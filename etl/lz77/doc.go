// Package lz77 implements the MS-XCA "plain LZ77" decompressor
// ([MS-XCA] sections 2.3 and 2.4; COMPRESSION_FORMAT_XPRESS, value 3, in
// RtlDecompressBuffer terms), which Windows 8 and later use for compressed ETW
// buffers, plus a simple encoder for building test fixtures.
//
// # Stream format
//
// The stream is a sequence of 32-bit little-endian flag words, each followed
// by the items it describes. Flags are consumed from the most significant bit
// down: 0 means one literal byte, 1 means a match. A match is a 16-bit
// little-endian token, offset<<3 | length: the back-reference distance is
// (token>>3)+1 (1..8192) and the length is (token&7)+3. A length field of 7
// escapes to a 4-bit extension held in a nibble byte shared by two matches
// (the first match that needs one appends the byte and uses its low nibble,
// the next uses its high nibble); a nibble of 15 escapes to one more byte,
// and a byte of 255 escapes to a 16-bit length (0 escapes once more to a
// 32-bit length), which then holds the whole match length minus 3. Matches may
// overlap their own output (offset < length) and then repeat it, as a
// byte-by-byte copy would. The stream ends where the input ends; the encoder
// pads the last flag word with one-bits.
//
// # Compressed ETW buffers
//
// Layout facts below were checked on the real files in
// ../shared/testdata/etl (see TestRealETLBuffers) unless marked believed.
// Every buffer starts with the 72-byte (0x48) WMI_BUFFER_HEADER, which is
// never compressed. A buffer is compressed when BufferFlag (uint16 at 0x34)
// has bit 0x40 (ETW_BUFFER_FLAG_COMPRESSED) set. For such a buffer:
//
//   - Wnode.BufferSize (uint32 at 0x00) is the buffer's size on disk: the
//     72-byte header plus the compressed stream. The compressed stream is
//     bytes [72, BufferSize) of the buffer and the next buffer starts
//     immediately after, at file offset + BufferSize (no alignment, the file
//     is not a multiple of the logger's buffer size).
//   - Wnode.SavedOffset (uint32 at 0x04) is the uncompressed size including
//     the header: the stream decompresses to exactly SavedOffset-72 bytes,
//     which are the buffer's event records (8-byte aligned, starting right
//     at the first byte). Offset (uint32 at 0x30) holds the same value in
//     every compressed buffer seen.
//   - The uncompressed size is at most the logger's buffer size
//     (TRACE_LOGFILE_HEADER.BufferSize, 65536 in all samples), so a
//     destination of that size minus 72 always suffices.
//   - The first (header) buffer, BufferType 4 (header) and BufferFlag 0x1,
//     is never compressed. In exactly the four compressed sample files the
//     logfile header's LogFileMode (uint32 at file offset 136 = 72 + 32 +
//     0x20) has EVENT_TRACE_COMPRESSED_MODE (0x04000000) set, and the
//     header buffer's Wnode.State (uint32 at 0x2C) is 3. Believed (from a
//     public reader, not checkable here): in compressed mode that State
//     value is the RtlCompressBuffer format, 3 = COMPRESSION_FORMAT_XPRESS
//     (this format); 2 (LZNT1) and 4 (XPRESS_HUFF) were never seen and
//     should be reported as unsupported.
//
// For uncompressed buffers, BufferSize is the logger's buffer size and the
// records end at Offset (uint32 at 0x30), not always at SavedOffset: three
// of the sample files have header buffers with SavedOffset 440 but Offset
// 520 or 672, and records up to Offset. Reading records in
// [72, Offset) for uncompressed buffers and in the SavedOffset-72
// decompressed bytes for compressed ones reproduces the event and buffer
// counts of all 16 sample files in EXPECTED.tsv.
package lz77
