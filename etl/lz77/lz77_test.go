package lz77

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// refDecompress is a direct, byte-at-a-time transcription of the [MS-XCA]
// 2.4.4 pseudocode (with this package's end-of-input rule), used as an
// oracle for the optimised decoder.
func refDecompress(dst, src []byte) (int, error) {
	var flags uint32
	nflags, in, out, half := 0, 0, 0, 0
	for in < len(src) {
		if nflags == 0 {
			if in+4 > len(src) {
				return out, &Error{Off: in, Err: ErrTruncated}
			}
			flags = binary.LittleEndian.Uint32(src[in:])
			in += 4
			nflags = 32
			continue
		}
		nflags--
		if flags&(1<<uint(nflags)) == 0 {
			if out >= len(dst) {
				return out, &Error{Off: in, Err: ErrOutputTooLarge}
			}
			dst[out] = src[in]
			in++
			out++
			continue
		}
		start := in
		if in+2 > len(src) {
			return out, &Error{Off: start, Err: ErrTruncated}
		}
		mb := int(binary.LittleEndian.Uint16(src[in:]))
		in += 2
		length := mb % 8
		offset := mb/8 + 1
		if length == 7 {
			if half == 0 {
				if in >= len(src) {
					return out, &Error{Off: start, Err: ErrTruncated}
				}
				length = int(src[in]) % 16
				half = in
				in++
			} else {
				length = int(src[half]) / 16
				half = 0
			}
			if length == 15 {
				if in >= len(src) {
					return out, &Error{Off: start, Err: ErrTruncated}
				}
				length = int(src[in])
				in++
				if length == 255 {
					if in+2 > len(src) {
						return out, &Error{Off: start, Err: ErrTruncated}
					}
					length = int(binary.LittleEndian.Uint16(src[in:]))
					in += 2
					if length == 0 {
						if in+4 > len(src) {
							return out, &Error{Off: start, Err: ErrTruncated}
						}
						length = int(binary.LittleEndian.Uint32(src[in:]))
						in += 4
					}
					if length < 15+7 {
						return out, &Error{Off: start, Err: ErrCorrupt}
					}
					length -= 15 + 7
				}
				length += 15
			}
			length += 7
		}
		length += 3
		if offset > out {
			return out, &Error{Off: start, Err: ErrCorrupt}
		}
		if length > len(dst)-out {
			return out, &Error{Off: start, Err: ErrOutputTooLarge}
		}
		for i := 0; i < length; i++ {
			dst[out] = dst[out-offset]
			out++
		}
	}
	return out, nil
}

// decodeAll decompresses src into a buffer of size n and returns the result.
func decodeAll(t testing.TB, src []byte, n int) []byte {
	t.Helper()
	dst := make([]byte, n)
	got, err := Decompress(dst, src)
	if err != nil {
		t.Fatalf("Decompress: %v", err)
	}
	return dst[:got]
}

func TestSpecExamples(t *testing.T) {
	// [MS-XCA] section 3.1.
	tests := []struct {
		name, enc, want string
	}{
		{"alphabet", "3f 00 00 00 61 62 63 64 65 66 67 68 69 6a 6b 6c 6d 6e 6f 70 71 72 73 74 75 76 77 78 79 7a",
			"abcdefghijklmnopqrstuvwxyz"},
		{"abc*100", "ff ff ff 1f 61 62 63 17 00 0f ff 26 01", strings.Repeat("abc", 100)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := unhex(t, tt.enc)
			for _, size := range []int{len(tt.want), len(tt.want) + 1000} {
				if got := decodeAll(t, src, size); string(got) != tt.want {
					t.Errorf("dst size %d: got %q, want %q", size, got, tt.want)
				}
			}
			// One byte too small: ErrOutputTooLarge, nothing written past dst.
			buf := bytes.Repeat([]byte{0xEE}, len(tt.want)+8)
			n, err := Decompress(buf[:len(tt.want)-1], src)
			if !errors.Is(err, ErrOutputTooLarge) {
				t.Fatalf("small dst: err = %v, want ErrOutputTooLarge", err)
			}
			if n > len(tt.want)-1 || !bytes.Equal(buf[len(tt.want)-1:], bytes.Repeat([]byte{0xEE}, 9)) {
				t.Errorf("small dst: n=%d, bytes past dst changed: %x", n, buf[len(tt.want)-1:])
			}
			var e *Error
			if !errors.As(err, &e) || e.Off < 4 || e.Off >= len(src) {
				t.Errorf("small dst: error %#v lacks a plausible input offset", err)
			}
		})
	}
}

