package trace

import (
	"bufio"
	"bytes"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// HotfixQueries are the commands doctor tries, in order, to list installed
// updates: wmic (present on every OS that needs KB3140245; removed from
// recent Windows 11) and PowerShell's Get-HotFix. Both read
// Win32_QuickFixEngineering. Both print a "HotFixID" header before the
// list — the PowerShell one only after Get-HotFix succeeded — so output
// without it (an error text, nothing at all) is never read as "no
// updates installed".
var HotfixQueries = []Command{
	{Name: "wmic", Args: []string{"qfe", "get", "HotFixID"}},
	{Name: "powershell.exe", Args: []string{"-NoProfile", "-NonInteractive", "-Command", hotfixScript}},
}

// hotfixScript stops at Get-HotFix's first error (exit status 1), and
// writes the header only once the list is complete. PowerShell 2.0
// (Windows 7 / 2008 R2 as shipped) understands every part of it.
const hotfixScript = "$ErrorActionPreference = 'Stop'; $ids = @(Get-HotFix | ForEach-Object { $_.HotFixID }); 'HotFixID'; $ids"

// ParseHotfixList reads the output of a HotfixQueries command: the
// "HotFixID" header line, then one ID per line (wmic pads them with
// spaces). wmic writes UTF-16LE when its output is redirected, PowerShell
// the console code page (IDs are ASCII); both are decoded. wmic's "No
// Instance(s) Available." is an empty list. ok is false when the output
// has neither the header nor that message.
func ParseHotfixList(out []byte) (ids []string, ok bool) {
	sc := bufio.NewScanner(strings.NewReader(DecodeConsoleText(out)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
		case !ok && strings.EqualFold(line, "HotFixID"):
			ok = true
		case !ok && strings.HasPrefix(strings.ToLower(line), "no instance(s) available"):
			return nil, true
		case ok:
			ids = append(ids, line)
		}
	}
	if sc.Err() != nil {
		return nil, false
	}
	return ids, ok
}

// HasHotfix reports whether ids holds id (case-insensitive, as Windows
// compares them).
func HasHotfix(ids []string, id string) bool {
	for _, s := range ids {
		if strings.EqualFold(s, id) {
			return true
		}
	}
	return false
}

// DecodeConsoleText turns a Windows program's output into a string:
// UTF-16LE when it starts with the FF FE byte-order mark or, without one,
// when it looks like UTF-16LE (every second byte zero, as ASCII text in
// UTF-16LE is); UTF-8 otherwise, with a UTF-8 byte-order mark dropped.
// Bytes that are not valid UTF-8 are kept as U+FFFD.
func DecodeConsoleText(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xff, 0xfe}):
		return decodeUTF16LE(b[2:])
	case looksUTF16LE(b):
		return decodeUTF16LE(b)
	}
	b = bytes.TrimPrefix(b, []byte{0xef, 0xbb, 0xbf})
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\ufffd")
}

// looksUTF16LE: at least two characters, and at least 90 % of the high
// bytes are zero while the low bytes are not.
func looksUTF16LE(b []byte) bool {
	if len(b) < 4 {
		return false
	}
	var zeroHigh, zeroLow int
	for i := 0; i+1 < len(b); i += 2 {
		if b[i+1] == 0 {
			zeroHigh++
		}
		if b[i] == 0 {
			zeroLow++
		}
	}
	n := len(b) / 2
	return zeroHigh*10 >= n*9 && zeroLow*10 < n
}

func decodeUTF16LE(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return string(utf16.Decode(u))
}
