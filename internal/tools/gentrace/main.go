// Command gentrace writes a large NetTrace-like .etl file for benchmarks:
//
//	go run ./internal/tools/gentrace -o /tmp/big.etl -size 1024
//
// The file holds DNS, TCPIP, WebIO and NDIS packet events of TLS
// connections (one in eight a TLS 1.0 client rejected with alert 70), so
// info, events and analyze all have real work to do.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/etlscope/etlscope/internal/nettrace"
)

func main() {
	out := flag.String("o", "", "output file (must not exist unless -force)")
	size := flag.Int64("size", 1024, "approximate size in MB")
	compress := flag.Bool("compress", false, "write compressed buffers")
	force := flag.Bool("force", false, "overwrite the output file")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "gentrace: -o FILE is required")
		os.Exit(1)
	}
	mode := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if *force {
		mode = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	fh, err := os.OpenFile(*out, mode, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gentrace:", err)
		os.Exit(1)
	}
	// The file itself (not a buffered writer): the writer seeks back at
	// the end to fill in the header's end time and buffer count.
	st, err := nettrace.Generate(fh, nettrace.GenOptions{Size: *size << 20, Compress: *compress})
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gentrace:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s: %d MB, %d events, %d connections\n", *out, st.Bytes>>20, st.Events, st.Connections)
}
