package filters

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// containsFoldRef is the obvious (allocating, quadratic) definition: some
// substring of s starting and ending at rune boundaries equals needle under
// strings.EqualFold.
func containsFoldRef(s, needle string) bool {
	if needle == "" {
		return true
	}
	for i := 0; i <= len(s); i++ {
		if i < len(s) && !utf8.RuneStart(s[i]) {
			continue
		}
		for j := i; j <= len(s); j++ {
			if (j == len(s) || utf8.RuneStart(s[j])) && strings.EqualFold(s[i:j], needle) {
				return true
			}
		}
	}
	return false
}

func prefixFoldRef(s, p string) bool {
	for j := 0; j <= len(s); j++ {
		if (j == len(s) || utf8.RuneStart(s[j])) && strings.EqualFold(s[:j], p) {
			return true
		}
	}
	return false
}

func suffixFoldRef(s, p string) bool {
	for i := 0; i <= len(s); i++ {
		if (i == len(s) || utf8.RuneStart(s[i])) && strings.EqualFold(s[i:], p) {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func sign(c int) int { return min(max(c, -1), 1) }

func checkFold(t *testing.T, s, needle string) {
	t.Helper()
	if !utf8.ValidString(s) || !utf8.ValidString(needle) {
		return // folding of invalid UTF-8 is not defined by the reference
	}
	f := newFolder(needle)
	if got, want := f.in(s), containsFoldRef(s, needle); got != want {
		t.Errorf("contains(%q, %q) = %v, want %v", s, needle, got, want)
	}
	if got, want := prefixFold(s, needle), prefixFoldRef(s, needle); got != want {
		t.Errorf("prefixFold(%q, %q) = %v, want %v", s, needle, got, want)
	}
	if got, want := suffixFold(s, needle), suffixFoldRef(s, needle); got != want {
		t.Errorf("suffixFold(%q, %q) = %v, want %v", s, needle, got, want)
	}
	if isASCII(s) && isASCII(needle) {
		if got, want := sign(compareFold(s, needle)), strings.Compare(strings.ToLower(s), strings.ToLower(needle)); got != want {
			t.Errorf("compareFold(%q, %q) = %d, want %d", s, needle, got, want)
		}
	}
}

func TestFold(t *testing.T) {
	cases := [][2]string{
		{"EnabledProtocols 0xa0", "enabledprotocols"},
		{"xxEnAbLeD", "enabled"},
		{"abc", ""},
		{"", "a"},
		{"aab", "ab"},
		{"300\u212A", "300k"},  // Kelvin sign
		{"300k", "300\u212A"},  // and back
		{"Straße", "STRAẞE"},   // capital sharp s
		{"ſtop", "STOP"},       // long s
		{"École", "éCOLE"},     // 2-byte runes
		{"日本語テキスト", "テキ"},      // no case
		{"ΣΊΣΥΦΟΣ", "σίσυφος"}, // final sigma folds too
		{"ab\xffcd", "cd"},     // invalid UTF-8 in s
		{"AbC", "abcd"},        // needle longer
	}
	for _, c := range cases {
		checkFold(t, c[0], c[1])
	}
}

func FuzzFold(f *testing.F) {
	f.Add("EnabledProtocols 0xa0", "PROTO")
	f.Add("300\u212A", "k")
	f.Add("Straße ſ", "SS")
	f.Fuzz(func(t *testing.T, s, needle string) {
		if len(s) > 64 || len(needle) > 16 {
			return
		}
		checkFold(t, s, needle)
	})
}

func TestParseNum(t *testing.T) {
	tests := []struct {
		in   string
		want val
		ok   bool
	}{
		{"728", intVal(728), true},
		{"0x2d8", intVal(728), true},
		{"0X2D8", intVal(728), true},
		{"  0xa80 (TLS1.0|TLS1.1|TLS1.2)", intVal(0xa80), true},
		{"-5", intVal(-5), true},
		{"+5", intVal(5), true},
		{"1.5", floatVal(1.5), true},
		{"-0.25", floatVal(-0.25), true},
		{"true", intVal(1), true},
		{"FALSE", intVal(0), true},
		{"18446744073709551615", uintVal(1<<64 - 1), true},
		{"0xffffffffffffffff", uintVal(1<<64 - 1), true},
		{"-9223372036854775808", intVal(-1 << 63), true},
		{"18446744073709551616", val{}, false},
		{"0x10000000000000000", val{}, false},
		{"-9223372036854775809", val{}, false},
		{"", val{}, false},
		{"-", val{}, false},
		{"0x", val{}, false},
		{"1.", val{}, false},
		{".5", val{}, false},
		{"1e5", val{}, false},
		{"TLS 1.2", val{}, false},
		{"12ab", val{}, false},
	}
	for _, tt := range tests {
		got, ok := parseNum(tt.in)
		if ok != tt.ok || ok && got != tt.want {
			t.Errorf("parseNum(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCompareNumbers(t *testing.T) {
	big := uintVal(1 << 63)
	tests := []struct {
		a, b val
		op   cmpOp
		want bool
	}{
		{intVal(-1), big, opLt, true},
		{big, intVal(-1), opGt, true},
		{big, big, opEq, true},
		{uintVal(1<<64 - 1), big, opGt, true},
		{floatVal(1.5), intVal(1), opGt, true},
		{intVal(2), floatVal(2), opEq, true},
		{floatVal(0), strVal("NaN"), opNe, false}, // not convertible
		{strVal("10"), strVal("9"), opLt, true},   // two strings compare as text
		{strVal("0x10"), intVal(16), opEq, true},
	}
	for _, tt := range tests {
		if got := compare(tt.a, tt.b, tt.op); got != tt.want {
			t.Errorf("compare(%+v, %+v, %d) = %v, want %v", tt.a, tt.b, tt.op, got, tt.want)
		}
	}
}
