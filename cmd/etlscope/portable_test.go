package main

import (
	"errors"
	"io/fs"
	"os"
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
