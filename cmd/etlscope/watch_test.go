package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/etlscope/etlscope/etl/decode"
	"github.com/etlscope/etlscope/trace"
)

func TestWatchCommand(t *testing.T) {
	old := watchDeps
	t.Cleanup(func() { watchDeps = old })
	watchDeps.watch = func(ctx context.Context, o trace.WatchOptions) error {
		for _, mask := range []string{"160", "2048"} {
			e := trace.NewLiveEvent(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), decode.WebIO, 728, 4, 4242, [][2]string{{"EnabledProtocols", mask}})
			if o.Match == nil || o.Match.Match(e) {
				o.Emit(e)
			}
		}
		o.Notice("3 events were dropped because the output could not keep up")
		return nil
	}
	code, out, errs := runCLI(t, "watch", "-f", "!(EnabledProtocols & 0x800)")
	want := "2026-01-02T03:04:05.0000000Z  Microsoft-Windows-WebIO              728  pid 4242   EnabledProtocols=0xa0 (SSL3.0|TLS1.0 (client))\n"
	if code != 0 || out != want || !strings.Contains(errs, "3 events were dropped") {
		t.Errorf("exit %d\n%q\nwant\n%q\n%s", code, out, want, errs)
	}
}

func TestWatchOffWindows(t *testing.T) {
	if trace.LiveWatch {
		t.Skip("this build has the live ETW consumer")
	}
	if code, _, errs := runCLI(t, "watch"); code != exitUsage || !strings.Contains(errs, "needs Windows and a cgo build") {
		t.Errorf("exit %d: %s", code, errs)
	}
	if code, _, _ := runCLI(t, "watch", "-f", "id =="); code != exitUsage {
		t.Errorf("bad filter: exit %d", code)
	}
}
