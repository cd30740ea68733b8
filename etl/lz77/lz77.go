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

	// The fast loop runs while this much input and output is left, so a
	// whole step (a flag word, a literal run of up to 32 bytes or a match
	// token with all its length extensions, at most 10 bytes) needs no
	// input check and literal runs no output check.
	fastIn  = 4 + 32 + 10
	fastOut = 32
	// slop is how far past the end of a match the fast copies may write
	// (two 16-byte stores for a 3-byte match). Matches that end closer
	// than this to the end of dst take the exact path.
	slop = 32

	// noFlags is the flag register with no pending flag: only the
	// sentinel bit left, in bit 63.
	noFlags = 1 << 63
)

// patternStride[o] is the largest multiple of o that is at most 8: storing
// an 8-byte period-o pattern every patternStride[o] bytes keeps the period.
var patternStride = [8]int{0, 8, 8, 6, 8, 5, 6, 7}

// Decompress decodes the MS-XCA plain LZ77 stream src into dst and returns
// the number of bytes written. It never writes past len(dst) and never
// allocates (except for the returned error value); output longer than dst is
// an error (ErrOutputTooLarge, wrapped in an *Error carrying the input
// offset). On error, dst[:n] holds the output of every item decoded before
// the failing one (a literal run that overflows dst fills it). Bytes of dst
// past the returned count may be overwritten.
//
// The stream ends when the input is exhausted at a symbol boundary, which may
// be in the middle of a flag word: trailing one-bits in the last flag word
// (the encoder's end padding) and trailing zero-bits with no literal bytes
// behind them are both accepted. Input that ends inside a flag word, match
// token or length extension is an ErrTruncated error.
//
// The decoder works a machine word at a time: literal runs and matches are
// copied with 8- and 16-byte loads and stores that may run up to 15 bytes
// past the item's end (later items overwrite those bytes), overlapping
// matches with offset below 8 (offset 1 is a run of one byte) store a
// repeated 8-byte pattern, and the bounds are checked once per item against
// a safety margin. Within fastIn bytes of the end of src, or fastOut bytes
// of the end of dst, an exact loop takes over.
func Decompress(dst, src []byte) (int, error) {
	var (
		in, out int
		// flags holds the pending flags from bit 63 down, followed by a
		// sentinel one-bit; flags == noFlags means none are left. Leading
		// zeros then count a literal run without passing the word's end.
		flags  uint64 = noFlags
		nibble        = -1 // input offset of a half-used shared length nibble byte, or -1
	)
	for len(src)-in >= fastIn && len(dst)-out >= fastOut {
		if flags == noFlags {
			flags = uint64(binary.LittleEndian.Uint32(src[in:in+4]))<<32 | 1<<31
			in += 4
		}
		// The literal run before the next match (0 to 32 bytes; the
		// margins hold 32 bytes of input and output), copied without
		// asking whether there is one: 16 bytes are stored either way.
		run := bits.LeadingZeros64(flags)
		*(*[16]byte)(dst[out : out+16]) = *(*[16]byte)(src[in : in+16])
		if run > 16 {
			*(*[16]byte)(dst[out+16 : out+32]) = *(*[16]byte)(src[in+16 : in+32])
		}
		in += run
		out += run
		flags <<= uint(run)
		if flags == noFlags {
			continue // the flag word ended with literals
		}
		flags <<= 1

		start := in
		tok := int(binary.LittleEndian.Uint16(src[in : in+2]))
		in += 2
		offset := tok>>3 + 1
		n := tok&7 + minMatch
		if n == 7+minMatch {
			var ext int
			if nibble < 0 {
				ext = int(src[in] & 0x0f)
				nibble = in
				in++
			} else {
				ext = int(src[nibble] >> 4)
				nibble = -1
			}
			if ext == 15 {
				ext = int(src[in])
				in++
				if ext == 255 {
					length, next, err := longLength(src, in, start)
					if err == nil {
						err = checkMatch(start, offset, out, length, len(dst)-out)
					}
					if err != nil {
						return out, err
					}
					in = next
					ext = int(length) - (15 + 7 + minMatch)
				}
				ext += 15
			}
			n += ext
		}
		if offset > out || n > len(dst)-out-slop {
			// A bad offset, or near the end of dst (or a match too long
			// for it): check and copy exactly.
			if err := checkMatch(start, offset, out, uint64(n), len(dst)-out); err != nil {
				return out, err
			}
			out = copyMatch(dst, out, offset, n)
			continue
		}
		end := out + n
		s := out - offset
		switch {
		case offset >= 16:
			// Two 16-byte stores cover the common matches (up to 32
			// bytes); each reads bytes written before it.
			*(*[16]byte)(dst[out : out+16]) = *(*[16]byte)(dst[s : s+16])
			*(*[16]byte)(dst[out+16 : out+32]) = *(*[16]byte)(dst[s+16 : s+32])
			if n > 32 {
				if offset >= n {
					copy(dst[out+32:end], dst[s+32:])
					break
				}
				for p, s := out+32, s+32; p < end; p, s = p+16, s+16 {
					*(*[16]byte)(dst[p : p+16]) = *(*[16]byte)(dst[s : s+16])
				}
			}
		case offset >= 8:
			for p := out; p < end; p, s = p+8, s+8 {
				binary.LittleEndian.PutUint64(dst[p:p+8], binary.LittleEndian.Uint64(dst[s:s+8]))
			}
		default:
			// Overlapping match with a period below one word: build the
			// 8-byte pattern from the last offset bytes and store it every
			// patternStride bytes.
			shift := uint(offset) * 8
			v := binary.LittleEndian.Uint64(dst[s:s+8]) & (1<<shift - 1)
			v |= v << shift
			v |= v << (2 * shift)
			v |= v << (4 * shift)
			stride := patternStride[offset&7]
			for p := out; p < end; p += stride {
				binary.LittleEndian.PutUint64(dst[p:p+8], v)
			}
		}
		out = end
	}
	return decompressTail(dst, src, in, out, flags, nibble)
}

