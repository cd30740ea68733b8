package diagnose_test

import (
	"encoding/binary"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/internal/etltest"
	"github.com/etlscope/etlscope/internal/nettrace"
)

// TestProcessNamesFromKernelProcess: a Microsoft-Windows-Kernel-Process
// ProcessRundown event (id 15) names the process whose WinHTTP enabled
// SSL 3.0|TLS 1.0, so the processes table and the verdict say which
// program it was.
func TestProcessNamesFromKernelProcess(t *testing.T) {
	b := nettrace.New(etltest.Options{Build: 9200})
	p := nettrace.PowerShell
	data := binary.LittleEndian.AppendUint32(nil, p.PID)
	data = append(data, make([]byte, 16)...) // CreateTime, ParentProcessID, SessionID
	for _, u := range utf16.Encode([]rune(`\Device\HarddiskVolume2\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`)) {
		data = binary.LittleEndian.AppendUint16(data, u)
	}
	data = append(data, 0, 0)
	system := nettrace.Proc{PID: 4, TID: 8}
	b.Event(system, etl.MustParseGUID("22fb2cd6-0e7b-422b-a0c7-2fad1fd0e716"), 15, 0, 4, 0, 0, 0x10, data)
	b.WebIOACHStart(p, nettrace.ACH{Connection: 1, EnabledProtocols: 0xA0, Version: 1})
	trace, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	a := analyzeBytes(t, trace, nil)
	if len(a.Processes) != 1 || a.Processes[0].Name != "powershell.exe" {
		t.Fatalf("processes %+v", a.Processes)
	}
	if len(a.Verdicts) == 0 || !strings.Contains(a.Verdicts[0].Title, "PID 4321 (powershell.exe)") {
		t.Errorf("verdicts %+v", a.Verdicts)
	}
}
