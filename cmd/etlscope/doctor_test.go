package main

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"
)

type fakeReg map[string]uint32

func (r fakeReg) DWORD(root, path, name string) (uint32, bool, error) {
	v, ok := r[root+`\`+path+`\`+name]
	return v, ok, nil
}

func TestDoctorCommand(t *testing.T) {
	m := realMachine()
	m.system, m.registry, m.runner = fakeSys{9200}, fakeReg{}, &fakeNetsh{t: t}
	code, out, _ := runOn(t, m, "doctor")
	for _, s := range []string{"KB3140245", `reg add "HKLM\SOFTWARE\Wow6432Node\Microsoft\Windows\CurrentVersion\Internet Settings\WinHttp" /v DefaultSecureProtocols /t REG_DWORD /d 0x00000A80 /f`,
		"problem", "[believed]", "Believed, not verified:", "Also recommended"} {
		if !strings.Contains(out, s) {
			t.Errorf("doctor on 2012 lacks %q", s)
		}
	}
	if code != exitTLSProblem {
		t.Errorf("doctor on 2012: exit %d\n%s", code, out)
	}
	m.system = fakeSys{17763}
	code, out, _ = runOn(t, m, "doctor", "-o", "json")
	var d struct {
		Problem bool
		Checks  []struct{ Setting, Status string }
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil || code != 0 || d.Problem || len(d.Checks) < 10 || d.Checks[0].Status != "info" {
		t.Errorf("doctor on 2019: exit %d, %v\n%s", code, err, out)
	}
	code, out, _ = runOn(t, m, "doctor", "-o", "csv")
	if code != 0 || !strings.HasPrefix(out, "area,setting,value,status,note\n") || strings.Contains(out, "Believed") {
		t.Errorf("doctor csv: exit %d\n%s", code, out)
	}
	if code, _, _ := runOn(t, m, "doctor", "-o", "yaml"); code != exitUsage {
		t.Errorf("bad format: exit %d", code)
	}
	if runtime.GOOS == "windows" {
		return // the real doctor would read this machine
	}
	m = nil // the real machine
	if code, _, errs := runOn(t, m, "doctor"); code != exitUsage || !strings.Contains(errs, "Windows only") {
		t.Errorf("doctor off Windows: exit %d %s", code, errs)
	}
}
