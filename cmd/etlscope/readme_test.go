package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/etlscope/etlscope/trace"
)

// TestREADMEQuickStart keeps the README's two quick-start commands true:
// the first runs the main job on the embedded example, the second is the
// test command .ci/run runs.
func TestREADMEQuickStart(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	ci, err := os.ReadFile(filepath.Join("..", "..", ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	qs, _, _ := strings.Cut(string(readme)[strings.Index(string(readme), "## Quick start"):], "\n## ")
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)\n```").FindAllStringSubmatch(qs, -1)
	if len(blocks) != 2 {
		t.Fatalf("the quick start has %d sh blocks, want 2 (run the main job, run the tests)", len(blocks))
	}
	if run := blocks[0][1]; run != "go run ./cmd/etlscope analyze --example" {
		t.Errorf("first command %q", run)
	}
	// The command runs verbatim: the CLI part of it is tested here, the
	// module part by the go tool itself.
	if code, out, errs := runCLI(t, "analyze", "--example"); code != exitTLSProblem || !strings.Contains(out, "TLS PROBLEM FOUND") {
		t.Errorf("analyze --example: exit %d\n%s%s", code, out, errs)
	}
	test := blocks[1][1]
	if !strings.Contains(test, "-count=1") || !regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(test)+`$`).Match(ci) {
		t.Errorf("README test command %q is not a line of .ci/run (or uses the test cache)", test)
	}
	if !strings.Contains(qs, "$(go env GOPATH)/bin") {
		t.Error("the quick start does not say where go install puts the binary")
	}
}

// TestREADMECaptureExample: the README's capture example reproduces
// through WinHTTP with the command the CLI suggests (capture --help), not
// through .NET's HTTP stack (Invoke-WebRequest), whose TLS versions the
// WinHTTP keys do not govern.
func TestREADMECaptureExample(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if want := `etlscope capture --run "` + trace.SuggestedRun + `"`; !strings.Contains(string(readme), want) {
		t.Errorf("README lacks the capture example %s", want)
	}
	if strings.Contains(string(readme), `--run "Invoke-WebRequest`) {
		t.Error("README suggests reproducing with Invoke-WebRequest")
	}
}
