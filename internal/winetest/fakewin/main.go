// Command fakewin stands in for netsh.exe, wmic.exe and powershell.exe in
// the Wine end-to-end tests: copied under each of those names into a
// directory that comes first on the Windows PATH (WINEPATH), it answers
// the way the real program does for the commands etlscope runs. It logs
// every invocation as one line (program name and arguments, space-joined)
// to $ETLSCOPE_FAKE_LOG. Behaviour is set through environment variables,
// which Wine passes on to Windows programs:
//
//	ETLSCOPE_FAKE_LOG        file the invocations are appended to
//	ETLSCOPE_FAKE_FAIL       ";"-separated substrings: an invocation whose
//	                         command line contains one fails (exit 1), the
//	                         way netsh fails on a command it does not know
//	ETLSCOPE_FAKE_ETL        file copied to the tracefile= path on
//	                         "netsh trace stop" (unset: no trace is written)
//	ETLSCOPE_FAKE_HOTFIXES   ","-separated HotFixIDs wmic and Get-HotFix list
//
// The shapes: netsh's messages are the English texts of Windows 10
// ("There is no trace session currently in progress.", "Tracing session
// was successfully stopped."); wmic writes UTF-16LE with a byte-order mark
// and "\r\r\n" line ends when its output is redirected, as Windows' wmic
// does; hotfix IDs are padded to the column width like wmic's table.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf16"
)

func main() {
	name := strings.ToLower(strings.TrimSuffix(filepath.Base(os.Args[0]), filepath.Ext(os.Args[0])))
	line := strings.Join(append([]string{name}, os.Args[1:]...), " ")
	if err := logLine(line); err != nil {
		fmt.Fprintln(os.Stderr, "fakewin:", err)
		os.Exit(2)
	}
	for _, f := range strings.Split(os.Getenv("ETLSCOPE_FAKE_FAIL"), ";") {
		if f != "" && strings.Contains(line, f) {
			fmt.Printf("The following command was not found: %s.\n", strings.Join(os.Args[1:], " "))
			os.Exit(1)
		}
	}
	var err error
	switch name {
	case "netsh":
		err = netsh(os.Args[1:])
	case "wmic":
		err = wmic(os.Args[1:])
	case "powershell":
		for _, id := range hotfixes() {
			fmt.Println(id)
		}
	default:
		err = fmt.Errorf("unknown program name %q", name)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakewin:", err)
		os.Exit(1)
	}
}

func logLine(line string) error {
	p := os.Getenv("ETLSCOPE_FAKE_LOG")
	if p == "" {
		return nil
	}
	f, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(f, line); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// statePath keeps the tracefile of "trace start" for "trace stop".
func statePath() string { return os.Getenv("ETLSCOPE_FAKE_LOG") + ".tracefile" }

func netsh(args []string) error {
	cmd := strings.ToLower(strings.Join(args, " "))
	switch {
	case strings.HasPrefix(cmd, "winhttp show tracing"):
		fmt.Print("\nCurrent WinHTTP Tracing settings:\n\n    Tracing is disabled.\n")
	case strings.HasPrefix(cmd, "winhttp set tracing"):
		fmt.Print("\nCurrent WinHTTP Tracing settings:\n\n    Tracing is " + map[bool]string{true: "enabled", false: "disabled"}[strings.Contains(cmd, "state=enabled")] + ".\n")
	case cmd == "trace show status":
		fmt.Println("There is no trace session currently in progress.")
	case strings.HasPrefix(cmd, "trace start"):
		for _, a := range args {
			if p, ok := strings.CutPrefix(a, "tracefile="); ok {
				if err := os.WriteFile(statePath(), []byte(p), 0o644); err != nil {
					return err
				}
			}
		}
		fmt.Print("\nTrace configuration:\n-------------------------------------------------------------------\nStatus:             Running\n")
	case cmd == "trace stop":
		fmt.Println("Merging traces ... done")
		if src := os.Getenv("ETLSCOPE_FAKE_ETL"); src != "" {
			dst, err := os.ReadFile(statePath())
			if err != nil {
				return err
			}
			b, err := os.ReadFile(src)
			if err != nil {
				return err
			}
			if err := os.WriteFile(string(dst), b, 0o644); err != nil {
				return err
			}
		}
		fmt.Println("Tracing session was successfully stopped.")
	default:
		return fmt.Errorf("netsh %s: not faked", cmd)
	}
	return nil
}

func wmic(args []string) error {
	if strings.ToLower(strings.Join(args, " ")) != "qfe get hotfixid" {
		return fmt.Errorf("wmic %s: not faked", strings.Join(args, " "))
	}
	var b strings.Builder
	b.WriteString("\ufeffHotFixID   \r\r\n")
	for _, id := range hotfixes() {
		fmt.Fprintf(&b, "%-11s\r\r\n", id)
	}
	b.WriteString("\r\r\n")
	u := utf16.Encode([]rune(b.String()))
	out := make([]byte, 2*len(u))
	for i, c := range u {
		out[2*i], out[2*i+1] = byte(c), byte(c>>8)
	}
	_, err := os.Stdout.Write(out)
	return err
}

func hotfixes() []string {
	var ids []string
	for _, id := range strings.Split(os.Getenv("ETLSCOPE_FAKE_HOTFIXES"), ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}
