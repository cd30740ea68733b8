//go:build unix

package packet

import (
	"syscall"
	"unsafe"
)

// newBlock returns storage for blockSize summaries outside the Go heap
// (an anonymous private mapping, zeroed, its pages resident only once
// written) and the function that releases it. Summaries hold no pointers,
// so the garbage collector never needs to see them; kept out of its heap,
// they do not count toward its goal either: with Go's default GC settings
// the heap may grow to twice its live size before a collection, and the
// summaries of 100 000 connections would otherwise double with it.
// Without a mapping (mmap refused) the storage is an ordinary slice.
func newBlock() ([]summary, func()) {
	size := blockSize * int(unsafe.Sizeof(summary{}))
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil || len(b) < size {
		return make([]summary, blockSize), nil
	}
	return unsafe.Slice((*summary)(unsafe.Pointer(unsafe.SliceData(b))), blockSize), func() { _ = syscall.Munmap(b) }
}
