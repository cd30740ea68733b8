package winetest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// wine8Err is the error Go's os.RemoveAll returns under Wine 8 (seen with
// Go 1.26 on Debian 12's wine 8.0~repack-4: "unlinkat
// C:\users\root\Temp\TestX\001: Invalid function.").
var wine8Err = &fs.PathError{Op: "unlinkat", Path: `C:\users\root\Temp\TestX\001`, Err: syscall.Errno(1)}

func TestIsWine8DeleteError(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"the Wine 8 error", wine8Err, true},
		{"wrapped", fmt.Errorf("cleanup: %w", wine8Err), true},
		{"another errno", &fs.PathError{Op: "unlinkat", Path: "x", Err: syscall.Errno(5)}, false},
		{"another operation", &fs.PathError{Op: "open", Path: "x", Err: syscall.Errno(1)}, false},
		{"not a PathError", syscall.Errno(1), false},
		{"nil", nil, false},
	} {
		if got := IsWine8DeleteError(tt.err); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRemoveAllFallback(t *testing.T) {
	mk := func(t *testing.T) string {
		dir := filepath.Join(TempDir(t), "d")
		if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"a.etl", filepath.Join("sub", "b.txt")} {
			if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	wine8 := func(string) error { return wine8Err }
	other := errors.New("access denied")

	t.Run("the Wine 8 error: removed entry by entry", func(t *testing.T) {
		dir := mk(t)
		var removed []string
		err := removeAll(dir, wine8, func(p string) error { removed = append(removed, p); return os.Remove(p) })
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s still there: %v", dir, err)
		}
		if len(removed) != 4 || removed[len(removed)-1] != dir {
			t.Errorf("removed %q", removed)
		}
	})
	t.Run("any other error is returned, nothing else removed", func(t *testing.T) {
		dir := mk(t)
		err := removeAll(dir, func(string) error { return other }, func(p string) error { t.Errorf("removed %s", p); return nil })
		if !errors.Is(err, other) {
			t.Errorf("error %v", err)
		}
	})
	t.Run("the fallback fails: both errors returned", func(t *testing.T) {
		dir := mk(t)
		err := removeAll(dir, wine8, func(string) error { return other })
		if !errors.Is(err, other) || !IsWine8DeleteError(err) {
			t.Errorf("error %v", err)
		}
	})
}

func TestTempDir(t *testing.T) {
	dir := TempDir(t)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Fatalf("%s: %v", dir, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}
