package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// analyzePath returns the trace analyze reads: its argument, or, when none
// is given, the file Microsoft's procedure leaves behind (see
// defaultTracePath) — and then it says on stderr which file that is.
func analyzePath(args []string, s *streams) (string, error) {
	if len(args) > 0 {
		return args[0], nil
	}
	p, err := defaultTracePath()
	if err != nil {
		return "", usageError(err)
	}
	fmt.Fprintf(s.Err, "No file given: analyzing %s (where netsh trace writes by default).\n", p)
	return p, nil
}

// netTraceUnder is netsh trace's default output under a
// %LOCALAPPDATA% directory: Temp\NetTraces\NetTrace.etl (the HCW
// article; providers.md §1.4).
func netTraceUnder(localAppData string) string {
	return filepath.Join(localAppData, "Temp", "NetTraces", "NetTrace.etl")
}

// defaultTraceIn returns netsh's default trace under localAppData when
// it exists.
func defaultTraceIn(localAppData string) (string, error) {
	if localAppData == "" {
		return "", errors.New("no FILE.etl given, and %LOCALAPPDATA% is not set: name the trace to analyze, or use --example")
	}
	p := netTraceUnder(localAppData)
	st, err := os.Stat(p)
	switch {
	case err != nil:
		return "", fmt.Errorf("no FILE.etl given, and netsh's default trace %s cannot be read (%w): name the trace to analyze, or use --example", p, err)
	case st.IsDir():
		return "", fmt.Errorf("no FILE.etl given, and netsh's default trace %s is a directory: name the trace to analyze, or use --example", p)
	}
	return p, nil
}
