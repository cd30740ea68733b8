// Package lz77 implements the MS-XCA "plain LZ77" (LZXpress, COMPRESSION_FORMAT_XPRESS)
// decompressor used for compressed ETW buffers.
package lz77
