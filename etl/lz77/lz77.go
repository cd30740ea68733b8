package lz77

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// Sentinel errors. Every error returned by [Decompress] is an [*Error] whose
// Err field is one of these, so callers can test with errors.Is.
var (
	// ErrOutputTooLarge reports that the stream decodes to more bytes than
	// the destination buffer holds.
	ErrOutputTooLarge = errors.New("lz77: decompressed data larger than destination buffer")
	// ErrTruncated reports that the input ends inside a flag word, a match
	// token or a length extension.
	ErrTruncated = errors.New("lz77: truncated input")
	// ErrCorrupt reports a structurally invalid stream: a match reaching
	// back before the start of the output or an invalid length extension.
	ErrCorrupt = errors.New("lz77: corrupt input")
)

// Error describes a decoding failure at a given offset of the compressed input.
type Error struct {
	Off int    // offset in the compressed input where the failing item starts
	Msg string // what went wrong
	Err error  // ErrOutputTooLarge, ErrTruncated or ErrCorrupt
}

func (e *Error) Error() string {
	return fmt.Sprintf("lz77: %s at input offset %d", e.Msg, e.Off)
}

// Unwrap returns the sentinel error classifying the failure.
func (e *Error) Unwrap() error { return e.Err }

func fail(off int, kind error, msg string) error {
	return &Error{Off: off, Msg: msg, Err: kind}
}

const (
	maxOffset = 1 << 13 // match offsets are 13 bits, biased by one
	minMatch  = 3       // shortest match length
)

// Decompress decodes the MS-XCA plain LZ77 stream src into dst and returns
// the number of bytes written. It never writes past len(dst) and never
// allocates (except for the returned error value); output longer than dst is
// an error (ErrOutputTooLarge, wrapped in an *Error carrying the input
// offset).
//
// The stream ends when the input is exhausted at a symbol boundary, which may
// be in the middle of a flag word: trailing one-bits in the last flag word
// (the encoder's end padding) and trailing zero-bits with no literal bytes
// behind them are both accepted. Input that ends inside a flag word, match
// token or length extension is an ErrTruncated error.
func Decompress(dst, src []byte) (int, error) {
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
