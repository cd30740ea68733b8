//go:build windows

package trace

import (
	"os/exec"
	"syscall"

	"golang.org/x/sys/windows"
)

// ownConsole starts cmd in a hidden console of its own (CREATE_NO_WINDOW)
// and a new process group. Neither Ctrl-C nor the closing of the user's
// console reaches it: etlscope decides when netsh stops, and a netsh trace
// stop that is merging the trace finishes even when the console closes
// and Windows ends etlscope.
func ownConsole(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: windows.CREATE_NEW_PROCESS_GROUP | windows.CREATE_NO_WINDOW}
}
