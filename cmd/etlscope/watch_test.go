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
	m := realMachine()
	m.watch = func(ctx context.Context, o trace.WatchOptions) error {
		for _, mask := range []string{"160", "2048"} {
			e := trace.NewLiveEvent(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), decode.WebIO, 728, 4, 4242, [][2]string{{"EnabledProtocols", mask}})
			if o.Match == nil || o.Match.Match(e) {
				o.Emit(e)
			}
		}
		o.Notice("3 events were dropped because the output could not keep up")
		return nil
	}
	code, out, errs := runOn(t, m, "watch", "-f", "!(EnabledProtocols & 0x800)")
	want := "2026-01-02T03:04:05.0000000Z  Microsoft-Windows-WebIO              728  pid 4242   EnabledProtocols=0xa0 (SSL3.0|TLS1.0 (client))\n"
	if code != 0 || out != want || !strings.Contains(errs, "3 events were dropped") {
		t.Errorf("exit %d\n%q\nwant\n%q\n%s", code, out, want, errs)
	}
}

// TestWatchSecrets: the WinHttp credential event shows no password by
// default, shows it with --show-secrets, and is dropped with --redact,
// which also replaces host names.
func TestWatchSecrets(t *testing.T) {
	m := realMachine()
	m.watch = func(ctx context.Context, o trace.WatchOptions) error {
		o.Emit(trace.NewLiveEvent(time.Unix(0, 0), decode.WinHttp, 100, 4, 9, [][2]string{{"UserName", `CONTOSO\admin`}, {"Password", "Secret!"}}))
		o.Emit(trace.NewLiveEvent(time.Unix(0, 0), decode.WebIO, 703, 4, 9, [][2]string{{"ServerName", "mail.contoso.com"}, {"LocalAddress", "10.1.2.3:50000"}}))
		return nil
	}
	_, out, _ := runOn(t, m, "watch")
	if strings.Contains(out, "Secret!") || !strings.Contains(out, "Password="+trace.HiddenSecret) || !strings.Contains(out, "mail.contoso.com") {
		t.Errorf("default:\n%s", out)
	}
	if _, out, _ = runOn(t, m, "watch", "--show-secrets"); !strings.Contains(out, "Password=Secret!") {
		t.Errorf("--show-secrets:\n%s", out)
	}
	_, out, _ = runOn(t, m, "watch", "--redact")
	if strings.Contains(out, "Secret!") || strings.Contains(out, "CONTOSO") || strings.Contains(out, "contoso") || strings.Contains(out, "10.1.2.3") || strings.Count(out, "\n") != 1 {
		t.Errorf("--redact:\n%s", out)
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
