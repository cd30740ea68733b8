// Command etlscope reads Windows .etl traces (netsh trace NetTrace.etl and any
// other ETW log) on any OS and tells which TLS versions a Windows machine
// enabled and negotiated, and why a TLS connection failed.
//
// Exit status: 0 success (analyze: no TLS problem found), 1 usage error,
// 2 input file unreadable or corrupt, 3 analyze found a TLS problem.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], &streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
}
