package diagnose

import (
	"encoding/binary"
	"path/filepath"
	"testing"
	"unicode/utf16"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/internal/sharedtest"
)

func utf16z(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return append(b, 0, 0)
}

func TestProcessImage(t *testing.T) {
	le := binary.LittleEndian
	// Microsoft-Windows-Kernel-Process event 1 version 0 (ProcessStartArgs
	// in the provider's manifest): ProcessID, CreateTime, ParentProcessID,
	// SessionID, ImageName.
	v0 := le.AppendUint32(nil, 4321)
	v0 = le.AppendUint64(v0, 0x01da7460_00000000)
	v0 = le.AppendUint32(v0, 1000)
	v0 = le.AppendUint32(v0, 1)
	v0 = append(v0, utf16z(`\Device\HarddiskVolume2\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`)...)
	// Version 3 (Windows 10): sequence numbers, flags, elevation and a
	// MandatoryLabel SID (S-1-16-12288, high integrity) come before the
	// image; the checksum, time stamp and package names follow it.
	v3 := le.AppendUint32(nil, 5000)
	v3 = le.AppendUint64(v3, 77)
	v3 = le.AppendUint64(v3, 0x01da7460_00000000)
	v3 = le.AppendUint32(v3, 1000)
	v3 = le.AppendUint64(v3, 76)
	v3 = le.AppendUint32(v3, 1)
	v3 = le.AppendUint32(v3, 0)
	v3 = le.AppendUint32(v3, 2)
	v3 = le.AppendUint32(v3, 1)
	v3 = append(v3, 1, 1, 0, 0, 0, 0, 0, 16, 0x00, 0x30, 0, 0)
	v3 = append(v3, utf16z(`\Device\HarddiskVolume3\Program Files\Microsoft\Exchange Server\V15\Bin\HybridConfigurationWizard.exe`)...)
	v3 = le.AppendUint32(v3, 0)
	v3 = le.AppendUint32(v3, 0)
	v3 = append(v3, utf16z("")...)
	// The kernel logger's Process class, DCStart (rundown), 64-bit:
	// UniqueProcessKey, ProcessId, ParentId, SessionId, ExitStatus,
	// DirectoryTableBase, Flags, a TOKEN_USER with its SID, ImageFileName.
	mof := le.AppendUint64(nil, 0xffff8000_12345678)
	mof = le.AppendUint32(mof, 668)
	mof = le.AppendUint32(mof, 540)
	mof = le.AppendUint32(mof, 0)
	mof = le.AppendUint32(mof, 0x103)
	mof = le.AppendUint64(mof, 0x1aa000)
	mof = le.AppendUint32(mof, 0)
	mof = append(mof, make([]byte, 16)...)
	mof = append(mof, 1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0) // S-1-5-18
	mof = append(append(mof, "csrss.exe"...), 0)
	mof = append(mof, utf16z(`%SystemRoot%\system32\csrss.exe ObjectDirectory=\Windows`)...)

	tests := []struct {
		name string
		ev   etl.Event
		pid  uint32
		want string
	}{
		{"Kernel-Process v0", etl.Event{Kind: etl.KindEventHeader, Provider: kernelProcessProvider, ID: 1, UserData: v0}, 4321, "powershell.exe"},
		{"Kernel-Process v3", etl.Event{Kind: etl.KindEventHeader, Provider: kernelProcessProvider, ID: 15, Version: 3, UserData: v3}, 5000, "HybridConfigurationWizard.exe"},
		{"kernel Process DCStart", etl.Event{Kind: etl.KindSystem, Provider: kernelProcessClass, Opcode: 3, PointerSize: 8, UserData: mof}, 668, "csrss.exe"},
	}
	for _, tt := range tests {
		if !isProcessNameEvent(&tt.ev) {
			t.Errorf("%s: not taken as a process event", tt.name)
		}
		pid, name, ok := processImage(&tt.ev)
		if !ok || pid != tt.pid || name != tt.want {
			t.Errorf("%s: %d %q %v, want %d %q", tt.name, pid, name, ok, tt.pid, tt.want)
		}
	}
	// Garbage never panics and names nothing.
	for _, p := range [][]byte{nil, {1}, {1, 2, 3, 4, 0xff, 0xfe}, make([]byte, 64)} {
		ev := etl.Event{Kind: etl.KindEventHeader, Provider: kernelProcessProvider, ID: 1, UserData: p}
		if _, name, ok := processImage(&ev); ok {
			t.Errorf("%x: named %q", p, name)
		}
	}
}

// TestProcessImageReal reads the process rundown of a real NT Kernel Logger
// trace: most DCStart events name an executable (System, Idle, Registry and
// MemCompression have no .exe).
func TestProcessImageReal(t *testing.T) {
	f, err := etl.Open(filepath.Join(sharedtest.ETLDir(t), "kernel-win10-19041.etl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names := map[string]bool{}
	for ev, err := range f.Events(etl.ReadOptions{}) {
		if err != nil || !isProcessNameEvent(ev) {
			continue
		}
		if _, name, ok := processImage(ev); ok {
			names[name] = true
		}
	}
	for _, want := range []string{"smss.exe", "csrss.exe", "wininit.exe", "services.exe", "lsass.exe"} {
		if !names[want] {
			t.Errorf("no %s among %d names", want, len(names))
		}
	}
}
