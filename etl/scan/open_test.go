package scan

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etlscope/etlscope/testdata"
)

// notETL is the folder of the shared fixtures that are not traces (see
// testdata/not-etl/README.md for the specs they follow).
var notETL = filepath.Join("..", "..", "testdata", "not-etl")

func TestOpenNamesOtherFileTypes(t *testing.T) {
	tests := []struct{ file, want string }{
		{"capture.pcapng", "this is a pcapng capture: open it in Wireshark"},
		{"image.png", "this is a PNG image"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(notETL, tt.file)
			_, err := Open(path, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("Open: %v; want an error naming %s and saying %q", err, path, tt.want)
			}
			// Through stdin (a pipe: spooled), the name is "stdin".
			data, _ := os.ReadFile(path)
			_, err = Open("-", io.MultiReader(bytes.NewReader(data)))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "stdin: ") {
				t.Errorf("Open(-): %v", err)
			}
		})
	}
}

func TestOpenStdin(t *testing.T) {
	// A pipe-like reader is spooled to a temporary file that Close removes.
	tr, err := Open("-", io.MultiReader(bytes.NewReader(testdata.Example)))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Name != "stdin" || tr.Header().OSBuild != 9200 {
		t.Errorf("name %q build %d", tr.Name, tr.Header().OSBuild)
	}
	tr.Close()
	// A regular file as stdin is read in place.
	fh, err := os.Open(filepath.Join("..", "..", "testdata", testdata.ExampleName))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	tr, err = Open("-", fh)
	if err != nil || tr.Header().OSBuild != 9200 {
		t.Fatalf("regular stdin: %v", err)
	}
	tr.Close()
}
