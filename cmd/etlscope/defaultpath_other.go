//go:build !windows

package main

import "errors"

// defaultTracePath: off Windows there is no netsh default to fall back to.
func defaultTracePath() (string, error) {
	return "", errors.New("requires a FILE.etl argument (only on Windows does analyze default to netsh's %LOCALAPPDATA%\\Temp\\NetTraces\\NetTrace.etl)")
}
