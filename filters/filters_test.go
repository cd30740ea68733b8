package filters_test

import (
	"strings"
	"testing"

	"github.com/etlscope/etlscope/filters"
)

// rec is a map-based Fields for tests.
type rec map[string]any

func (r rec) Lookup(name string) (any, bool) {
	for k, v := range r {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

var webio728 = rec{
	"provider":         "Microsoft-Windows-WebIO",
	"id":               uint64(728),
	"level":            uint64(4),
	"pid":              uint64(4242),
	"description":      "0x1000: SSL AcquireCredentialsHandle - (EnabledProtocols 0xa0 (SSL3.0|TLS1.0 (client)))",
	"EnabledProtocols": uint64(0xA0),
	"HostName":         "outlook.office365.com",
	"tls.version":      []string{"TLS 1.0", "TLS 1.2"},
	"ports":            []int64{443, 80},
	"hexstring":        "0xa80 (TLS1.0|TLS1.1|TLS1.2 (client))",
}

func TestMatch(t *testing.T) {
	tests := []struct {
		expr string
		want bool
	}{
		{`description.contains("EnabledProtocols")`, true},
		{`Description.Contains("enabledprotocols")`, true},
		{`description.contains("nothere")`, false},
		{`provider == "Microsoft-Windows-WebIO" && id in (728, 729, 730)`, true},
		{`provider == "microsoft-windows-webio"`, true},
		{`provider != "Microsoft-Windows-WebIO"`, false},
		{`id in (729,730)`, false},
		{`id == 728`, true},
		{`id = 728`, true},
		{`id == 0x2d8`, true},
		{`id != 728`, false},
		{`level <= 2`, false},
		{`level < 5 and level > 3`, true},
		{`level >= 4 && level <= 4`, true},
		{`pid == 4242`, true},
		{`Property.EnabledProtocols`, true},
		{`EnabledProtocols & 0x800`, false},
		{`EnabledProtocols & 0x80`, true},
		{`(EnabledProtocols & 0xA0) == 0xA0`, true},
		{`!(EnabledProtocols & 0x800)`, true},
		{`not EnabledProtocols & 0x800`, true},
		{`hexstring & 0x800`, true},
		{`HostName.endswith(".office365.com")`, true},
		{`HostName.startswith("OUTLOOK")`, true},
		{`HostName.matches("^outlook\\.office[0-9]+\\.com$")`, true},
		{`HostName.matches("^x")`, false},
		{`tls.version == "TLS 1.2"`, true},
		{`tls.version == "TLS 1.3"`, false},
		{`tls.version.contains("1.0")`, true},
		{`ports in (443)`, true},
		{`missing == 1`, false},
		{`missing != 1`, false},
		{`!missing`, true},
		{`missing.contains("x")`, false},
		{`id == 1 || id == 728 && level == 4`, true},
		{`(id == 1 || id == 728) && level == 5`, false},
		{`id == 1 || level == 4 && id == 2`, false},
		{`!id == 728 || pid == 4242`, true},
		{`id == "728"`, true},
		{`provider == 5`, false},
		{`HostName < "z"`, true},
	}
	for _, tt := range tests {
		f, err := filters.Compile(tt.expr)
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		if got := f.Match(webio728); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.expr, got, tt.want)
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		expr, want string
	}{
		{``, "filter: empty filter at column 1\n  \n  ^"},
		{`id ==`, "filter: expected a field, number or string, found end of filter at column 6\n  id ==\n       ^"},
		{`description.contain("x")`, "filter: unknown method \"contain\"; want contains, startswith, endswith, matches at column 13\n  description.contain(\"x\")\n              ^"},
		{`id in ()`, "filter: empty list after in at column 8\n  id in ()\n         ^"},
		{`description.contains("x`, "filter: unterminated string at column 22\n  description.contains(\"x\n                       ^"},
		{`id == 728 728`, "filter: unexpected '728'; expected an operator (&&, ||) or the end at column 11\n  id == 728 728\n            ^"},
		{`HostName.matches("(")`, "bad regular expression"},
		{`id in (1 2)`, "expected ',' or ')', found '2'"},
		{`(id == 1`, "expected ')'"},
		{`id $ 1`, "unexpected character '$'"},
		{`description.contains(5)`, "contains() takes a string, found '5'"},
		{`foo(1)`, "unknown function \"foo\""},
	}
	for _, tt := range tests {
		_, err := filters.Compile(tt.expr)
		if err == nil {
			t.Errorf("%q: no error", tt.expr)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q:\n got %q\nwant %q", tt.expr, err.Error(), tt.want)
		}
		if _, ok := err.(*filters.SyntaxError); !ok {
			t.Errorf("%q: %T is not a *SyntaxError", tt.expr, err)
		}
	}
}

func TestDeepNesting(t *testing.T) {
	expr := strings.Repeat("!", 10000) + "id"
	if _, err := filters.Compile(expr); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Errorf("got %v", err)
	}
}

func TestFieldsListed(t *testing.T) {
	f := filters.MustCompile(`Property.EnabledProtocols & 0x800 || description.contains("x") || id == 1 || ID == 2`)
	got := strings.Join(f.Fields(), ",")
	if got != "EnabledProtocols,description,id" {
		t.Errorf("fields %q", got)
	}
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{`description.contains("EnabledProtocols")`, `provider == "x" && id in (1,2)`, `(a & 0x800) == 0x800 || !b`, `x.matches("^a+$")`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := filters.Compile(expr)
		if err != nil {
			return
		}
		flt.Match(webio728)
		flt.Match(rec{})
	})
}

func BenchmarkMatch(b *testing.B) {
	for _, expr := range []string{`provider == "Microsoft-Windows-WebIO" && id in (728,729,730)`, `description.contains("EnabledProtocols")`} {
		f := filters.MustCompile(expr)
		b.Run(expr, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f.Match(webio728)
			}
		})
	}
}
