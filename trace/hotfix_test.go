package trace

import (
	"reflect"
	"testing"
)

func TestParseHotfixList(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ids  []string
		ok   bool
	}{
		{"wmic UTF-16LE with BOM", wmicOut("KB2919355", "KB3140245"), []string{"KB2919355", "KB3140245"}, true},
		{"wmic UTF-16LE without BOM", utf16le("HotFixID  \r\r\nKB3140245  \r\r\n"), []string{"KB3140245"}, true},
		{"wmic header only", wmicOut(), nil, true},
		{"wmic no instances", utf16le("No Instance(s) Available.\r\n"), nil, true},
		{"PowerShell", "HotFixID\r\nKB3140245\r\nKB976902\r\n", []string{"KB3140245", "KB976902"}, true},
		{"UTF-8 BOM", "\ufeffHotFixID\nKB1\n", []string{"KB1"}, true},
		{"empty", "", nil, false},
		{"IDs without header", "KB3140245\r\n", nil, false},
		{"an error text", "'wmic' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n", nil, false},
		{"Get-HotFix failed before the header", "Get-HotFix : Access is denied.\r\n", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, ok := ParseHotfixList([]byte(tt.in))
			if ok != tt.ok || !reflect.DeepEqual(ids, tt.ids) {
				t.Errorf("got %q %v, want %q %v", ids, ok, tt.ids, tt.ok)
			}
		})
	}
}

func TestDecodeConsoleText(t *testing.T) {
	for in, want := range map[string]string{
		utf16le("\ufeffHotFixID"): "HotFixID",
		utf16le("KB1\r\n"):        "KB1\r\n",
		"plain":                   "plain",
		"\xef\xbb\xbfbom":         "bom",
		"bad \xff byte":           "bad \ufffd byte",
		"\x00a":                   "\x00a",
	} {
		if got := DecodeConsoleText([]byte(in)); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

// FuzzParseHotfixList: any output decodes without panicking, and a list
// is only ever returned after its header.
func FuzzParseHotfixList(f *testing.F) {
	for _, s := range []string{wmicOut("KB3140245"), wmicOut(), "HotFixID\r\nKB1\r\n", "No Instance(s) Available.", "\xff\xfe\x00", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ids, ok := ParseHotfixList(b)
		if !ok && ids != nil {
			t.Fatalf("ids %q without ok", ids)
		}
		DecodeConsoleText(b)
	})
}
