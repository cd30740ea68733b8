//go:build !windows

package winetest

// UnderWine is false: only Windows programs run under Wine.
func UnderWine() bool { return false }
