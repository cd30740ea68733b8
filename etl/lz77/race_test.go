//go:build race

package lz77_test

const raceEnabled = true
