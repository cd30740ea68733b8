package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/etlscope/etlscope/internal/nettrace"
)

// localAppDataWithTrace is a %LOCALAPPDATA% holding netsh's default trace
// (the layout Microsoft's procedure leaves: Temp\NetTraces\NetTrace.etl),
// with the HCW scenario in it.
func localAppDataWithTrace(t *testing.T) string {
	dir := tempDir(t)
	p := netTraceUnder(dir)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, nettrace.HCW2012(t), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestDefaultTraceIn(t *testing.T) {
	dir := localAppDataWithTrace(t)
	if p, err := defaultTraceIn(dir); err != nil || p != filepath.Join(dir, "Temp", "NetTraces", "NetTrace.etl") {
		t.Errorf("%q, %v", p, err)
	}
	empty := tempDir(t)
	if _, err := defaultTraceIn(empty); err == nil || !strings.Contains(err.Error(), "name the trace to analyze") {
		t.Errorf("missing: %v", err)
	}
	if err := os.MkdirAll(netTraceUnder(empty), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := defaultTraceIn(empty); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
	if _, err := defaultTraceIn(""); err == nil || !strings.Contains(err.Error(), "LOCALAPPDATA") {
		t.Errorf("unset: %v", err)
	}
	var errs bytes.Buffer
	if p, err := analyzePath([]string{"given.etl"}, &streams{Err: &errs}); p != "given.etl" || err != nil || errs.Len() != 0 {
		t.Errorf("argument: %q %v %q", p, err, errs.String())
	}
}

// TestAnalyzeWithoutFile: on Windows (and under Wine in CI) analyze reads
// netsh's default trace and says so; elsewhere a file is required.
func TestAnalyzeWithoutFile(t *testing.T) {
	dir := localAppDataWithTrace(t)
	t.Setenv("LOCALAPPDATA", dir)
	code, out, errs := runCLI(t, "analyze")
	if runtime.GOOS != "windows" {
		if code != exitUsage || !strings.Contains(errs, "no trace file: give FILE.etl") {
			t.Errorf("exit %d: %s", code, errs)
		}
		return
	}
	want := filepath.Join(dir, "Temp", "NetTraces", "NetTrace.etl")
	if code != exitTLSProblem || !strings.Contains(errs, "No file given: analyzing "+want) || !strings.Contains(out, "enabled SSL3.0|TLS1.0 only") {
		t.Errorf("exit %d\n%s\n%s", code, out, errs)
	}
	t.Setenv("LOCALAPPDATA", tempDir(t))
	if code, _, errs := runCLI(t, "analyze"); code != exitUsage || !strings.Contains(errs, "cannot be read") {
		t.Errorf("no default trace: exit %d %s", code, errs)
	}
}