func TestHandMadeStreams(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name, enc, want string
	}{
		{"empty", "", ""},
		{"flags only", "ff ff ff ff", ""},
		{"flags ending in zero bits", "00 00 00 00", ""},
		{"literals end mid flag word", "00 00 00 00 61 62", "ab"},
		{"32 literals then nothing", "00 00 00 00" + strings.Repeat(" 61", 32), a(32)},
		{"32 literals then padding word", "00 00 00 00" + strings.Repeat(" 61", 32) + " ff ff ff ff", a(32)},
		{"33 literals across flag words", "00 00 00 00" + strings.Repeat(" 61", 32) + " 00 00 00 00 62", a(32) + "b"},
		// 'a', then matches with offset 1: bit 31 literal, bit 30 match, rest one-bits.
		{"len 3", "ff ff ff 7f 61 00 00", a(4)},
		{"len 9", "ff ff ff 7f 61 06 00", a(10)},
		{"nibble 0 len 10", "ff ff ff 7f 61 07 00 00", a(11)},
		{"nibble 14 len 24", "ff ff ff 7f 61 07 00 0e", a(25)},
		{"shared nibble 10+24", "ff ff ff 7f 61 07 00 e0 07 00", a(35)},
		{"three nibbles", "ff ff ff 7f 61 07 00 e0 07 00 07 00 03", a(1 + 10 + 24 + 13)},
		{"byte ext 0 len 25", "ff ff ff 7f 61 07 00 0f 00", a(26)},
		{"byte ext 254 len 279", "ff ff ff 7f 61 07 00 0f fe", a(280)},
		{"shared nibble both extended", "ff ff ff 7f 61 07 00 ff 00 07 00 01", a(1 + 25 + 26)},
		{"u16 ext 277 len 280", "ff ff ff 7f 61 07 00 0f ff 15 01", a(281)},
		{"u16 ext 22 len 25", "ff ff ff 7f 61 07 00 0f ff 16 00", a(26)},
		{"u16 ext max len 65538", "ff ff ff 7f 61 07 00 0f ff ff ff", a(65539)},
		{"u32 ext len 65539", "ff ff ff 7f 61 07 00 0f ff 00 00 00 00 01 00", a(65540)},
		{"u32 ext small len 103", "ff ff ff 7f 61 07 00 0f ff 00 00 64 00 00 00", a(104)},
		// "abc", offset 3 length 10 (overlapping), then offset 8 length 5 (token 7<<3|2).
		{"overlap", "ff ff ff 1f 61 62 63 17 00 00 3a 00", "abcabcabcabca" + "cabca"},
		{"max offset", "", ""}, // built below
	}
	// max offset: 8192 bytes are needed before an offset-8192 match; build it here.
	{
		prefix := make([]byte, 0, 8192)
		for i := 0; i < 8192; i++ {
			prefix = append(prefix, byte('A'+i%26))
		}
		var enc []byte
		for i := 0; i < 8192; i += 32 {
			enc = append(enc, 0, 0, 0, 0)
			enc = append(enc, prefix[i:i+32]...)
		}
		enc = append(enc, 0xff, 0xff, 0xff, 0xff, 0xf8, 0xff) // offset 8192, length 3
		tests[len(tests)-1].enc = hex.EncodeToString(enc)
		tests[len(tests)-1].want = string(prefix) + string(prefix[:3])
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := unhex(t, tt.enc)
			got := decodeAll(t, src, len(tt.want)+64)
			if string(got) != tt.want {
				t.Errorf("got %d bytes %.40q, want %d bytes %.40q", len(got), got, len(tt.want), tt.want)
			}
			ref := make([]byte, len(tt.want)+64)
			n, err := refDecompress(ref, src)
			if err != nil || string(ref[:n]) != tt.want {
				t.Errorf("reference decoder disagrees: %v", err)
			}
		})
	}
}

