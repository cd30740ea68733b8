package filters_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/etlscope/etlscope/filters"
)

// rec is a map-based Fields for tests. Keys are stored lower-case; Lookup
// matches case-insensitively like the real implementations.
type rec map[string]any

func (r rec) Lookup(name string) (any, bool) {
	if v, ok := r[name]; ok {
		return v, true
	}
	for k, v := range r {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

type stringer struct{ s string }

func (s stringer) String() string { return s.s }

// webio728 looks like a decoded WebIO "SSL AcquireCredentialsHandle" event
// with a few extra fields of every value type.
var webio728 = rec{
	"provider":         "Microsoft-Windows-WebIO",
	"id":               uint64(728),
	"level":            uint64(4),
	"pid":              uint64(4242),
	"keywords":         uint64(0x8000000000000001),
	"description":      "0x1000: SSL AcquireCredentialsHandle - (EnabledProtocols 0xa0 (SSL3.0|TLS1.0 (client)))",
	"enabledprotocols": uint64(0xA0),
	"hostname":         "outlook.office365.com",
	"tls.version":      []string{"TLS 1.0", "TLS 1.2"},
	"tls.alert":        []int64{70, 40},
	"tcp.dstport":      uint64(443),
	"ip.src":           "10.0.0.5",
	"mask":             "0xa80 (TLS1.0|TLS1.1|TLS1.2 (client))",
	"zerostr":          "0x0",
	"empty":            "",
	"zero":             int64(0),
	"neg":              int64(-5),
	"ratio":            1.5,
	"yes":              true,
	"no":               false,
	"outcome":          stringer{"handshake failed"},
	"city":             "École Straße",
	"kelvin":           "300\u212A", // KELVIN SIGN folds to k
	"nolist":           []string{},
	"anylist":          []any{"a", int64(7)},
	"quote":            `say "hi"`,
	"re":               `a\d`,
}

func TestMatch(t *testing.T) {
	tests := []struct {
		name, expr string
		want       bool
	}{
		// The seed filters.
		{"seed contains", `description.contains("EnabledProtocols")`, true},
		{"seed provider+id", `provider == "Microsoft-Windows-WebIO" && id in (728, 729, 730)`, true},
		{"property prefix", `Property.EnabledProtocols`, true},
		{"property prefix lower", `property.enabledprotocols & 0x80`, true},

		// Precedence.
		{"or binds looser than and", `yes || no && no`, true},
		{"and first", `no && no || yes`, true},
		{"not binds tighter than and", `!yes && no`, false},
		{"not of group", `!(yes && no)`, true},
		{"not applies to comparison", `!id == 728 || no`, false},
		{"not not", `!!yes`, true},
		{"parentheses change grouping", `(yes || no) && no`, false},
		{"long and chain", `yes && yes && yes && !no`, true},
		{"long or chain", `no || no || no || yes`, true},
		{"long or chain false", `no || no || no || no`, false},
		{"keywords", `yes AND NOT no OR no`, true},
		{"keywords lower", `no or yes and yes`, true},

		// Every comparison operator on numbers.
		{"==", `id == 728`, true},
		{"== false", `id == 729`, false},
		{"= alone", `id = 728`, true},
		{"!=", `id != 729`, true},
		{"!= false", `id != 728`, false},
		{"<", `level < 5`, true},
		{"< false", `level < 4`, false},
		{"<=", `level <= 4`, true},
		{"<= false", `level <= 2`, false},
		{">", `level > 3`, true},
		{"> false", `level > 4`, false},
		{">=", `level >= 4`, true},
		{">= false", `level >= 5`, false},
		{"literal on the left", `728 == id`, true},
		{"field against field", `pid > id`, true},
		{"negative", `neg < 0 && neg == -5 && neg > -6`, true},
		{"negative in list", `neg in (-5)`, true},
		{"float field", `ratio > 1 && ratio < 2 && ratio == 1.5`, true},
		{"float literal vs int", `level < 4.5`, true},
		{"big uint", `keywords > 0`, true},
		{"big uint equal", `keywords == 0x8000000000000001`, true},
		{"big uint vs negative", `keywords > -1`, true},
		{"bool field", `yes == true && no == false && yes == 1`, true},
		{"bool literal alone", `true && !false`, true},

		// Numbers: decimal and hex.
		{"hex", `id == 0x2d8`, true},
		{"hex upper", `id == 0X2D8`, true},
		{"leading zeros are decimal", `id == 0728`, true},
		{"hex with leading zeros", `id == 0x000000000000000002d8`, true},

		// Strings.
		{"string == is case-insensitive", `provider == "microsoft-windows-webio"`, true},
		{"string !=", `provider != "Microsoft-Windows-WebIO"`, false},
		{"string <", `hostname < "z"`, true},
		{"string < case-insensitive", `hostname < "P"`, true},
		{"string >", `hostname > "OUT"`, true},
		{"string >=", `hostname >= "OUTLOOK.OFFICE365.COM"`, true},
		{"string <=", `hostname <= "a"`, false},
		{"single quotes", `provider == 'Microsoft-Windows-WebIO'`, true},
		{"escaped quote", `quote == "say \"hi\""`, true},
		{"escaped single quote", `'it\'s' == "it's"`, true},
		{"hex escape", `"\x41" == "a"`, true},
		{"unicode escape", `city.startswith("\u00e9cole")`, true},
		{"unknown escape kept", `re == "a\d"`, true},
		{"escaped backslash", `re == "a\\d"`, true},
		{"unicode fold ==", `city == "ÉCOLE STRASSE"`, false}, // simple folding: ß is not ss
		{"unicode fold == 2", `city == "école straße"`, true},
		{"kelvin", `kelvin.endswith("k")`, true},
		{"stringer", `outcome == "Handshake Failed"`, true},
		{"ip unquoted", `ip.src == 10.0.0.5`, true},
		{"ip quoted", `ip.src == "10.0.0.5"`, true},
		{"ip in", `ip.src in (10.0.0.1, 10.0.0.5)`, true},

		// Number/string conversions.
		{"number vs numeric string", `id == "728"`, true},
		{"number vs hex string", `id == "0x2d8"`, true},
		{"numeric string vs number", `mask == 0xa80`, true},
		{"numeric string ordering", `mask > 0x800`, true},
		{"not convertible ==", `provider == 5`, false},
		{"not convertible !=", `provider != 5`, false},
		{"not convertible <", `provider < 5`, false},
		{"string in numbers", `provider in (1, 2)`, false},

		// Dotted fields.
		{"dotted", `tls.version == "TLS 1.2"`, true},
		{"dotted number", `tcp.dstport == 443`, true},
		{"dotted spaces", `tcp . dstport == 443`, true},

		// in.
		{"in", `id in (728)`, true},
		{"in miss", `id in (729, 730)`, false},
		{"in strings", `provider in ("x", "MICROSOFT-WINDOWS-WEBIO")`, true},
		{"in mixed", `id in ("x", 0x2d8)`, true},
		{"not in", `id not in (1, 2)`, true},
		{"not in miss", `id not in (728)`, false},
		{"IN upper", `id IN (728)`, true},

		// Methods.
		{"contains", `description.contains("acquirecredentials")`, true},
		{"contains miss", `description.contains("nothere")`, false},
		{"contains empty", `description.contains("")`, true},
		{"contains method case", `Description.CONTAINS("ssl")`, true},
		{"contains unicode", `city.contains("STRASSE")`, false},
		{"contains unicode 2", `city.contains("STRAẞE")`, true},
		{"startswith", `hostname.startswith("OUTLOOK")`, true},
		{"startswith miss", `hostname.startswith("office")`, false},
		{"endswith", `hostname.endswith(".Office365.com")`, true},
		{"endswith miss", `hostname.endswith(".org")`, false},
		{"matches", `hostname.matches("^outlook\\.office[0-9]+\\.com$")`, true},
		{"matches escapes kept", `hostname.matches("^outlook\.office\d+\.com$")`, true},
		{"matches case-insensitive", `hostname.matches("^OUTLOOK")`, true},
		{"matches case-sensitive opt-in", `hostname.matches("(?-i)^OUTLOOK")`, false},
		{"matches miss", `hostname.matches("^x")`, false},
		{"method on number", `id.startswith("72")`, true},
		{"method on property prefix", `Property.HostName.endswith("com")`, true},

		// Bitmasks.
		{"mask set", `EnabledProtocols & 0x80`, true},
		{"mask clear", `EnabledProtocols & 0x800`, false},
		{"mask compare", `(EnabledProtocols & 0xA0) == 0xA0`, true},
		{"mask compare miss", `(EnabledProtocols & 0xA80) == 0xA80`, false},
		{"mask negated", `!(EnabledProtocols & 0x800)`, true},
		{"mask negated without parens", `not EnabledProtocols & 0x800`, true},
		{"mask chain", `EnabledProtocols & 0xF0 & 0x20`, true},
		{"mask on numeric string", `mask & 0x800`, true},
		{"mask on text", `provider & 1`, false},
		{"mask big", `keywords & 0x8000000000000000`, true},
		{"mask float", `ratio & 1`, false},
		{"mask negative", `(neg & 0xff) == 0xfb`, true},

		// Bare values.
		{"bare present", `hostname`, true},
		{"bare zero", `zero`, false},
		{"bare zero string", `zerostr`, false},
		{"bare empty string", `empty`, false},
		{"bare empty list", `nolist`, false},
		{"bare list", `tls.alert`, true},
		{"bare literal", `1`, true},
		{"bare literal zero", `0`, false},
		{"bare string literal", `"x"`, true},
		{"bare group", `(id)`, true},

		// Multi-valued fields.
		{"list ==", `tls.version == "tls 1.0"`, true},
		{"list == miss", `tls.version == "TLS 1.3"`, false},
		{"list !=", `tls.version != "TLS 1.0"`, true},
		{"list in", `tls.alert in (40)`, true},
		{"list <", `tls.alert < 41`, true},
		{"list method", `tls.version.endswith("1.2")`, true},
		{"list method miss", `tls.version.contains("1.3")`, false},
		{"list of any", `anylist == 7 && anylist == "A"`, true},
		{"empty list ==", `nolist == "x"`, false},

		// Missing fields.
		{"missing ==", `missing == 1`, false},
		{"missing !=", `missing != 1`, false},
		{"missing <", `missing < 1`, false},
		{"missing in", `missing in (1)`, false},
		{"missing not in", `missing not in (1)`, false},
		{"missing method", `missing.contains("x")`, false},
		{"missing matches", `missing.matches(".*")`, false},
		{"missing bare", `missing`, false},
		{"not missing", `!missing`, true},
		{"missing mask", `missing & 1`, false},
		{"not missing mask", `!(missing & 1)`, true},
		{"not missing comparison", `!(missing == 1)`, true},
		{"missing on right", `1 == missing`, false},
		{"missing property", `Property.Missing`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := filters.Compile(tt.expr)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tt.expr, err)
			}
			if got := f.Match(webio728); got != tt.want {
				t.Errorf("Match(%q) = %v, want %v", tt.expr, got, tt.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, expr, want string
	}{
		{"empty", ``, "filter: empty filter at column 1\n  \n  ^"},
		{"blank", `   `, "filter: empty filter at column 1\n     \n  ^"},
		{"missing operand", `id ==`, "filter: expected a field, number or string, found end of filter at column 6\n  id ==\n       ^"},
		{"unknown method", `description.foo("x")`, "filter: unknown method \"foo\"; want contains, startswith, endswith, matches at column 13\n  description.foo(\"x\")\n              ^"},
		{"empty in", `id in ()`, "filter: empty list after in; expected a number or string at column 8\n  id in ()\n         ^"},
		{"in without paren", `id in 1`, "filter: expected '(' after in, found '1' at column 7\n  id in 1\n        ^"},
		{"in trailing comma", `id in (1,)`, "filter: expected a number or string, found ')' at column 10\n  id in (1,)\n           ^"},
		{"in missing comma", `id in (1 2)`, "filter: expected ',' or ')', found '2' at column 10\n  id in (1 2)\n           ^"},
		{"in field", `id in (pid)`, "filter: expected a number or string, found 'pid' at column 8\n  id in (pid)\n         ^"},
		{"unterminated string", `description.contains("x`, "filter: unterminated string; expected a closing \" at column 22\n  description.contains(\"x\n                       ^"},
		{"unterminated single", `provider == 'x`, "filter: unterminated string; expected a closing ' at column 13\n  provider == 'x\n              ^"},
		{"unterminated by escape", `a == "x\"`, "filter: unterminated string; expected a closing \" at column 6\n  a == \"x\\\"\n       ^"},
		{"trailing garbage", `id == 728 728`, "filter: unexpected '728'; expected &&, || or the end of the filter at column 11\n  id == 728 728\n            ^"},
		{"trailing paren", `id == 1)`, "filter: unexpected ')'; expected &&, || or the end of the filter at column 8\n  id == 1)\n         ^"},
		{"unclosed paren", `(id == 1`, "filter: expected ')' to close the '(' at column 1, found end of filter at column 9\n  (id == 1\n          ^"},
		{"unclosed inner paren", `a && ((id & 4) == 4 || b`, "filter: expected ')' to close the '(' at column 6, found end of filter at column 25\n  a && ((id & 4) == 4 || b\n                          ^"},
		{"bad regex", `h.matches("(")`, "filter: bad regular expression: missing closing ): `(` at column 11\n  h.matches(\"(\")\n            ^"},
		{"method number arg", `description.contains(5)`, "filter: contains() takes one string argument, found '5' at column 22\n  description.contains(5)\n                       ^"},
		{"method two args", `description.contains("a", "b")`, "filter: expected ')' after the argument of contains(), found ',' at column 25\n  description.contains(\"a\", \"b\")\n                          ^"},
		{"unknown function", `foo(1)`, "filter: unknown function \"foo\"; methods are called on a field, e.g. description.contains(\"x\") at column 1\n  foo(1)\n  ^"},
		{"bad character", `id $ 1`, "filter: unexpected character '$' at column 4\n  id $ 1\n     ^"},
		{"single pipe", `a | b`, "filter: unexpected '|'; did you mean '||'? at column 3\n  a | b\n    ^"},
		{"bad number", `id == 12ab`, "filter: bad number \"12ab\" at column 7\n  id == 12ab\n        ^"},
		{"bad hex", `id == 0xg`, "filter: bad number \"0xg\" at column 7\n  id == 0xg\n        ^"},
		{"number too big", `id == 0x10000000000000000`, "filter: number out of range \"0x10000000000000000\" at column 7\n  id == 0x10000000000000000\n        ^"},
		{"bad ip", `ip.src == 10.0.0.300`, "filter: bad IPv4 address \"10.0.0.300\" at column 11\n  ip.src == 10.0.0.300\n            ^"},
		{"two dots", `a == 1.2.3`, "filter: bad number \"1.2.3\" at column 6\n  a == 1.2.3\n       ^"},
		{"bad escape", `a == "\x4"`, "filter: bad escape: \\x needs 2 hex digits at column 7\n  a == \"\\x4\"\n        ^"},
		{"dot without name", `tls. == 1`, "filter: expected a field name or method after '.', found '==' at column 6\n  tls. == 1\n       ^"},
		{"compare a condition", `(a == 1) == 2`, "filter: expected a value, found a condition (a comparison or method call cannot be compared or masked) at column 1\n  (a == 1) == 2\n  ^"},
		{"mask a method", `a.contains("x") & 1`, "filter: expected a value, found a condition (a comparison or method call cannot be compared or masked) at column 1\n  a.contains(\"x\") & 1\n  ^"},
		{"dangling and", `a &&`, "filter: expected a field, number or string, found end of filter at column 5\n  a &&\n      ^"},
		{"dangling not", `!`, "filter: expected a field, number or string, found end of filter at column 2\n  !\n   ^"},
		{"keyword as operand", `a == and`, "filter: expected a field, number or string, found 'and' at column 6\n  a == and\n       ^"},
		{"minus without number", `a == -b`, "filter: expected a number after '-', found 'b' at column 7\n  a == -b\n        ^"},
		{"column counts characters", `città == "x" x`, "filter: unexpected 'x'; expected &&, || or the end of the filter at column 14\n  città == \"x\" x\n               ^"},
		{"newline shown as space", "a ==\n", "filter: expected a field, number or string, found end of filter at column 6\n  a == \n       ^"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := filters.Compile(tt.expr)
			if err == nil {
				t.Fatalf("Compile(%q) = %v, want an error", tt.expr, f)
			}
			var se *filters.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Compile(%q): %T is not a *SyntaxError", tt.expr, err)
			}
			if se.Expr != tt.expr {
				t.Errorf("Expr = %q, want %q", se.Expr, tt.expr)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Compile(%q):\n got %q\nwant %q\n%s", tt.expr, got, tt.want, got)
			}
		})
	}
}

func TestErrorWindow(t *testing.T) {
	expr := strings.Repeat("a && ", 40) + "b ==" + strings.Repeat(" && c", 40)
	_, err := filters.Compile(expr)
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines:\n%s", len(lines), err)
	}
	if !strings.HasPrefix(lines[0], "filter: expected a field, number or string, found '&&' at column 206") {
		t.Errorf("message %q", lines[0])
	}
	// The shown window is cut on both sides and the caret still points at
	// the offending "&&".
	if !strings.HasPrefix(lines[1], "  …") || !strings.HasSuffix(lines[1], "…") {
		t.Errorf("window not cut: %q", lines[1])
	}
	caret := len([]rune(lines[2])) - 1
	if got := string([]rune(lines[1])[caret : caret+2]); got != "&&" {
		t.Errorf("caret under %q, want &&\n%s", got, err)
	}
}

