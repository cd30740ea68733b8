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
	_ "time/tzdata" // --local resolves the trace's time zone on machines without a zone database (Windows)
)

// main runs with Go's default garbage collector settings: memory stays
// flat by design (streaming reads, connections folded into fixed-size
// summaries once decided), not by process-wide GOGC or GOMEMLIMIT knobs,
// which the environment may still set.
func main() {
	os.Exit(run(os.Args[1:], &streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
}
