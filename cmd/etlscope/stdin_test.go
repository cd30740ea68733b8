package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etlscope/etlscope/testdata"
)

// runCLIIn runs etlscope with stdin reading from in.
func runCLIIn(t *testing.T, in []byte, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &streams{In: bytes.NewReader(in), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

// TestStdinAndNotETL: "-" reads the trace from stdin, and a file that is
// not a trace is named (fixtures: testdata/not-etl, built from the pcapng
// and PNG specs).
func TestStdinAndNotETL(t *testing.T) {
	code, out, errs := runCLIIn(t, testdata.Example, "analyze", "-")
	if code != exitTLSProblem || !strings.Contains(out, "file:      stdin") || !strings.Contains(out, "alert 70") {
		t.Errorf("analyze - : exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs := runCLIIn(t, testdata.Example, "events", "-", "-o", "csv", "-n", "2"); code != 0 || !strings.HasPrefix(out, "time,") {
		t.Errorf("events - : exit %d\n%s%s", code, out, errs)
	}
	notETL := filepath.Join("..", "..", "testdata", "not-etl")
	for file, want := range map[string]string{"capture.pcapng": "pcapng capture: open it in Wireshark", "image.png": "PNG image"} {
		path := filepath.Join(notETL, file)
		if code, _, errs := runCLI(t, "info", path); code != exitBadInput || !strings.Contains(errs, want) || !strings.Contains(errs, path) {
			t.Errorf("info %s: exit %d %q", file, code, errs)
		}
		data, _ := os.ReadFile(path)
		if code, _, errs := runCLIIn(t, data, "analyze", "-"); code != exitBadInput || !strings.Contains(errs, "stdin: not an ETL trace: this is a "+strings.Split(want, ":")[0]) {
			t.Errorf("analyze - < %s: exit %d %q", file, code, errs)
		}
	}
}