func TestBadStreams(t *testing.T) {
	tests := []struct {
		name string
		enc  string
		dst  int
		kind error
		off  int
	}{
		{"short flag word", "ff ff", 10, ErrTruncated, 0},
		{"short second flag word", "00 00 00 00" + strings.Repeat(" 61", 32) + " 00 00", 100, ErrTruncated, 36},
		{"match token cut", "ff ff ff 7f 61 07", 100, ErrTruncated, 5},
		{"nibble missing", "ff ff ff 7f 61 07 00", 100, ErrTruncated, 5},
		{"ext byte missing", "ff ff ff 7f 61 07 00 0f", 100, ErrTruncated, 5},
		{"u16 missing", "ff ff ff 7f 61 07 00 0f ff 01", 100, ErrTruncated, 5},
		{"u32 missing", "ff ff ff 7f 61 07 00 0f ff 00 00 01 00 00", 100, ErrTruncated, 5},
		{"u16 below 22", "ff ff ff 7f 61 07 00 0f ff 15 00", 100, ErrCorrupt, 5},
		{"u32 below 22", "ff ff ff 7f 61 07 00 0f ff 00 00 15 00 00 00", 100, ErrCorrupt, 5},
		{"u32 huge", "ff ff ff 7f 61 07 00 0f ff 00 00 ff ff ff ff", 1 << 16, ErrOutputTooLarge, 5},
		{"match before output start", "ff ff ff ff 00 00", 100, ErrCorrupt, 4},
		{"offset 2 after 1 byte", "ff ff ff 7f 61 08 00", 100, ErrCorrupt, 5},
		{"literal past dst", "00 00 00 00 61 62 63", 2, ErrOutputTooLarge, 6},
		{"literal into empty dst", "00 00 00 00 61", 0, ErrOutputTooLarge, 4},
		{"match past dst", "ff ff ff 7f 61 06 00", 9, ErrOutputTooLarge, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := unhex(t, tt.enc)
			buf := bytes.Repeat([]byte{0xEE}, tt.dst+16)
			n, err := Decompress(buf[:tt.dst], src)
			if !errors.Is(err, tt.kind) {
				t.Fatalf("err = %v, want %v", err, tt.kind)
			}
			var e *Error
			if !errors.As(err, &e) || e.Off != tt.off {
				t.Errorf("error %v: offset %d, want %d", err, e.Off, tt.off)
			}
			if !strings.Contains(err.Error(), "input offset") {
				t.Errorf("message %q does not name the offset", err)
			}
			if n > tt.dst || !bytes.Equal(buf[tt.dst:], bytes.Repeat([]byte{0xEE}, 16)) {
				t.Errorf("wrote past dst: n=%d tail=%x", n, buf[tt.dst:])
			}
			_, rerr := refDecompress(make([]byte, tt.dst), src)
			var re *Error
			if !errors.As(rerr, &re) || re.Err != tt.kind || re.Off != tt.off {
				t.Errorf("reference decoder: %v (%+v)", rerr, re)
			}
		})
	}
}

func TestNoAllocs(t *testing.T) {
	src := Compress(bytes.Repeat([]byte("hello, world; hello, ETW "), 400))
	dst := make([]byte, 1<<16)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := Decompress(dst, src); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Decompress allocates %v times per call", allocs)
	}
}

// testInputs returns varied inputs for round trips: random, repetitive,
// text-like and long runs that need the 2- and 4-byte length extensions.
func testInputs() map[string][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	random := func(n, alphabet int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.IntN(alphabet))
		}
		return b
	}
	mixed := func(n int) []byte {
		var b []byte
		for len(b) < n {
			switch r.IntN(4) {
			case 0:
				b = append(b, random(r.IntN(40), 256)...)
			case 1:
				b = append(b, bytes.Repeat([]byte{byte(r.IntN(256))}, r.IntN(600))...)
			default:
				if len(b) > 0 { // copy an earlier piece, possibly far back
					from := r.IntN(len(b))
					l := min(r.IntN(300), len(b)-from)
					b = append(b, b[from:from+l]...)
				}
			}
		}
		return b[:n]
	}
	return map[string][]byte{
		"empty":        {},
		"one":          {42},
		"three":        []byte("abc"),
		"random64k":    random(1<<16, 256),
		"random4":      random(20000, 4),
		"zeros70k":     make([]byte, 70000),
		"zeros300k":    make([]byte, 300000),
		"abc":          bytes.Repeat([]byte("abc"), 1000),
		"text":         bytes.Repeat([]byte("The quick brown fox jumps over the lazy dog. "), 300),
		"mixed":        mixed(200000),
		"utf16ish":     bytes.Repeat([]byte("C\x00:\x00\\\x00W\x00i\x00n\x00d\x00o\x00w\x00s\x00"), 500),
		"period8193":   append(random(8193, 256), random(8193, 256)...),
		"repeat8193":   bytes.Repeat(random(8193, 256), 3),
		"nibble-mix":   mixed(5000),
		"random-short": random(31, 256),
	}
}

