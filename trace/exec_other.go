//go:build !windows

package trace

import "os/exec"

// ownProcessGroup does nothing off Windows: capture does not run there.
func ownProcessGroup(*exec.Cmd) {}
