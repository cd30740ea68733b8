//go:build !windows

package trace

import "os/exec"

// ownConsole does nothing off Windows: capture does not run there.
func ownConsole(*exec.Cmd) {}
