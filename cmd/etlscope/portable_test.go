package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/etlscope/etlscope/internal/winetest"
)

// tempDir is t.TempDir that also works under Wine (see winetest.TempDir).
func tempDir(t testing.TB) string { return winetest.TempDir(t) }

// notExistText is what this OS says when path does not exist ("no such
// file or directory" on Unix, "The system cannot find the file
// specified." on Windows, "File not found." under Wine), so tests do not
// hard-code one OS's wording.
func notExistText(t testing.TB, path string) string {
	t.Helper()
	_, err := os.Open(path)
	var pe *fs.PathError
	if !errors.As(err, &pe) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s: want a not-exist error, got %v", path, err)
	}
	return pe.Err.Error()
}

// TestTempDirsPortable: the tests of this package run as a Windows binary
// under Wine in CI, where testing's own TempDir cleanup fails (Wine 8 does
// not implement the file-information class Go's unlink uses); every test
// must take its temporary directories from tempDir.
func TestTempDirsPortable(t *testing.T) {
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	bad := regexp.MustCompile(`\b(t|tb|b)\.TempDir\(\)`)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if loc := bad.FindIndex(src); loc != nil {
			t.Errorf("%s: %s: use tempDir(t), which works under Wine", f, src[loc[0]:loc[1]])
		}
	}
}
