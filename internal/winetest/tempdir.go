package winetest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// errorInvalidFunction is Windows' ERROR_INVALID_FUNCTION (1), what
// Wine's STATUS_NOT_IMPLEMENTED becomes.
const errorInvalidFunction = syscall.Errno(1)

// IsWine8DeleteError reports whether err is the one failure Wine 8 adds to
// os.RemoveAll: Go (1.25 and later) deletes each entry with
// NtSetInformationFile(FileDispositionInformationEx, class 64); Wine 8
// does not implement that class and answers STATUS_NOT_IMPLEMENTED, which
// Go does not treat as "fall back to the old way" (it does for
// STATUS_INVALID_INFO_CLASS) and returns as
// &PathError{Op: "unlinkat", Err: ERROR_INVALID_FUNCTION}. Nothing else
// matches: another operation, another errno, or no PathError.
func IsWine8DeleteError(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && pe.Op == "unlinkat" && errors.Is(pe.Err, errorInvalidFunction)
}

// TempDir is t.TempDir for tests that also run under Wine: a new directory,
// removed when the test ends. When os.RemoveAll fails with exactly the
// Wine 8 error (IsWine8DeleteError) while running under Wine, the
// directory is removed entry by entry with os.Remove (DeleteFile and
// RemoveDirectory, which Wine implements); any failure left after that,
// and any other error, fails the test as t.TempDir would.
func TempDir(t testing.TB) string {
	t.Helper()
	if !UnderWine() {
		return t.TempDir()
	}
	pattern := strings.Map(func(r rune) rune {
		if r < 0x80 && (r == '_' || r == '-' || 'a' <= r|0x20 && r|0x20 <= 'z' || '0' <= r && r <= '9') {
			return r
		}
		return '_'
	}, t.Name())
	if len(pattern) > 64 {
		pattern = pattern[:64]
	}
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		t.Fatalf("TempDir: %v", err)
	}
	t.Cleanup(func() {
		if err := removeAll(dir, os.RemoveAll, os.Remove); err != nil {
			t.Errorf("TempDir cleanup: %v", err)
		}
	})
	return dir
}

// removeAll removes dir with removeAll and, only after exactly the Wine 8
// error, again bottom-up with remove.
func removeAll(dir string, removeAll, remove func(string) error) error {
	err := removeAll(dir)
	if err == nil || !IsWine8DeleteError(err) {
		return err
	}
	var paths []string
	if werr := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		paths = append(paths, p)
		return err
	}); werr != nil {
		return errors.Join(err, werr)
	}
	for i := len(paths) - 1; i >= 0; i-- { // children before their directory
		if rerr := remove(paths[i]); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			return errors.Join(err, rerr)
		}
	}
	return nil
}