func TestLimits(t *testing.T) {
	tests := []struct {
		name, expr, want string
	}{
		{"deep not", strings.Repeat("!", 100000), "filter longer than"},
		{"deep not short", strings.Repeat("!", 5000) + "a", "nested too deeply"},
		{"deep parens", strings.Repeat("(", 5000) + "a" + strings.Repeat(")", 5000), "nested too deeply"},
		{"deep mixed", strings.Repeat("!(", 2000) + "a", "nested too deeply"},
		{"unclosed parens", strings.Repeat("(", 50), "found end of filter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := filters.Compile(tt.expr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
	// Just inside the limit compiles and evaluates.
	f, err := filters.Compile(strings.Repeat("(", filters.MaxDepth) + "id == 728" + strings.Repeat(")", filters.MaxDepth))
	if err != nil {
		t.Fatal(err)
	}
	if !f.Match(webio728) {
		t.Error("deep filter did not match")
	}
	if _, err := filters.Compile(strings.Repeat("!", filters.MaxDepth+1) + "id"); err == nil {
		t.Error("MaxDepth+1 negations compiled")
	}
	// A long flat chain is not nesting: it compiles and matches.
	long := "id == 1" + strings.Repeat(" || id == 1", 3000) + " || id == 728"
	if f, err := filters.Compile(long); err != nil || !f.Match(webio728) {
		t.Errorf("long chain: %v", err)
	}
}

func TestFieldsAndString(t *testing.T) {
	expr := `Property.EnabledProtocols & 0x800 || description.contains("x") || id == 1 || ID == 2 || tls.version in ("TLS 1.2") || property.enabledprotocols`
	f := filters.MustCompile(expr)
	want := "EnabledProtocols,description,id,tls.version"
	if got := strings.Join(f.Fields(), ","); got != want {
		t.Errorf("Fields() = %q, want %q", got, want)
	}
	f.Fields()[0] = "changed"
	if got := f.Fields()[0]; got != "EnabledProtocols" {
		t.Errorf("Fields() shares its slice: %q", got)
	}
	if f.String() != expr {
		t.Errorf("String() = %q", f.String())
	}
	if got := filters.MustCompile(`1 == 1`).Fields(); len(got) != 0 {
		t.Errorf("constant filter fields %q", got)
	}
}

func TestMustCompilePanics(t *testing.T) {
	defer func() {
		r := recover()
		if _, ok := r.(*filters.SyntaxError); !ok {
			t.Errorf("recovered %v (%T), want *SyntaxError", r, r)
		}
	}()
	filters.MustCompile(`id ==`)
}

// TestMatchAllocs pins the promise that common filters allocate nothing per
// event (the Fields implementation here does not allocate either).
func TestMatchAllocs(t *testing.T) {
	for _, expr := range []string{
		`provider == "Microsoft-Windows-WebIO" && id in (728,729,730)`,
		`description.contains("EnabledProtocols")`,
		`description.contains("nothere") || hostname.endswith(".COM")`,
		`(enabledprotocols & 0xA80) == 0xA80 || !(enabledprotocols & 0x800)`,
		`tls.version == "TLS 1.2" && tls.alert in (70, 40)`,
		`mask == 0xa80 && level <= 4 && provider != 5`,
		`missing == 1 || !missing`,
		`hostname < "z"`,
		`hostname.matches("^outlook")`,
	} {
		f := filters.MustCompile(expr)
		if n := testing.AllocsPerRun(100, func() { f.Match(webio728) }); n != 0 {
			t.Errorf("%s: %.1f allocations per Match", expr, n)
		}
	}
}

func TestConcurrentMatch(t *testing.T) {
	f := filters.MustCompile(`provider == "Microsoft-Windows-WebIO" && description.matches("enabledprotocols 0x[0-9a-f]+")`)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				if !f.Match(webio728) || f.Match(rec{}) {
					errs <- "wrong result"
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// sample is matched by the fuzz target: every value type.
var sample = []filters.Fields{webio728, rec{}, rec{"a": []any{[]string{"x"}, nil, 1.5}, "b": fmt.Errorf("e"), "c": struct{}{}}}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		`description.contains("EnabledProtocols")`,
		`provider == "Microsoft-Windows-WebIO" && id in (728,729,730)`,
		`(EnabledProtocols & 0xA80) == 0xA80 || !b`,
		`hostname.matches("^a+$") and not x not in (1, -2, "3")`,
		`ip.src == 10.0.0.1 || tls.version.endswith('1.2')`,
		`a == "\x41\u00e9\\\"" && b >= 1.5`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := filters.Compile(expr)
		if err != nil {
			var se *filters.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("%q: %T is not a *SyntaxError", expr, err)
			}
			_ = err.Error()
			return
		}
		if flt.String() != expr {
			t.Fatalf("String() = %q", flt.String())
		}
		for _, x := range sample {
			flt.Match(x)
		}
	})
}

func BenchmarkMatch(b *testing.B) {
	for _, expr := range []string{
		`provider == "Microsoft-Windows-WebIO" && id in (728,729,730)`,
		`description.contains("EnabledProtocols")`,
		`(enabledprotocols & 0xA80) == 0xA80`,
		`hostname.matches("^outlook\.office\d+\.com$")`,
	} {
		f := filters.MustCompile(expr)
		b.Run(expr, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f.Match(webio728)
			}
		})
	}
}

func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		filters.MustCompile(`provider == "Microsoft-Windows-WebIO" && id in (728,729,730) || description.contains("EnabledProtocols")`)
	}
}
