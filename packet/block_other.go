//go:build !unix

package packet

// newBlock returns storage for blockSize summaries (on the Go heap on this
// system; see block_unix.go).
func newBlock() ([]summary, func()) { return make([]summary, blockSize), nil }
