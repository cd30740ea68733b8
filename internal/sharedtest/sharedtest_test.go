package sharedtest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDirFromEnv(t *testing.T) {
	d := t.TempDir()
	t.Setenv(EnvVar, d)
	if got := Dir(); got != d {
		t.Errorf("Dir() = %q, want %q", got, d)
	}
	t.Setenv(EnvVar, filepath.Join(d, "missing"))
	if got := Dir(); got != "" {
		t.Errorf("Dir() with missing override = %q, want empty", got)
	}
}

func TestDirNextToModule(t *testing.T) {
	root := t.TempDir()
	mod := filepath.Join(root, "main")
	sub := filepath.Join(mod, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvVar, "")
	t.Chdir(sub)
	if got := Dir(); got != "" {
		t.Errorf("Dir() without shared = %q, want empty", got)
	}
	if err := os.Mkdir(filepath.Join(root, "shared"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, want := Dir(), filepath.Join(root, "shared"); got != want {
		t.Errorf("Dir() = %q, want %q", got, want)
	}
}
