package main

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/mattn/go-runewidth"
)

func maxLineWidth(s string) int {
	w := 0
	for _, l := range strings.Split(s, "\n") {
		w = max(w, runewidth.StringWidth(l))
	}
	return w
}

// TestTablesFitTheTerminal: without a terminal the tables fit $COLUMNS, or
// 80 columns; --wide prints everything.
func TestTablesFitTheTerminal(t *testing.T) {
	for _, args := range [][]string{{"events", "--example"}, {"analyze", "--example"}, {"conversations", "--example"}, {"info", "--example"}} {
		t.Setenv("COLUMNS", "")
		_, out, _ := runCLI(t, args...)
		// analyze's verdict text and integrity notes are prose, not tables.
		tables := out
		if args[0] == "analyze" {
			tables = out[strings.Index(out, "Processes ("):]
		}
		if w := maxLineWidth(tables); w > 80 {
			t.Errorf("%v: %d columns wide without a terminal, want <= 80:\n%s", args, w, tables)
		}
		t.Setenv("COLUMNS", "120")
		_, out120, _ := runCLI(t, args...)
		if args[0] == "analyze" {
			out120 = out120[strings.Index(out120, "Processes ("):]
		}
		if w := maxLineWidth(out120); w > 120 {
			t.Errorf("%v: %d columns wide with COLUMNS=120", args, w)
		}
		_, wide, _ := runCLI(t, append(args, "--wide")...)
		if args[0] != "info" && (maxLineWidth(wide) <= 120 || strings.Contains(wide, "…")) {
			t.Errorf("%v --wide: shortened:\n%s", args, wide)
		}
	}
}

// TestInfoCSVIsOneTable: info -o csv is the providers table; the header
// fields and the integrity note are "#" comment lines.
func TestInfoCSVIsOneTable(t *testing.T) {
	code, out, _ := runCLI(t, "info", "--example", "-o", "csv")
	if code != 0 {
		t.Fatal(code)
	}
	var data []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(l, "#") {
			data = append(data, l)
		}
	}
	rows, err := csv.NewReader(strings.NewReader(strings.Join(data, "\n"))).ReadAll()
	if err != nil {
		t.Fatalf("not one CSV table: %v\n%s", err, out)
	}
	if strings.Join(rows[0], ",") != "provider,guid,events" || len(rows) < 3 {
		t.Errorf("rows %v", rows)
	}
	if !strings.Contains(out, "# os: Windows 8 / Server 2012 (6.2 build 9200)\n") {
		t.Errorf("header fields are not # comments:\n%s", out)
	}
}
