package main

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
	"github.com/etlscope/etlscope/internal/etltest"
	"github.com/etlscope/etlscope/internal/nettrace"
)

// docKeys reads docs/json.md: per command, the documented key paths
// ("verdicts[].evidence[].time") and the ones that are maps (their keys are
// data, not documented).
func docKeys(t *testing.T) (keys map[string]map[string]bool, maps map[string]map[string]bool) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "json.md"))
	if err != nil {
		t.Fatal(err)
	}
	keys, maps = map[string]map[string]bool{}, map[string]map[string]bool{}
	section := ""
	cmdRe := regexp.MustCompile("^## `etlscope (\\w+)`")
	keyRe := regexp.MustCompile("`([^`]+)`")
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "## ") {
			section = ""
			if m := cmdRe.FindStringSubmatch(line); m != nil {
				section = m[1]
			} else if strings.HasPrefix(line, "## integrity") {
				section = "integrity"
			}
			continue
		}
		if section == "" || !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(line, " | ")
		if keys[section] == nil {
			keys[section], maps[section] = map[string]bool{}, map[string]bool{}
		}
		for _, m := range keyRe.FindAllStringSubmatch(cells[0], -1) {
			keys[section][m[1]] = true
			if strings.HasPrefix(cells[1], "map") {
				maps[section][m[1]] = true
			}
		}
	}
	return keys, maps
}

// jsonPaths collects the key paths of a JSON document, not descending
// into maps.
func jsonPaths(v any, prefix string, isMap map[string]bool, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			out[p] = true
			if !isMap[p] {
				jsonPaths(val, p, isMap, out)
			}
		}
	case []any:
		for _, e := range x {
			jsonPaths(e, prefix+"[]", isMap, out)
		}
	}
}

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// TestJSONDocMatchesOutput: every key docs/json.md lists appears in the real
// output of its command, every key of the output is listed, and every key
// is snake_case.
func TestJSONDocMatchesOutput(t *testing.T) {
	keys, maps := docKeys(t)
	dir := tempDir(t)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	healthy := write("healthy.etl", nettrace.Healthy(t))
	cert := write("cert.etl", nettrace.CertMismatch(t))
	win7 := write("win7.etl", nettrace.Win7SchannelOff(t))
	// Windows Server 2008 (a release with believed facts), lost events
	// (logfile header), a Kernel-Process ProcessRundown naming the process
	// (ProcessID, CreateTime, ParentProcessID, SessionID, ImageName) and a
	// WebIO 728 whose payload is cut short (a decode warning).
	b := nettrace.New(etltest.Options{Build: 6002, EventsLost: 3})
	rundown := binary.LittleEndian.AppendUint32(nil, nettrace.PowerShell.PID)
	rundown = append(rundown, make([]byte, 16)...)
	for _, c := range `\Device\HarddiskVolume2\Windows\System32\WindowsPowerShell\v1.0\powershell.exe` {
		rundown = binary.LittleEndian.AppendUint16(rundown, uint16(c))
	}
	rundown = append(rundown, 0, 0)
	b.Event(nettrace.Proc{PID: 4, TID: 8}, etl.MustParseGUID("22fb2cd6-0e7b-422b-a0c7-2fad1fd0e716"), 15, 0, 4, 0, 0, 0x10, rundown)
	b.WebIOACHStart(nettrace.PowerShell, nettrace.ACH{Connection: 1, EnabledProtocols: 0xA0, Version: 1})
	b.Event(nettrace.PowerShell, decode.WebIO, 728, 1, 4, 1, 436, 0, []byte{1, 2, 3})
	lossy, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	lost := write("lost.etl", lossy)
	proxied, _ := pktmonTrace(t) // a CONNECT tunnel through a proxy, a drop, a snap length

	m := realMachine()
	m.system, m.registry, m.runner = fakeSys{9200}, fakeReg{}, &fakeNetsh{t: t}

	runs := map[string][][]string{
		"analyze":       {{"--example"}, {healthy}, {cert}, {win7}, {lost}, {proxied}},
		"info":          {{"--example"}, {lost}},
		"events":        {{"--example", "-n", "5"}, {lost}},
		"conversations": {{"--example"}, {healthy}, {lost}, {proxied}},
		"doctor":        {{}},
		"version":       {{}},
	}
	// Keys the fixtures cannot produce: more than 100 integrity findings,
	// and the VCS stamp, which test binaries do not carry.
	rare := map[string]bool{"integrity.omitted": true, "version:revision": true, "version:time": true}
	for cmd, argLists := range runs {
		documented := map[string]bool{}
		isMap := map[string]bool{}
		for k := range keys[cmd] {
			documented[k] = true
		}
		for k := range maps[cmd] {
			isMap[k] = true
		}
		if cmd != "doctor" && cmd != "version" {
			for k := range keys["integrity"] {
				documented[k] = true
			}
			for k := range maps["integrity"] {
				isMap[k] = true
			}
		}
		if len(keys[cmd]) == 0 {
			t.Errorf("docs/json.md has no section for %s", cmd)
		}
		seen := map[string]bool{}
		for _, args := range argLists {
			code, out, errs := runOn(t, m, append(append([]string{cmd}, args...), "-o", "json")...)
			if code != exitOK && code != exitTLSProblem && code != exitInconclusive {
				t.Fatalf("%s %v: exit %d %s", cmd, args, code, errs)
			}
			var doc any
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("%s %v: %v\n%s", cmd, args, err, out)
			}
			jsonPaths(doc, "", isMap, seen)
		}
		var missing, undocumented, notSnake []string
		for k := range documented {
			if !seen[k] && !rare[k] && !rare[cmd+":"+k] {
				missing = append(missing, k)
			}
		}
		for k := range seen {
			if !documented[k] {
				undocumented = append(undocumented, k)
			}
			last := k[strings.LastIndex(k, ".")+1:]
			if !snakeCase.MatchString(strings.TrimSuffix(last, "[]")) {
				notSnake = append(notSnake, k)
			}
		}
		sort.Strings(missing)
		sort.Strings(undocumented)
		sort.Strings(notSnake)
		if len(missing) > 0 {
			t.Errorf("%s: documented but not in the output: %v", cmd, missing)
		}
		if len(undocumented) > 0 {
			t.Errorf("%s: in the output but not in docs/json.md: %v", cmd, undocumented)
		}
		if len(notSnake) > 0 {
			t.Errorf("%s: keys not in snake_case: %v", cmd, notSnake)
		}
	}
}
