package lz77

import "encoding/binary"

const (
	hashBits = 14
	// maxMatch caps the length of one match (the 32-bit length extension
	// could hold up to 1<<32+2); keeping it small keeps int arithmetic safe
	// on 32-bit platforms.
	maxMatch = 1 << 30
)

// Compress encodes src as an MS-XCA plain LZ77 stream. It is a simple,
// valid, not size-optimal encoder (greedy matching over a hash of the last
// position of each 4-byte sequence), used to build compressed test fixtures;
// Decompress(dst, Compress(src)) reproduces src. It exercises every part of
// the format: literals, overlapping matches, the shared length nibble and the
// 1-, 2- and 4-byte length extensions.
func Compress(src []byte) []byte {
	out := make([]byte, 4, len(src)+len(src)/32*4+16)
	var (
		flagPos int    // where the current flag word goes
		flags   uint32 // flags so far, first one in the highest used bit
		nflags  int
		nibble  = -1 // output offset of a half-used nibble byte, or -1
	)
	addFlag := func(match bool) {
		if nflags == 32 {
			binary.LittleEndian.PutUint32(out[flagPos:], flags)
			flagPos = len(out)
			out = append(out, 0, 0, 0, 0)
			flags, nflags = 0, 0
		}
		flags <<= 1
		if match {
			flags |= 1
		}
		nflags++
	}

	var table [1 << hashBits]int32 // position+1 of the last 4-byte sequence with this hash
	hash := func(i int) uint32 {
		return (binary.LittleEndian.Uint32(src[i:]) * 2654435761) >> (32 - hashBits)
	}

	for i := 0; i < len(src); {
		length, offset := 0, 0
		if i+4 <= len(src) && i < 1<<31-2 {
			h := hash(i)
			cand := int(table[h]) - 1
			table[h] = int32(i + 1)
			if cand >= 0 && i-cand <= maxOffset {
				n := 0
				for limit := min(len(src)-i, maxMatch); n < limit && src[cand+n] == src[i+n]; n++ {
				}
				if n >= minMatch {
					length, offset = n, i-cand
				}
			}
		}
		if length == 0 {
			addFlag(false)
			out = append(out, src[i])
			i++
			continue
		}
		addFlag(true)
		v := length - minMatch
		tok := uint16(offset-1) << 3
		if v < 7 {
			out = binary.LittleEndian.AppendUint16(out, tok|uint16(v))
		} else {
			out = binary.LittleEndian.AppendUint16(out, tok|7)
			r := min(v-7, 15)
			if nibble < 0 {
				nibble = len(out)
				out = append(out, byte(r))
			} else {
				out[nibble] |= byte(r) << 4
				nibble = -1
			}
			if r == 15 {
				switch b := v - 7 - 15; {
				case b < 255:
					out = append(out, byte(b))
				case v <= 0xffff:
					out = append(out, 255)
					out = binary.LittleEndian.AppendUint16(out, uint16(v))
				default:
					out = append(out, 255, 0, 0)
					out = binary.LittleEndian.AppendUint32(out, uint32(v))
				}
			}
		}
		// Index the positions inside the match so later data can refer to them.
		for j := i + 1; j < i+length && j+4 <= len(src); j++ {
			table[hash(j)] = int32(j + 1)
		}
		i += length
	}
	// Pad the last flag word with one-bits: the decoder stops at the end of
	// the input when it meets a match flag.
	pad := 32 - nflags
	flags = flags<<uint(pad) | (1<<uint(pad) - 1)
	binary.LittleEndian.PutUint32(out[flagPos:], flags)
	return out
}
