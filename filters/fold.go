package filters

import (
	"unicode"
	"unicode/utf8"
)

// Case-insensitive string tests that do not allocate. They fold like
// strings.EqualFold (Unicode simple folding), with a fast path for ASCII.

// equalFoldRune reports whether r and s are equal under simple case folding.
func equalFoldRune(r, s rune) bool {
	if r == s {
		return true
	}
	if r < utf8.RuneSelf && s < utf8.RuneSelf {
		return lowerASCII(byte(r)) == lowerASCII(byte(s))
	}
	// Walk r's folding orbit (as strings.EqualFold does).
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f == s {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// prefixFold reports whether s begins with prefix, ignoring case.
func prefixFold(s, prefix string) bool {
	for prefix != "" {
		if s == "" {
			return false
		}
		a, b := s[0], prefix[0]
		if a < utf8.RuneSelf && b < utf8.RuneSelf {
			if a != b && lowerASCII(a) != lowerASCII(b) {
				return false
			}
			s, prefix = s[1:], prefix[1:]
			continue
		}
		r, n := utf8.DecodeRuneInString(s)
		q, m := utf8.DecodeRuneInString(prefix)
		if !equalFoldRune(r, q) {
			return false
		}
		s, prefix = s[n:], prefix[m:]
	}
	return true
}

// suffixFold reports whether s ends with suffix, ignoring case.
func suffixFold(s, suffix string) bool {
	for suffix != "" {
		if s == "" {
			return false
		}
		a, b := s[len(s)-1], suffix[len(suffix)-1]
		if a < utf8.RuneSelf && b < utf8.RuneSelf {
			if a != b && lowerASCII(a) != lowerASCII(b) {
				return false
			}
			s, suffix = s[:len(s)-1], suffix[:len(suffix)-1]
			continue
		}
		r, n := utf8.DecodeLastRuneInString(s)
		q, m := utf8.DecodeLastRuneInString(suffix)
		if !equalFoldRune(r, q) {
			return false
		}
		s, suffix = s[:len(s)-n], suffix[:len(suffix)-m]
	}
	return true
}

// folder is a compiled case-insensitive substring search for one needle.
type folder struct {
	needle string
	lo, up byte // the needle's first byte in both cases, when it is ASCII other than k and s
	ascii  bool // lo and up are valid
}

func newFolder(needle string) folder {
	f := folder{needle: needle}
	if needle != "" && needle[0] < utf8.RuneSelf {
		c := lowerASCII(needle[0])
		// 'k' and 's' also fold to non-ASCII runes (Kelvin sign, long s).
		if c != 'k' && c != 's' {
			f.lo, f.ascii = c, true
			f.up = c
			if 'a' <= c && c <= 'z' {
				f.up = c - 'a' + 'A'
			}
		}
	}
	return f
}

// in reports whether s contains the needle, ignoring case.
func (f *folder) in(s string) bool {
	if f.needle == "" {
		return true
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if f.ascii {
			// Only an ASCII byte equal to the first byte can start a match:
			// no non-ASCII rune folds to an ASCII letter other than k and s.
			if c != f.lo && c != f.up {
				continue
			}
		} else if !utf8.RuneStart(c) {
			continue
		}
		if prefixFold(s[i:], f.needle) {
			return true
		}
	}
	return false
}

// compareFold compares a and b like strings.Compare after lower-casing both,
// without allocating.
func compareFold(a, b string) int {
	for a != "" && b != "" {
		var r, s rune
		var n, m int
		if a[0] < utf8.RuneSelf {
			r, n = rune(lowerASCII(a[0])), 1
		} else {
			r, n = utf8.DecodeRuneInString(a)
			r = unicode.ToLower(r)
		}
		if b[0] < utf8.RuneSelf {
			s, m = rune(lowerASCII(b[0])), 1
		} else {
			s, m = utf8.DecodeRuneInString(b)
			s = unicode.ToLower(s)
		}
		if r != s {
			if r < s {
				return -1
			}
			return 1
		}
		a, b = a[n:], b[m:]
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}
