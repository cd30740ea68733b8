// Package testdata holds the test data that more than one package of
// etlscope uses, in the one place a newcomer looks for it:
//
//   - NetTrace-hcw2012.etl: the seed case, written by the project's own
//     NetTrace writer (internal/nettrace.HCW2012): the Exchange Hybrid
//     Configuration Wizard on Windows Server 2012 (build 9200), WinHTTP
//     EnabledProtocols 0xA0 (SSL 3.0|TLS 1.0), a TLS 1.0 ClientHello to
//     outlook.office365.com answered by alert 70 (protocol_version).
//     `etlscope analyze --example` reads the copy embedded here. A test in
//     cmd/etlscope regenerates it and fails when the committed file no
//     longer says the same thing (go generate rewrites it).
//   - not-etl/: files people hand to etlscope by mistake (a pcapng capture,
//     a PNG image), built byte by byte from their specs, for the tests that
//     check that etlscope names them.
//
// Real Windows samples are not ours to ship: they stay in ../shared (see
// internal/sharedtest).
//
// The go tool skips directories named testdata when expanding ./..., but
// the package can be imported by its path.
package testdata

import _ "embed"

//go:generate go test -count=1 -run ^TestExampleTrace$ ../cmd/etlscope -update

// ExampleName is the file name of the embedded seed-case trace.
const ExampleName = "NetTrace-hcw2012.etl"

// Example is the seed-case NetTrace (see the package documentation).
//
//go:embed NetTrace-hcw2012.etl
var Example []byte
