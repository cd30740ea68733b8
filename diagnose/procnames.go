package diagnose

import (
	"bytes"
	"encoding/binary"
	"strings"
	"unicode/utf16"

	"github.com/etlscope/etlscope/etl"
)

// Sources of process names besides the TLS providers' own (Schannel's
// CallerProcessImageName, WinHttp's ProcessName).
var (
	// kernelProcessProvider is Microsoft-Windows-Kernel-Process: event 1
	// ProcessStart and 15 ProcessRundown start with the UInt32 ProcessID and
	// carry the image as the UnicodeString ImageName (a \Device\… path);
	// the fields between drift across versions (ProcessSequenceNumber,
	// Flags, elevation, MandatoryLabel SID from version 1 on).
	kernelProcessProvider = etl.MustParseGUID("22fb2cd6-0e7b-422b-a0c7-2fad1fd0e716")
	// kernelProcessClass is the NT Kernel Logger's Process MOF class:
	// Start (opcode 1) and the rundown DCStart (3) of Process_V*_TypeGroup1
	// are UniqueProcessKey (pointer), ProcessId (UInt32), …, a SID of
	// variable length, then ImageFileName as a NUL-terminated ANSI string.
	kernelProcessClass = etl.KernelGroupGUID(0x03)
)

// Event ids and opcodes of those sources.
const (
	kernelProcessStart   = 1
	kernelProcessRundown = 15
	mofProcessStart      = 1
	mofProcessDCStart    = 3
)

// maxProcessNames bounds the process names a diagnosis keeps.
const maxProcessNames = 1 << 16

// isProcessNameEvent reports whether ev may name a process.
func isProcessNameEvent(ev *etl.Event) bool {
	switch ev.Provider {
	case kernelProcessProvider:
		return ev.ID == kernelProcessStart || ev.ID == kernelProcessRundown
	case kernelProcessClass:
		return ev.Kind != etl.KindEventHeader && (ev.Opcode == mofProcessStart || ev.Opcode == mofProcessDCStart)
	}
	return false
}

// processImage returns the process id and image file name (base name) an
// event names. The image is found by its shape, an executable's path or
// name, rather than at a fixed offset, because the fields before it change
// size between Windows builds and carry a variable-length SID.
func processImage(ev *etl.Event) (uint32, string, bool) {
	p := ev.UserData
	switch ev.Provider {
	case kernelProcessProvider:
		if len(p) < 4 {
			return 0, "", false
		}
		name := findUTF16Image(p[4:])
		return binary.LittleEndian.Uint32(p), name, name != ""
	case kernelProcessClass:
		ps := ev.PointerSize
		if ps != 4 && ps != 8 {
			ps = 8
		}
		if len(p) < ps+4 {
			return 0, "", false
		}
		name := findANSIImage(p[ps+4:])
		return binary.LittleEndian.Uint32(p[ps:]), name, name != ""
	}
	return 0, "", false
}

// looksLikeImage reports whether s is an executable's name or path.
func looksLikeImage(s string) bool {
	low := strings.ToLower(s)
	if !(strings.HasSuffix(low, ".exe") || strings.HasSuffix(low, ".dll") || strings.HasSuffix(low, ".com")) || len(s) < 5 {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0xfffd {
			return false
		}
	}
	return true
}

// findUTF16Image returns the base name of the first NUL-terminated UTF-16
// string in p, at an even offset, that looks like an executable.
func findUTF16Image(p []byte) string {
	for start := 0; start+2 <= len(p); start += 2 {
		var u []uint16
		end := start
		for ; end+2 <= len(p); end += 2 {
			c := binary.LittleEndian.Uint16(p[end:])
			if c == 0 {
				break
			}
			u = append(u, c)
			if len(u) > 1024 {
				break
			}
		}
		if s := string(utf16.Decode(u)); looksLikeImage(s) {
			return baseName(s)
		}
		if end > start {
			start = end // skip the rest of a string that is not an image
		}
	}
	return ""
}

// findANSIImage returns the base name of the first NUL-terminated ANSI
// string in p that looks like an executable.
func findANSIImage(p []byte) string {
	for len(p) > 0 {
		i := bytes.IndexByte(p, 0)
		if i < 0 {
			i = len(p)
		}
		if s := string(p[:i]); looksLikeImage(s) {
			return baseName(s)
		}
		if i == len(p) {
			break
		}
		p = p[i+1:]
	}
	return ""
}
