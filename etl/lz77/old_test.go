package lz77

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// oldDecompress is the decoder Decompress replaced (one copy call per
// literal run and per match), kept verbatim as a second oracle and as the
// baseline of the speed-ratio test and the benchmarks.
func oldDecompress(dst, src []byte) (int, error) {
	var (
		in, out int
		flags   uint32 // pending flags, next one in bit 31
		nflags  int    // number of valid flags left in flags
		nibble  = -1   // input offset of a half-used shared length nibble byte, or -1
	)
	for in < len(src) {
		if nflags == 0 {
			if len(src)-in < 4 {
				return out, fail(in, ErrTruncated, fmt.Sprintf("flag word needs 4 bytes, %d left", len(src)-in))
			}
			flags = binary.LittleEndian.Uint32(src[in:])
			in += 4
			nflags = 32
			continue
		}
		if flags&(1<<31) == 0 {
			// A run of literals: as many zero flags as are pending.
			run := bits.LeadingZeros32(flags)
			if run > nflags {
				run = nflags
			}
			if rem := len(src) - in; run > rem {
				run = rem // input ends inside the run: end of stream
			}
			if run > len(dst)-out {
				return out, fail(in+(len(dst)-out), ErrOutputTooLarge, "literal past end of destination")
			}
			copy(dst[out:out+run], src[in:in+run])
			in += run
			out += run
			flags <<= uint(run)
			nflags -= run
			continue
		}
		flags <<= 1
		nflags--

		start := in
		if len(src)-in < 2 {
			return out, fail(start, ErrTruncated, "match token needs 2 bytes")
		}
		tok := uint(binary.LittleEndian.Uint16(src[in:]))
		in += 2
		offset := int(tok>>3) + 1
		length := uint64(tok & 7)
		if length == 7 {
			if nibble < 0 {
				if in >= len(src) {
					return out, fail(start, ErrTruncated, "match length nibble missing")
				}
				length = uint64(src[in] & 0x0f)
				nibble = in
				in++
			} else {
				length = uint64(src[nibble] >> 4)
				nibble = -1
			}
			if length == 15 {
				if in >= len(src) {
					return out, fail(start, ErrTruncated, "match length byte missing")
				}
				length = uint64(src[in])
				in++
				if length == 255 {
					if len(src)-in < 2 {
						return out, fail(start, ErrTruncated, "16-bit match length missing")
					}
					length = uint64(binary.LittleEndian.Uint16(src[in:]))
					in += 2
					if length == 0 {
						if len(src)-in < 4 {
							return out, fail(start, ErrTruncated, "32-bit match length missing")
						}
						length = uint64(binary.LittleEndian.Uint32(src[in:]))
						in += 4
					}
					if length < 15+7 {
						return out, fail(start, ErrCorrupt, fmt.Sprintf("extended match length %d below minimum %d", length, 15+7))
					}
					length -= 15 + 7
				}
				length += 15
			}
			length += 7
		}
		length += minMatch

		if offset > out {
			return out, fail(start, ErrCorrupt, fmt.Sprintf("match offset %d before start of output (at output %d)", offset, out))
		}
		if length > uint64(len(dst)-out) {
			return out, fail(start, ErrOutputTooLarge, fmt.Sprintf("match of length %d past end of destination", length))
		}
		n := int(length)
		end := out + n
		if offset >= n {
			copy(dst[out:end], dst[out-offset:])
		} else {
			// Overlapping match: the result repeats the last offset bytes.
			// Copying whole periods gives the same bytes as a byte-by-byte
			// copy, with non-overlapping copy calls.
			from := out - offset
			for p := out; p < end; {
				p += copy(dst[p:end], dst[from:p])
			}
		}
		out = end
	}
	return out, nil
}
