package main

import (
	"encoding/json"
	"runtime/debug"
	"strings"
	"testing"
)

func TestReadVersion(t *testing.T) {
	// The settings are the keys `go build` stamps from git (go help buildinfo,
	// "vcs.revision", "vcs.time", "vcs.modified").
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/etlscope/etlscope", Version: "v0.3.0"},
		Settings: []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-11-25T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	v := readVersion(bi)
	want := "etlscope v0.3.0 (commit 0123456789abcdef0123456789abcdef01234567, 2026-11-25T10:00:00Z, modified) go1.26.0"
	if got := v.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if !v.Modified || v.Revision == "" || v.Time == "" {
		t.Errorf("readVersion = %+v", v)
	}
	if got := readVersion(nil).String(); got != "etlscope (unknown)" {
		t.Errorf("no build info: %q", got)
	}
}

func TestVersionCommandAndFlag(t *testing.T) {
	code, flagOut, errs := runCLI(t, "--version")
	if code != 0 || !strings.HasPrefix(flagOut, "etlscope ") {
		t.Fatalf("--version: exit %d %q %s", code, flagOut, errs)
	}
	code, cmdOut, _ := runCLI(t, "version")
	if code != 0 || cmdOut != flagOut {
		t.Errorf("version: exit %d %q, want %q", code, cmdOut, flagOut)
	}
	code, js, _ := runCLI(t, "version", "-o", "json")
	var v versionInfo
	if code != 0 || json.Unmarshal([]byte(js), &v) != nil || v.Module != "github.com/etlscope/etlscope" || v.Version == "" {
		t.Errorf("version -o json: exit %d %s", code, js)
	}
	if code, _, _ := runCLI(t, "version", "-o", "yaml"); code != exitUsage {
		t.Errorf("version -o yaml: exit %d, want %d", code, exitUsage)
	}
}
