package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPcapOutputArguments: the output file is positional (etl2pcapng IN OUT)
// or -w FILE (tshark); -o is the format everywhere, so "-o json" never
// writes a file named json.
func TestPcapOutputArguments(t *testing.T) {
	path := hcwTrace(t)
	dir := tempDir(t)
	t.Chdir(dir)
	tests := []struct {
		name string
		args []string
		code int
		msg  string
		file string // written on success
	}{
		{"positional", []string{"pcap", path, "a.pcapng"}, exitOK, "wrote 6 packets to a.pcapng", "a.pcapng"},
		{"-w alias", []string{"pcap", path, "-w", "b.pcapng"}, exitOK, "wrote 6 packets", "b.pcapng"},
		{"-o pcapng is the format", []string{"pcap", path, "c.pcapng", "-o", "pcapng"}, exitOK, "", "c.pcapng"},
		{"-o json is a format error", []string{"pcap", path, "-o", "json"}, exitUsage, "-o is the output format", ""},
		{"old -o FILE usage", []string{"pcap", path, "-o", "d.pcapng"}, exitUsage, "second argument", ""},
		{"no output", []string{"pcap", path}, exitUsage, "no output file", ""},
		{"two outputs", []string{"pcap", path, "e.pcapng", "-w", "f.pcapng"}, exitUsage, "give one", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := runCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(errs, tt.msg) {
				t.Errorf("exit %d, stderr %q; want %d containing %q", code, errs, tt.code, tt.msg)
			}
			if tt.file != "" {
				if st, err := os.Stat(tt.file); err != nil || st.Size() == 0 {
					t.Errorf("%s not written: %v", tt.file, err)
				}
			}
		})
	}
	for _, never := range []string{"json", "d.pcapng", "e.pcapng", "f.pcapng"} {
		if _, err := os.Stat(filepath.Join(dir, never)); err == nil {
			t.Errorf("a file named %s was written", never)
		}
	}
	// "-" writes the capture to stdout: a pcapng Section Header Block
	// starts with block type 0x0A0D0D0A (pcapng spec, section 4.1).
	code, out, errs := runCLI(t, "pcap", path, "-")
	if code != 0 || !bytes.HasPrefix([]byte(out), []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		t.Errorf("pcap to stdout: exit %d %s, %d bytes", code, errs, len(out))
	}
}
