//go:build !windows

package trace

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestExecRunner(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	var r ExecRunner
	out, err := r.Run(context.Background(), "sh", "-c", "echo out; echo err >&2")
	if err != nil || !strings.Contains(string(out), "out") || !strings.Contains(string(out), "err") {
		t.Errorf("output %q, %v", out, err)
	}
	out, err = r.Run(context.Background(), "sh", "-c", "echo Access is denied.; exit 5")
	if err == nil || string(out) != "Access is denied.\n" || !strings.Contains(err.Error(), `sh -c "echo Access is denied.; exit 5": exit status 5: Access is denied.`) {
		t.Errorf("failure: %q, %v", out, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := r.Run(ctx, "sleep", "10"); err == nil || time.Since(start) > 5*time.Second {
		t.Errorf("cancelled command: %v after %v", err, time.Since(start))
	}
}
