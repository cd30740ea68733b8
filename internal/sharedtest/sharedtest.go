// Package sharedtest locates the project's read-only reference material
// (../shared next to the repository: real Windows .etl samples, manifests and
// docs) for tests. Tests that need it skip with a clear message when it is
// absent, so the suite still runs on a bare checkout.
package sharedtest

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvVar overrides the location of the shared folder.
const EnvVar = "ETLSCOPE_SHARED"

// Dir returns the shared folder: $ETLSCOPE_SHARED, or "../shared" next to the
// directory holding go.mod. It returns "" when neither exists.
func Dir() string {
	if d := os.Getenv(EnvVar); d != "" {
		if isDir(d) {
			return d
		}
		return ""
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for d := wd; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			s := filepath.Join(filepath.Dir(d), "shared")
			if isDir(s) {
				return s
			}
			return ""
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// Path returns the path of elem inside the shared folder, or skips the test
// with a message naming what is missing.
func Path(tb testing.TB, elem ...string) string {
	tb.Helper()
	d := Dir()
	if d == "" {
		tb.Skipf("skipping: reference data ../shared (or $%s) not found; it holds the real Windows .etl samples", EnvVar)
	}
	p := filepath.Join(append([]string{d}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("skipping: %s not found in the shared reference data", p)
	}
	return p
}

// ETLDir returns ../shared/testdata/etl or skips the test.
func ETLDir(tb testing.TB) string {
	tb.Helper()
	return Path(tb, "testdata", "etl")
}
