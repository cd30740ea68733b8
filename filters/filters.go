// Package filters implements etlscope's display filters, a small language in
// the style of Microsoft Network Monitor:
//
//	description.contains("EnabledProtocols")
//	provider == "Microsoft-Windows-WebIO" && id in (728, 729, 730)
//	Property.EnabledProtocols && !(EnabledProtocols & 0x800)
//	tls.alert == 70 || tcp.dstport != 443
//
// An expression is compiled once into a tree of closures; matching an event
// calls them without parsing or walking a syntax tree again, and the common
// cases allocate nothing. Comparisons on a field the event does not have are
// false; nothing fails at match time. The language is described for users in
// docs/filters.md.
package filters

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Fields is what a filter evaluates against. It is implemented by decoded
// events (decode.Decoded) and by packet conversations.
type Fields interface {
	// Lookup returns the value of a field. name is as the user wrote it,
	// minus a leading "Property." prefix, e.g. "description", "id",
	// "EnabledProtocols", "tls.version". Implementations match names
	// case-insensitively.
	//
	// v is a string, int64, uint64, float64, bool, a []string or []int64
	// for multi-valued fields (a comparison on them is true if any element
	// matches), or a fmt.Stringer (compared as its String()). Other integer
	// and slice types are accepted too.
	Lookup(name string) (v any, ok bool)
}

// Filter is a compiled expression. It is immutable and safe for concurrent
// use.
type Filter struct {
	src    string
	match  pred
	fields []string
	bare   []FieldRef
}

// FieldRef is a field an expression names, and where.
type FieldRef struct {
	Name string // without a "Property." prefix
	Pos  int    // byte offset in the expression
}

// Unqualified returns the fields written without the "Property." prefix,
// in order of first use. Callers check them against the fields they know
// (a typo matches nothing and is better reported); "Property.Name" is the
// way to name a field only known once events are read.
func (f *Filter) Unqualified() []FieldRef { return slices.Clone(f.bare) }

// UnknownField returns the error for a field the caller does not know:
// the message, the suggestions, and a caret under the field.
func (f *Filter) UnknownField(ref FieldRef, msg string) error {
	return &SyntaxError{Expr: f.src, Pos: ref.Pos, Msg: msg}
}

// Match reports whether x satisfies the filter.
func (f *Filter) Match(x Fields) bool { return f.match(x) }

// String returns the source expression.
func (f *Filter) String() string { return f.src }

// Fields returns the names of the fields the expression refers to, in order
// of first use, without a "Property." prefix and without duplicates (names
// differing only in case are the same field). Callers use it to decode only
// what the filter needs.
func (f *Filter) Fields() []string { return slices.Clone(f.fields) }

// Limits against hostile expressions: they bound the recursion of the parser
// and of the compiled closures.
const (
	// MaxLen is the longest expression Compile accepts, in bytes.
	MaxLen = 64 << 10
	// MaxDepth is how deeply parentheses and negations may nest.
	MaxDepth = 100
)

// Compile parses and compiles expr.
func Compile(expr string) (*Filter, error) {
	if len(expr) > MaxLen {
		return nil, &SyntaxError{Expr: expr, Pos: MaxLen, Msg: fmt.Sprintf("filter longer than %d bytes", MaxLen)}
	}
	toks, err := lex(expr)
	if err != nil {
		return nil, err
	}
	p := &parser{src: expr, toks: toks}
	m, err := p.parse()
	if err != nil {
		return nil, err
	}
	return &Filter{src: expr, match: m, fields: p.fields, bare: p.bare}, nil
}

// MustCompile is like Compile but panics if expr does not compile. It is
// meant for expressions written in the program.
func MustCompile(expr string) *Filter {
	f, err := Compile(expr)
	if err != nil {
		panic(err)
	}
	return f
}

// SyntaxError is a compile error: what was wrong and where.
type SyntaxError struct {
	Expr string // the expression
	Pos  int    // byte offset in Expr where the problem was found
	Msg  string // what was found or expected
}

// errWindow is how many characters of a long expression Error shows.
const errWindow = 72

// Error renders the message, the 1-based column (in characters) and the
// expression with a caret under that column:
//
//	filter: expected ')', found end of filter at column 9
//	  (id == 1
//	          ^
//
// A long expression is cut to a window around the column.
func (e *SyntaxError) Error() string {
	pos := min(max(e.Pos, 0), len(e.Expr))
	for pos > 0 && pos < len(e.Expr) && !utf8.RuneStart(e.Expr[pos]) {
		pos--
	}
	col := utf8.RuneCountInString(e.Expr[:pos])
	runes := []rune(e.Expr)
	start, end := 0, len(runes)
	prefix, suffix := "", ""
	if len(runes) > errWindow {
		start = max(0, col-errWindow/2)
		end = min(len(runes), start+errWindow)
		start = max(0, end-errWindow)
		if start > 0 {
			prefix = "…"
		}
		if end < len(runes) {
			suffix = "…"
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "filter: %s at column %d\n  %s", e.Msg, col+1, prefix)
	for _, r := range runes[start:end] {
		if r < ' ' || r == 0x7f {
			r = ' ' // keep the caret line aligned
		}
		b.WriteRune(r)
	}
	b.WriteString(suffix)
	b.WriteString("\n  ")
	b.WriteString(strings.Repeat(" ", utf8.RuneCountInString(prefix)+col-start))
	b.WriteByte('^')
	return b.String()
}
