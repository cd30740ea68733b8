package trace

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Runner runs a program and returns what it printed. Everything capture and
// doctor run goes through it, so tests replace it with a fake that records
// the exact argv sequence.
type Runner interface {
	Run(ctx context.Context, name string, args ...string) (stdout []byte, err error)
}

// ExecRunner runs real programs with os/exec. The output is standard output
// and standard error together (netsh writes its messages to both), and it
// is returned on failure too.
//
// On Windows the programs run in a hidden console of their own, so a
// Ctrl-C, or the closing of the console, reaches etlscope only: etlscope
// then stops the trace itself, and neither a second Ctrl-C nor the console
// closing aborts the netsh trace stop that is merging the trace. A
// cancelled ctx still kills the program.
type ExecRunner struct{}

// Run implements Runner.
func (ExecRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	ownConsole(cmd)
	// A program started by the reproduction command may keep the output
	// pipe open after the command itself ended; don't wait for it forever.
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if len(msg) > 2000 {
			msg = msg[:2000] + " …"
		}
		if msg != "" {
			return out, fmt.Errorf("%s: %w: %s", Command{name, args}, err, msg)
		}
		return out, fmt.Errorf("%s: %w", Command{name, args}, err)
	}
	return out, nil
}
