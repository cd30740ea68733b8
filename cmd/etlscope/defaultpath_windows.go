//go:build windows

package main

import "os"

// defaultTracePath is %LOCALAPPDATA%\Temp\NetTraces\NetTrace.etl, where
// `netsh trace start` without tracefile= writes (Microsoft's HCW article).
func defaultTracePath() (string, error) {
	return defaultTraceIn(os.Getenv("LOCALAPPDATA"))
}
