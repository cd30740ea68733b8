package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/etlscope/etlscope/internal/nettrace"
	"github.com/etlscope/etlscope/testdata"
)

// exampleFile is the committed seed-case trace that --example embeds.
var exampleFile = filepath.Join("..", "..", "testdata", testdata.ExampleName)

// TestExampleTrace keeps testdata/NetTrace-hcw2012.etl in step with the
// writer that made it (nettrace.HCW2012): the handshake inside is a real Go
// TLS exchange with fresh randoms and keys, so the bytes differ on every
// run, but the diagnosis of a fresh copy must equal the diagnosis of the
// committed one. With -update (go generate ./testdata) it rewrites the
// file.
func TestExampleTrace(t *testing.T) {
	analysis := func(path string) map[string]any {
		t.Helper()
		code, out, errs := runCLI(t, "analyze", "-o", "json", path)
		if code != exitTLSProblem {
			t.Fatalf("analyze %s: exit %d, want %d (problem found)\n%s", path, code, exitTLSProblem, errs)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "file")
		return m
	}
	freshData := nettrace.HCW2012(t)
	fresh := filepath.Join(tempDir(t), "NetTrace.etl")
	os.WriteFile(fresh, freshData, 0o644)
	want := analysis(fresh)
	update := flag.Lookup("update") != nil && flag.Lookup("update").Value.String() == "true"
	if _, err := os.Stat(exampleFile); err != nil && !update {
		t.Fatalf("%v (run go generate ./testdata)", err)
	}
	if got := analysis(exampleFile); !reflect.DeepEqual(got, want) {
		if update {
			// Rewritten only when it says something else: the handshake's
			// random bytes alone are no reason to churn a binary file.
			if err := os.WriteFile(exampleFile, freshData, 0o644); err != nil {
				t.Fatal(err)
			}
			return // the binary embeds the old copy until it is rebuilt
		}
		gb, _ := json.MarshalIndent(got, "", " ")
		wb, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("testdata/%s is stale: run go generate ./testdata\n--- committed ---\n%s\n--- fresh ---\n%s", testdata.ExampleName, gb, wb)
	}
	committed, _ := os.ReadFile(exampleFile)
	if !update && string(committed) != string(testdata.Example) {
		t.Error("the embedded example differs from the file on disk")
	}
}

// TestAnalyzeExample is the README quick start: `etlscope analyze
// --example` diagnoses the seed case from the embedded trace.
func TestAnalyzeExample(t *testing.T) {
	code, out, errs := runCLI(t, "analyze", "--example")
	if code != exitTLSProblem {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitTLSProblem, out, errs)
	}
	for _, want := range []string{"Server 2012", "build 9200", "0xa0", "outlook.office365.com", "TLS 1.0", "alert 70", "KB3140245", "DefaultSecureProtocols"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCLI(t, "analyze", "--example", "-o", "json")
	var doc struct {
		OS       struct{ Build int }
		Verdicts []struct{ Kind string }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != exitTLSProblem || doc.OS.Build != 9200 || len(doc.Verdicts) == 0 || doc.Verdicts[0].Kind != "winhttp_tls12_disabled" {
		t.Errorf("json: exit %d %+v %v", code, doc, err)
	}
	// The other reading commands take --example too; a file and --example
	// together, or neither, is a usage error.
	for _, args := range [][]string{{"info", "--example"}, {"events", "--example", "-n", "3"}, {"conversations", "--example"}} {
		if code, _, errs := runCLI(t, args...); code != 0 {
			t.Errorf("%v: exit %d %s", args, code, errs)
		}
	}
	if code, _, errs := runCLI(t, "analyze", "--example", exampleFile); code != exitUsage || !strings.Contains(errs, "give no file") {
		t.Errorf("--example with a file: exit %d %s", code, errs)
	}
	if code, _, errs := runCLI(t, "analyze"); code != exitUsage || !strings.Contains(errs, "--example") {
		t.Errorf("no file: exit %d %s", code, errs)
	}
}