func TestRoundTrip(t *testing.T) {
	for name, in := range testInputs() {
		t.Run(name, func(t *testing.T) {
			enc := Compress(in)
			got := decodeAll(t, enc, len(in))
			if !bytes.Equal(got, in) {
				t.Fatalf("round trip mismatch: got %d bytes, want %d", len(got), len(in))
			}
			ref := make([]byte, len(in))
			if n, err := refDecompress(ref, enc); err != nil || !bytes.Equal(ref[:n], in) {
				t.Fatalf("reference decoder disagrees on Compress output: %v", err)
			}
			if len(in) > 0 {
				if _, err := Decompress(make([]byte, len(in)-1), enc); !errors.Is(err, ErrOutputTooLarge) {
					t.Errorf("dst one byte short: err = %v", err)
				}
			}
			// Every proper prefix of the stream must decode without panic to
			// a prefix of the input or fail cleanly.
			if len(enc) < 3000 {
				dst := make([]byte, len(in))
				for i := 0; i < len(enc); i++ {
					n, err := Decompress(dst, enc[:i])
					if n > len(in) || (err == nil && !bytes.Equal(dst[:n], in[:n])) {
						t.Fatalf("prefix %d: n=%d err=%v", i, n, err)
					}
				}
			}
		})
	}
}

func TestCompressRatio(t *testing.T) {
	// The encoder is simple but must actually find matches, including long
	// ones (the 4-byte length extension).
	for _, tc := range []struct {
		in  []byte
		max int
	}{
		{make([]byte, 300000), 32},
		{bytes.Repeat([]byte("abc"), 1000), 32},
		{bytes.Repeat([]byte("The quick brown fox jumps over the lazy dog. "), 300), 200},
	} {
		if enc := Compress(tc.in); len(enc) > tc.max {
			t.Errorf("Compress(%d bytes %.10q...) = %d bytes, want <= %d", len(tc.in), tc.in, len(enc), tc.max)
		}
	}
	// Incompressible data grows by at most 4 bytes per 32 plus one word.
	r := rand.New(rand.NewPCG(3, 4))
	in := make([]byte, 10000)
	for i := range in {
		in[i] = byte(r.Uint32())
	}
	if enc := Compress(in); len(enc) > len(in)+len(in)/32*4+8 {
		t.Errorf("random: %d bytes -> %d", len(in), len(enc))
	}
}

func TestMatchesReference(t *testing.T) {
	// Random streams biased towards matches and extensions: the optimised
	// decoder must agree with the byte-at-a-time transcription of the spec.
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 20000; i++ {
		src := make([]byte, r.IntN(80))
		for j := range src {
			switch r.IntN(5) {
			case 0:
				src[j] = 0xff
			case 1:
				src[j] = byte(r.IntN(8))<<3 | 7
			case 2:
				src[j] = 0
			default:
				src[j] = byte(r.Uint32())
			}
		}
		checkAgainstRef(t, src, r.IntN(400))
	}
}

func checkAgainstRef(t testing.TB, src []byte, size int) {
	t.Helper()
	const guard = 16
	buf := bytes.Repeat([]byte{0xA5}, size+guard)
	ref := make([]byte, size)
	n, err := Decompress(buf[:size], src)
	rn, rerr := refDecompress(ref, src)
	if n < 0 || n > size || !bytes.Equal(buf[size:], bytes.Repeat([]byte{0xA5}, guard)) {
		t.Fatalf("src %x: n=%d wrote past dst of %d", src, n, size)
	}
	if (err == nil) != (rerr == nil) {
		t.Fatalf("src %x dst %d: err=%v, reference err=%v", src, size, err, rerr)
	}
	if err != nil {
		var e, re *Error
		errors.As(err, &e)
		errors.As(rerr, &re)
		if e == nil || e.Off != re.Off || e.Err != re.Err {
			t.Fatalf("src %x dst %d: err=%v, reference %v at %d", src, size, err, re.Err, re.Off)
		}
	}
	// On error too: what was decoded before the failing item is output
	// (the ETL reader keeps a usable prefix of a damaged buffer).
	if n != rn || !bytes.Equal(buf[:n], ref[:rn]) {
		t.Fatalf("src %x dst %d: output differs from reference (%d vs %d bytes)", src, size, n, rn)
	}
}
