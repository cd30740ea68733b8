package lz77

// Test-only exports for the external tests (generated_test.go), which need
// packages that import lz77 themselves.
var (
	RefDecompress = refDecompress
	OldDecompress = oldDecompress
	CheckAgainst  = checkAgainstRef
)
