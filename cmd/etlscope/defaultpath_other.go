//go:build !windows

package main

import "errors"

// defaultTracePath: off Windows there is no netsh default to fall back to.
func defaultTracePath() (string, error) {
	return "", errors.New("no trace file: give FILE.etl (- for stdin), or --example for the embedded example trace (only on Windows does analyze default to netsh's %LOCALAPPDATA%\\Temp\\NetTraces\\NetTrace.etl)")
}