// longLength reads the 16-bit (and if that is 0, the 32-bit) match length
// extension at src[in:] of the match token at start, and returns the whole
// match length.
func longLength(src []byte, in, start int) (length uint64, next int, err error) {
	if len(src)-in < 2 {
		return 0, in, fail(start, ErrTruncated, "16-bit match length missing")
	}
	length = uint64(binary.LittleEndian.Uint16(src[in:]))
	in += 2
	if length == 0 {
		if len(src)-in < 4 {
			return 0, in, fail(start, ErrTruncated, "32-bit match length missing")
		}
		length = uint64(binary.LittleEndian.Uint32(src[in:]))
		in += 4
	}
	if length < 15+7 {
		return 0, in, fail(start, ErrCorrupt, fmt.Sprintf("extended match length %d below minimum %d", length, 15+7))
	}
	return length + minMatch, in, nil
}

// checkMatch reports a match (token at input offset start) that reaches
// back before the start of the output or does not fit in the room left in
// dst.
func checkMatch(start, offset, out int, length uint64, room int) error {
	if offset > out {
		return fail(start, ErrCorrupt, fmt.Sprintf("match offset %d before start of output (at output %d)", offset, out))
	}
	if length > uint64(room) {
		return fail(start, ErrOutputTooLarge, fmt.Sprintf("match of length %d past end of destination", length))
	}
	return nil
}

// copyMatch copies the n-byte match at distance offset to dst[out:] exactly
// (no byte past out+n is written) and returns the new output position.
func copyMatch(dst []byte, out, offset, n int) int {
	end := out + n
	if offset >= n {
		copy(dst[out:end], dst[out-offset:])
		return end
	}
	// Overlapping match: the result repeats the last offset bytes. Copying
	// whole periods gives the same bytes as a byte-by-byte copy, with
	// non-overlapping copy calls.
	from := out - offset
	for p := out; p < end; {
		p += copy(dst[p:end], dst[from:p])
	}
	return end
}

// decompressTail decodes the rest of the stream from the state the fast
// loop left, checking every read and write exactly.
func decompressTail(dst, src []byte, in, out int, flags uint64, nibble int) (int, error) {
	for in < len(src) {
		if flags == noFlags {
			if len(src)-in < 4 {
				return out, fail(in, ErrTruncated, fmt.Sprintf("flag word needs 4 bytes, %d left", len(src)-in))
			}
			flags = uint64(binary.LittleEndian.Uint32(src[in:]))<<32 | 1<<31
			in += 4
			continue
		}
		if run := bits.LeadingZeros64(flags); run != 0 {
			if rem := len(src) - in; run > rem {
				run = rem // input ends inside the run: end of stream
			}
			if room := len(dst) - out; run > room {
				copy(dst[out:], src[in:in+room])
				return len(dst), fail(in+room, ErrOutputTooLarge, "literal past end of destination")
			}
			copy(dst[out:out+run], src[in:in+run])
			in += run
			out += run
			flags <<= uint(run)
			continue
		}
		flags <<= 1

		start := in
		if len(src)-in < 2 {
			return out, fail(start, ErrTruncated, "match token needs 2 bytes")
		}
		tok := uint(binary.LittleEndian.Uint16(src[in:]))
		in += 2
		offset := int(tok>>3) + 1
		length := uint64(tok&7) + minMatch
		if length == 7+minMatch {
			var ext uint64
			if nibble < 0 {
				if in >= len(src) {
					return out, fail(start, ErrTruncated, "match length nibble missing")
				}
				ext = uint64(src[in] & 0x0f)
				nibble = in
				in++
			} else {
				ext = uint64(src[nibble] >> 4)
				nibble = -1
			}
			if ext == 15 {
				if in >= len(src) {
					return out, fail(start, ErrTruncated, "match length byte missing")
				}
				ext = uint64(src[in])
				in++
				if ext == 255 {
					l, next, err := longLength(src, in, start)
					if err != nil {
						return out, err
					}
					in = next
					ext = l - (15 + 7 + minMatch)
				}
				ext += 15
			}
			length += ext
		}
		if err := checkMatch(start, offset, out, length, len(dst)-out); err != nil {
			return out, err
		}
		out = copyMatch(dst, out, offset, int(length))
	}
	return out, nil
}
