package trace

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
)

// WinHTTPTracing is the WinHTTP tracing configuration as
// `netsh winhttp show tracing` prints it. Two layouts exist:
//
// Windows Vista / Server 2008 (Microsoft's WinHTTP team blog, "WinHttp
// Configuration for Windows Vista", part 3):
//
//	Current WinHTTP Tracing settings:
//	    Tracing is not enabled.
//	    Trace File Prefix: C:\Temp\Test3
//	    Trace Output: file
//	    Trace Level:  verbose (headers, APIs, and entity body)
//	    Network Traffic Format: hex
//	    Maximum size of trace file (in bytes): 65535
//
// or "WinHTTP trace configuration not set." on a machine where it was
// never configured. The settings stay when tracing is disabled, so
// restoring means re-applying them, not only the state.
//
// Windows 7 / Server 2008 R2 and later (Microsoft's "netsh winhttp"
// reference): show tracing and set tracing only point to netsh trace
// ("netsh trace show", "netsh trace start scenario=InternetClient"); any
// output that names netsh trace and has no settings is that layout
// (NetshTrace), whatever its exact words. English output only: anything
// else is "not Known".
type WinHTTPTracing struct {
	Known      bool   `json:"known"`      // the output was understood
	NetshTrace bool   `json:"netshTrace"` // the Windows 7+ layout: WinHTTP is traced by netsh trace
	Configured bool   `json:"configured"` // false: "configuration not set"
	Enabled    bool   `json:"enabled"`
	Prefix     string `json:"prefix,omitempty"` // trace-file-prefix ("" for "(none)")
	Output     string `json:"output,omitempty"` // file, debugger or both
	Level      string `json:"level,omitempty"`  // default or verbose
	Format     string `json:"format,omitempty"` // ansi or hex
	MaxSize    int64  `json:"maxSize,omitempty"`
}

// ParseWinHTTPTracing reads the output of `netsh winhttp show tracing`.
func ParseWinHTTPTracing(out []byte) WinHTTPTracing {
	var t WinHTTPTracing
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(strings.ReplaceAll(sc.Text(), "\u00a0", " "))
		l := strings.ToLower(line)
		key, val, hasColon := strings.Cut(line, ":")
		val = strings.TrimSpace(val)
		lval := strings.ToLower(val)
		switch k := strings.ToLower(strings.TrimSpace(key)); {
		case strings.Contains(l, "configuration not set"):
			t.Known, t.Configured, t.NetshTrace = true, false, false
		case strings.HasPrefix(l, "tracing is"):
			t.Known, t.Configured, t.NetshTrace = true, true, false
			t.Enabled = strings.Contains(l, "enabled") && !strings.Contains(l, "not enabled") && !strings.Contains(l, "disabled")
		case strings.Contains(l, "netsh trace") && !t.Configured && !t.Known:
			t.Known, t.NetshTrace = true, true
		case !hasColon:
		case k == "trace file prefix":
			if lval != "(none)" {
				t.Prefix = val
			}
		case k == "trace output":
			switch file, dbg := strings.Contains(lval, "file"), strings.Contains(lval, "debugger"); {
			case file && dbg:
				t.Output = "both"
			case dbg:
				t.Output = "debugger"
			case file:
				t.Output = "file"
			}
		case k == "trace level":
			switch w, _, _ := strings.Cut(lval, " "); w {
			case "default", "verbose":
				t.Level = w
			}
		case k == "network traffic format":
			if lval == "hex" || lval == "ansi" {
				t.Format = lval
			}
		case strings.HasPrefix(k, "maximum size of trace file"):
			if n, err := strconv.ParseInt(val, 10, 64); err == nil && n > 0 {
				t.MaxSize = n
			}
		}
	}
	return t
}

// RestoreCommand returns the command that puts WinHTTP tracing back the way
// t describes it. When the previous settings are unknown or were never set,
// that is `netsh winhttp set tracing state=disabled` (the settings
// capture wrote stay behind, disabled). The trace-file prefix is left
// alone because capture does not change it.
func (t WinHTTPTracing) RestoreCommand() Command {
	if !t.Known || !t.Configured || t.NetshTrace {
		return cmdWinHTTPOff
	}
	args := []string{"winhttp", "set", "tracing"}
	if t.Output != "" {
		args = append(args, "output="+t.Output)
	}
	if t.Level != "" {
		args = append(args, "level="+t.Level)
	}
	if t.Format != "" {
		args = append(args, "format="+t.Format)
	}
	if t.MaxSize > 0 {
		args = append(args, "max-trace-file-size="+strconv.FormatInt(t.MaxSize, 10))
	}
	state := "state=disabled"
	if t.Enabled {
		state = "state=enabled"
	}
	return netsh(append(args, state)...)
}

// RedirectsToNetshTrace reports whether netsh's answer to a winhttp tracing
// command is the Windows 7+ pointer to netsh trace rather than the
// settings: it names netsh trace and prints no "Tracing is …" state.
func RedirectsToNetshTrace(out []byte) bool {
	t := ParseWinHTTPTracing(out)
	return t.NetshTrace && !t.Configured
}

// TraceStatus is what `netsh trace show status` says about a running
// netsh trace session:
//
//	Trace configuration:
//	-------------------------------------------------------------------
//	Status:             Running
//	Trace File:         C:\Users\me\AppData\Local\Temp\NetTraces\NetTrace.etl
//
// or "There is no trace session currently in progress." (believed layout;
// English only — anything else is not Known, and capture then goes on:
// netsh trace start itself refuses a second session.)
type TraceStatus struct {
	Known   bool
	Running bool
	File    string
}

// ParseTraceStatus reads the output of `netsh trace show status`.
func ParseTraceStatus(out []byte) TraceStatus {
	var st TraceStatus
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		l := strings.ToLower(line)
		if strings.Contains(l, "no trace session") {
			return TraceStatus{Known: true}
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "status":
			st.Known = true
			st.Running = strings.EqualFold(val, "running")
		case "trace file":
			st.File = val
		}
	}
	return st
}
