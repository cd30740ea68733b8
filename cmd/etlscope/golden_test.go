package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/etlscope/etlscope/internal/etltest"
	goldenfile "github.com/etlscope/etlscope/internal/golden"
	"github.com/etlscope/etlscope/internal/nettrace"
)

func golden(t *testing.T, name, got string) { t.Helper(); goldenfile.Check(t, name, []byte(got)) }

// TestInfoGolden renders info for a small deterministic trace in every
// format.
func TestInfoGolden(t *testing.T) {
	b := nettrace.New(etltest.Options{Build: 9200, CPUs: 2, EventsLost: 3})
	b.WebIOACHStart(nettrace.PowerShell, nettrace.ACH{Connection: 1, EnabledProtocols: 0xA0, Version: 1})
	b.DNSQueryDone(nettrace.PowerShell, "outlook.office365.com", 1, 0, "52.97.1.2;")
	b.SchannelAlertReceived(nettrace.PowerShell, nil, 70)
	data, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(tempDir(t), "NetTrace.etl")
	os.WriteFile(path, data, 0o644)
	for _, format := range []string{"table", "json", "csv", "markdown", "html"} {
		code, out, errs := runCLI(t, "info", path, "--redact", "-o", format)
		if code != 0 {
			t.Fatalf("%s: exit %d %s", format, code, errs)
		}
		golden(t, "info."+format, out)
	}
}
