// Command etlscope reads Windows .etl traces (netsh trace NetTrace.etl and any
// other ETW log) on any OS and tells which TLS versions a Windows machine
// enabled and negotiated, and why a TLS connection failed.
//
// Exit status: 0 success (analyze: no TLS problem found in a complete trace),
// 1 usage error, 2 input file unreadable, 3 analyze found a TLS problem,
// 4 analyze cannot tell (the trace is incomplete or lacks what it needs).
package main

import (
	"os"
	"runtime/debug"
	_ "time/tzdata" // --local resolves the trace's time zone on machines without a zone database (Windows)
)

// gcPercent is the garbage collector target etlscope runs with unless
// GOGC says otherwise: reading a trace allocates short-lived buffers
// quickly while the live data stays small, so collecting a little earlier
// keeps the process's memory close to what it really needs.
const gcPercent = 50

// memoryLimit is the soft memory limit unless GOMEMLIMIT is set. Live
// data stays well below it on ordinary traces; on traces with tens of
// thousands of TCP connections the collector works harder to stay under
// it (Go caps the collector's CPU share, so this never stalls).
const memoryLimit = 84 << 20

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	os.Exit(run(os.Args[1:], &streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
}
