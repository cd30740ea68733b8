package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/internal/etltest"
	"github.com/etlscope/etlscope/internal/nettrace"
)

func TestWindowsZone(t *testing.T) {
	tests := []struct {
		std, dlt string
		bias     int32
		wantLoc  string
		wantInfo string
	}{
		// The TimeZoneInformation of a machine set to Pacific time stores
		// MUI references: StandardName @tzres.dll,-212, DaylightName
		// @tzres.dll,-211, Bias 480.
		{"@tzres.dll,-212", "@tzres.dll,-211", 480, "America/Los_Angeles", "Pacific Standard Time (America/Los_Angeles, bias 480 min)"},
		{"@tzres.dll,-112", "@tzres.dll,-111", 300, "America/New_York", "Eastern Standard Time (America/New_York, bias 300 min)"},
		{"W. Europe Standard Time", "W. Europe Daylight Time", -60, "Europe/Berlin", "W. Europe Standard Time (Europe/Berlin, bias -60 min)"},
		{"Coordinated Universal Time", "Coordinated Universal Time", 0, "Etc/UTC", "UTC (Etc/UTC, bias 0 min)"},
		// An unknown reference falls back to the bias, never the raw text.
		{"@tzres.dll,-9999", "@tzres.dll,-9998", -330, "UTC+05:30", "UTC+05:30 (bias -330 min)"},
	}
	for _, tt := range tests {
		h := etl.Header{TimeZoneStandardName: tt.std, TimeZoneDaylightName: tt.dlt, TimeZoneBias: tt.bias}
		if got := traceZone(h).String(); got != tt.wantLoc {
			t.Errorf("%s: zone %q, want %q", tt.std, got, tt.wantLoc)
		}
		if got := zoneLabel(h); got != tt.wantInfo || strings.Contains(got, "@") {
			t.Errorf("%s: label %q, want %q", tt.std, got, tt.wantInfo)
		}
	}
}

// TestOneTimeFormat: every command shows times as RFC 3339 in UTC, and in
// the trace's own zone with --local; kernel events show "-" for a pid of
// 0xFFFFFFFF.
func TestOneTimeFormat(t *testing.T) {
	b := nettrace.New(etltest.Options{Build: 9200, TimeZoneBias: 480, TimeZoneName: "@tzres.dll,-212"})
	b.WebIOACHStart(nettrace.PowerShell, nettrace.ACH{Connection: 1, EnabledProtocols: 0xA0, Version: 1})
	b.Event(nettrace.Proc{PID: 0xFFFFFFFF, TID: 0xFFFFFFFF}, etl.MustParseGUID("22fb2cd6-0e7b-422b-a0c7-2fad1fd0e716"), 15, 0, 4, 0, 0, 0, []byte{1, 0, 0, 0})
	data, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(tempDir(t), "pacific.etl")
	os.WriteFile(path, data, 0o644)
	utc := regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z`)
	pacific := regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}-07:00`) // March 12, 2024: daylight time
	other := regexp.MustCompile(`\d\d:\d\d:\d\d\.\d{3}\b|\d{4}-\d\d-\d\d \d\d:`)
	for _, args := range [][]string{{"info", path}, {"events", path, "--wide"}, {"analyze", path}, {"conversations", "--example", "--wide"}} {
		code, out, errs := runCLI(t, args...)
		if code != exitOK && code != exitTLSProblem && code != exitInconclusive {
			t.Fatalf("%v: exit %d %s", args, code, errs)
		}
		if !utc.MatchString(out) || other.MatchString(out) {
			t.Errorf("%v: times not RFC 3339 UTC:\n%s", args, out)
		}
		if strings.Contains(out, "@tzres") {
			t.Errorf("%v: raw MUI time zone reference:\n%s", args, out)
		}
		if args[0] == "conversations" {
			continue
		}
		_, local, _ := runCLI(t, append(args, "--local")...)
		if !pacific.MatchString(local) || utc.MatchString(local) {
			t.Errorf("%v --local: times not in the trace's zone:\n%s", args, local)
		}
	}
	_, out, _ := runCLI(t, "events", path, "-o", "csv", "-f", "id == 15")
	if !strings.Contains(out, ",-,-,") || strings.Contains(out, "4294967295") {
		t.Errorf("pid/tid 0xFFFFFFFF not shown as -:\n%s", out)
	}
	_, out, _ = runCLI(t, "events", path, "-o", "json", "-f", "id == 15")
	if !strings.Contains(out, `"pid":null,"tid":null`) {
		t.Errorf("pid/tid 0xFFFFFFFF not null in JSON:\n%s", out)
	}
	_, out, _ = runCLI(t, "info", path)
	if !strings.Contains(out, "Pacific Standard Time (America/Los_Angeles, bias 480 min)") {
		t.Errorf("info time zone:\n%s", out)
	}
}
