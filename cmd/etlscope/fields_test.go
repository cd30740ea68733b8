package main

import (
	"strings"
	"testing"
)

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"id", "idd", 1}, {"versoin", "version", 1}, {"provider", "provdier", 1}, {"kitten", "sitting", 3},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestUnknownFieldNames: a name that is neither a built-in field nor a
// property of a known schema is a usage error naming the closest ones; the
// issue's own examples are the first two rows.
func TestUnknownFieldNames(t *testing.T) {
	tests := []struct {
		args []string
		code int
		msg  []string
	}{
		{[]string{"conversations", "--example", "-f", `tls.versoin == "TLS 1.2"`}, exitUsage, []string{`unknown field "tls.versoin"`, "did you mean tls.version", "^"}},
		{[]string{"events", "--example", "--fields", "provider,idd"}, exitUsage, []string{`unknown field "idd"`, "did you mean id"}},
		{[]string{"events", "--example", "-f", "EnabledProtocol & 0x800"}, exitUsage, []string{"did you mean EnabledProtocols"}},
		{[]string{"analyze", "--example", "-f", "provder == \"Schannel\""}, exitUsage, []string{"did you mean provider"}},
		{[]string{"events", "--example", "-n", "-5"}, exitUsage, []string{"--limit -5"}},
		// Known names, any case; Property.X is not checked (TraceLogging
		// fields are only known once the trace is read).
		{[]string{"events", "--example", "-f", "enabledprotocols & 0x800 || Property.SomeTraceLoggingField == 1", "--fields", "EnabledProtocols,task_name,Property.Other"}, exitOK, nil},
		{[]string{"conversations", "--example", "-f", "tls.alert == 70"}, exitOK, nil},
	}
	for _, tt := range tests {
		code, _, errs := runCLI(t, tt.args...)
		if code != tt.code {
			t.Errorf("%v: exit %d, want %d: %s", tt.args, code, tt.code, errs)
		}
		for _, m := range tt.msg {
			if !strings.Contains(errs, m) {
				t.Errorf("%v: stderr %q lacks %q", tt.args, errs, m)
			}
		}
	}
}
