// Package filters implements the Network-Monitor-style display filters of
// etlscope: `description.contains("EnabledProtocols")`,
// `provider == "Microsoft-Windows-WebIO" && id in (728, 729, 730)`,
// `EnabledProtocols & 0x800`, … (see docs/filters.md).
//
// An expression is compiled once into a tree of closures; matching an
// event calls them without parsing anything again.
package filters

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Fields is what a filter evaluates against.
type Fields interface {
	// Lookup returns the value of a field. name is as the user wrote it,
	// minus a leading "Property." prefix; implementations match names
	// case-insensitively. Values are string, int64, uint64, float64, bool,
	// []string, []int64, []uint64 or a fmt.Stringer.
	Lookup(name string) (v any, ok bool)
}

// Filter is a compiled expression. It is immutable and safe for concurrent
// use.
type Filter struct {
	src    string
	eval   func(Fields) bool
	fields []string
}

// String returns the source expression.
func (f *Filter) String() string { return f.src }

// Fields returns the field names the expression refers to.
func (f *Filter) Fields() []string { return f.fields }

// Match reports whether x satisfies the filter. Missing fields make
// comparisons false; nothing fails at match time.
func (f *Filter) Match(x Fields) bool { return f.eval(x) }

// SyntaxError is a compile error with the column it was found at.
type SyntaxError struct {
	Expr string
	Pos  int // byte offset in Expr
	Msg  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("filter: %s at column %d\n  %s\n  %s^", e.Msg, e.Pos+1, e.Expr, strings.Repeat(" ", e.Pos))
}

// Limits against hostile expressions.
const (
	maxExprLen = 64 << 10
	maxDepth   = 200
)

// Compile parses expr.
func Compile(expr string) (*Filter, error) {
	if len(expr) > maxExprLen {
		return nil, &SyntaxError{Expr: expr[:80] + "…", Pos: 0, Msg: fmt.Sprintf("expression longer than %d bytes", maxExprLen)}
	}
	toks, err := lex(expr)
	if err != nil {
		return nil, err
	}
	p := &parser{src: expr, toks: toks, seen: map[string]bool{}}
	if p.peek().kind == tEOF {
		return nil, p.errAt(p.peek(), "empty filter")
	}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errAt(t, fmt.Sprintf("unexpected %s; expected an operator (&&, ||) or the end", t.desc()))
	}
	return &Filter{src: expr, eval: e, fields: p.fields}, nil
}

// MustCompile is Compile for expressions known to be valid.
func MustCompile(expr string) *Filter {
	f, err := Compile(expr)
	if err != nil {
		panic(err)
	}
	return f
}

// ---- lexer

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tNumber
	tString
	tOp // == != < <= > >= && || ! & ( ) , .
)

type token struct {
	kind tokKind
	text string // identifier, operator, or decoded string
	num  int64
	pos  int
}

func (t token) desc() string {
	switch t.kind {
	case tEOF:
		return "end of filter"
	case tString:
		return strconv.Quote(t.text)
	}
	return "'" + t.text + "'"
}

func lex(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"' || c == '\'':
			j := i + 1
			var b strings.Builder
			for ; j < len(s) && s[j] != c; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
					switch s[j] {
					case 'n':
						b.WriteByte('\n')
					case 't':
						b.WriteByte('\t')
					default:
						b.WriteByte(s[j])
					}
					continue
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, &SyntaxError{Expr: s, Pos: i, Msg: "unterminated string"}
			}
			toks = append(toks, token{kind: tString, text: b.String(), pos: i})
			i = j + 1
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && (isIdent(s[j])) {
				j++
			}
			n, err := strconv.ParseInt(s[i:j], 0, 64)
			if err != nil {
				u, uerr := strconv.ParseUint(s[i:j], 0, 64)
				if uerr != nil {
					return nil, &SyntaxError{Expr: s, Pos: i, Msg: fmt.Sprintf("bad number %q", s[i:j])}
				}
				n = int64(u)
			}
			toks = append(toks, token{kind: tNumber, num: n, text: s[i:j], pos: i})
			i = j
		case isIdent(c):
			j := i
			for j < len(s) && isIdent(s[j]) {
				j++
			}
			toks = append(toks, token{kind: tIdent, text: s[i:j], pos: i})
			i = j
		default:
			two := ""
			if i+1 < len(s) {
				two = s[i : i+2]
			}
			switch two {
			case "==", "!=", "<=", ">=", "&&", "||":
				toks = append(toks, token{kind: tOp, text: two, pos: i})
				i += 2
				continue
			}
			switch c {
			case '<', '>', '!', '&', '(', ')', ',', '.', '=':
				t := string(c)
				if c == '=' {
					t = "==" // a single '=' means equality, as in Network Monitor
				}
				toks = append(toks, token{kind: tOp, text: t, pos: i})
				i++
			default:
				return nil, &SyntaxError{Expr: s, Pos: i, Msg: fmt.Sprintf("unexpected character %q", c)}
			}
		}
	}
	return append(toks, token{kind: tEOF, pos: len(s)}), nil
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// ---- parser

type parser struct {
	src    string
	toks   []token
	i      int
	depth  int
	fields []string
	seen   map[string]bool
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token { t := p.toks[p.i]; p.i++; return t }

func (p *parser) errAt(t token, msg string) error {
	return &SyntaxError{Expr: p.src, Pos: t.pos, Msg: msg}
}

func (p *parser) isOp(s string) bool {
	t := p.peek()
	return t.kind == tOp && t.text == s
}

func (p *parser) isWord(s string) bool {
	t := p.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, s)
}

type pred = func(Fields) bool

func (p *parser) or() (pred, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.isOp("||") || p.isWord("or") {
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		a, b := l, r
		l = func(x Fields) bool { return a(x) || b(x) }
	}
	return l, nil
}

func (p *parser) and() (pred, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.isOp("&&") || p.isWord("and") {
		p.next()
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		a, b := l, r
		l = func(x Fields) bool { return a(x) && b(x) }
	}
	return l, nil
}

func (p *parser) unary() (pred, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errAt(p.peek(), "expression nested too deeply")
	}
	if p.isOp("!") || p.isWord("not") {
		p.next()
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		return func(x Fields) bool { return !e(x) }, nil
	}
	return p.comparison()
}

// operand evaluates to a value.
type operand = func(Fields) (val, bool)

func (p *parser) comparison() (pred, error) {
	// A parenthesised boolean expression.
	if p.isOp("(") {
		save := p.i
		p.next()
		e, err := p.or()
		if err == nil && p.isOp(")") {
			p.next()
			if !p.isCmpOp() && !p.isOp("&") {
				return e, nil
			}
		}
		p.i = save // not a boolean group: an arithmetic one, e.g. (x & 4) == 4
	}
	start := p.peek()
	l, isPred, err := p.bitand()
	if err != nil {
		return nil, err
	}
	if isPred != nil {
		return isPred, nil
	}
	if p.isWord("in") {
		p.next()
		if !p.isOp("(") {
			return nil, p.errAt(p.peek(), fmt.Sprintf("expected '(' after in, found %s", p.peek().desc()))
		}
		p.next()
		var set []val
		for {
			t := p.next()
			switch t.kind {
			case tNumber:
				set = append(set, numVal(t.num))
			case tString:
				set = append(set, strVal(t.text))
			default:
				if t.kind == tOp && t.text == ")" && len(set) == 0 {
					return nil, p.errAt(t, "empty list after in")
				}
				return nil, p.errAt(t, fmt.Sprintf("expected a number or string in the list, found %s", t.desc()))
			}
			if p.isOp(",") {
				p.next()
				continue
			}
			if p.isOp(")") {
				p.next()
				break
			}
			return nil, p.errAt(p.peek(), fmt.Sprintf("expected ',' or ')', found %s", p.peek().desc()))
		}
		return func(x Fields) bool {
			v, ok := l(x)
			if !ok {
				return false
			}
			for _, s := range set {
				if compare(v, s, "==") {
					return true
				}
			}
			return false
		}, nil
	}
	if p.isCmpOp() {
		op := p.next().text
		r, rp, err := p.bitand()
		if err != nil {
			return nil, err
		}
		if rp != nil {
			return nil, p.errAt(start, "a method call cannot be compared")
		}
		return func(x Fields) bool {
			a, ok := l(x)
			if !ok {
				return false
			}
			b, ok := r(x)
			if !ok {
				return false
			}
			return compare(a, b, op)
		}, nil
	}
	// A bare operand: true when present and non-zero / non-empty.
	return func(x Fields) bool {
		v, ok := l(x)
		return ok && v.truthy()
	}, nil
}

func (p *parser) isCmpOp() bool {
	t := p.peek()
	if t.kind != tOp {
		return false
	}
	switch t.text {
	case "==", "!=", "<", "<=", ">", ">=":
		return true
	}
	return false
}

// bitand parses operand ('&' operand)*. When the operand is a method call
// it returns that predicate instead.
func (p *parser) bitand() (operand, pred, error) {
	l, pr, err := p.primary()
	if err != nil || pr != nil {
		return nil, pr, err
	}
	for p.isOp("&") {
		p.next()
		r, rp, err := p.primary()
		if err != nil {
			return nil, nil, err
		}
		if rp != nil {
			return nil, nil, p.errAt(p.toks[p.i-1], "a method call cannot be an operand of &")
		}
		a, b := l, r
		l = func(x Fields) (val, bool) {
			u, ok := a(x)
			if !ok {
				return val{}, false
			}
			w, ok := b(x)
			if !ok {
				return val{}, false
			}
			un, ok1 := u.number()
			wn, ok2 := w.number()
			if !ok1 || !ok2 {
				return val{}, false
			}
			return numVal(un & wn), true
		}
	}
	return l, nil, nil
}

var methods = map[string]bool{"contains": true, "startswith": true, "endswith": true, "matches": true}

func (p *parser) primary() (operand, pred, error) {
	t := p.next()
	switch t.kind {
	case tNumber:
		v := numVal(t.num)
		return func(Fields) (val, bool) { return v, true }, nil, nil
	case tString:
		v := strVal(t.text)
		return func(Fields) (val, bool) { return v, true }, nil, nil
	case tOp:
		if t.text == "(" {
			l, pr, err := p.bitand()
			if err != nil {
				return nil, nil, err
			}
			if pr != nil {
				return nil, nil, p.errAt(t, "a method call cannot be grouped as a value")
			}
			if !p.isOp(")") {
				return nil, nil, p.errAt(p.peek(), fmt.Sprintf("expected ')', found %s", p.peek().desc()))
			}
			p.next()
			return l, nil, nil
		}
		return nil, nil, p.errAt(t, fmt.Sprintf("expected a field, number or string, found %s", t.desc()))
	case tEOF:
		return nil, nil, p.errAt(t, "expected a field, number or string, found end of filter")
	}
	// A field path, possibly followed by .method(args).
	parts := []string{t.text}
	for p.isOp(".") {
		p.next()
		seg := p.next()
		if seg.kind != tIdent {
			return nil, nil, p.errAt(seg, fmt.Sprintf("expected a name after '.', found %s", seg.desc()))
		}
		if p.isOp("(") {
			name := strings.ToLower(seg.text)
			if !methods[name] {
				return nil, nil, p.errAt(seg, fmt.Sprintf("unknown method %q; want contains, startswith, endswith, matches", seg.text))
			}
			pr, err := p.method(p.field(parts), name, seg)
			return nil, pr, err
		}
		parts = append(parts, seg.text)
	}
	if p.isOp("(") {
		return nil, nil, p.errAt(t, fmt.Sprintf("unknown function %q; methods are called on a field, e.g. description.contains(\"x\")", t.text))
	}
	return p.field(parts), nil, nil
}

func (p *parser) field(parts []string) operand {
	if len(parts) > 1 && strings.EqualFold(parts[0], "property") {
		parts = parts[1:]
	}
	name := strings.Join(parts, ".")
	if !p.seen[strings.ToLower(name)] {
		p.seen[strings.ToLower(name)] = true
		p.fields = append(p.fields, name)
	}
	return func(x Fields) (val, bool) {
		v, ok := x.Lookup(name)
		if !ok {
			return val{}, false
		}
		return fromAny(v)
	}
}

func (p *parser) method(recv operand, name string, at token) (pred, error) {
	p.next() // (
	arg := p.next()
	if arg.kind != tString {
		return nil, p.errAt(arg, fmt.Sprintf("%s() takes a string, found %s", name, arg.desc()))
	}
	if !p.isOp(")") {
		return nil, p.errAt(p.peek(), fmt.Sprintf("expected ')', found %s", p.peek().desc()))
	}
	p.next()
	needle := strings.ToLower(arg.text)
	var test func(string) bool
	switch name {
	case "contains":
		test = func(s string) bool { return containsFold(s, needle) }
	case "startswith":
		test = func(s string) bool { return len(s) >= len(needle) && strings.EqualFold(s[:len(needle)], needle) }
	case "endswith":
		test = func(s string) bool { return len(s) >= len(needle) && strings.EqualFold(s[len(s)-len(needle):], needle) }
	case "matches":
		re, err := regexp.Compile("(?i)" + arg.text)
		if err != nil {
			return nil, p.errAt(arg, fmt.Sprintf("bad regular expression: %v", err))
		}
		test = re.MatchString
	}
	return func(x Fields) bool {
		v, ok := recv(x)
		if !ok {
			return false
		}
		if v.list != nil {
			for _, e := range v.list {
				if test(e.text()) {
					return true
				}
			}
			return false
		}
		return test(v.text())
	}, nil
}

// containsFold reports whether s contains the lower-case needle, ignoring
// ASCII case, without allocating.
func containsFold(s, needle string) bool {
	n := len(needle)
	if n == 0 {
		return true
	}
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for ; j < n; j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != needle[j] {
				break
			}
		}
		if j == n {
			return true
		}
	}
	// Non-ASCII: fall back to Unicode folding.
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return strings.Contains(strings.ToLower(s), needle)
		}
	}
	return false
}

// ---- values

type val struct {
	isNum bool
	n     int64
	s     string
	list  []val
}

func numVal(n int64) val  { return val{isNum: true, n: n} }
func strVal(s string) val { return val{s: s} }

func (v val) text() string {
	if v.isNum {
		return strconv.FormatInt(v.n, 10)
	}
	return v.s
}

// number returns v as a number, converting numeric strings ("0x800",
// "728", "0xa80 (TLS1.0|…)").
func (v val) number() (int64, bool) {
	if v.isNum {
		return v.n, true
	}
	s := v.s
	if i := strings.IndexByte(s, ' '); i > 0 {
		s = s[:i]
	}
	if n, err := strconv.ParseInt(s, 0, 64); err == nil {
		return n, true
	}
	if u, err := strconv.ParseUint(s, 0, 64); err == nil {
		return int64(u), true
	}
	return 0, false
}

func (v val) truthy() bool {
	if v.list != nil {
		return len(v.list) > 0
	}
	if v.isNum {
		return v.n != 0
	}
	return v.s != ""
}

func fromAny(a any) (val, bool) {
	switch x := a.(type) {
	case nil:
		return val{}, false
	case string:
		return strVal(x), true
	case int64:
		return numVal(x), true
	case uint64:
		return numVal(int64(x)), true
	case int:
		return numVal(int64(x)), true
	case uint32:
		return numVal(int64(x)), true
	case uint16:
		return numVal(int64(x)), true
	case uint8:
		return numVal(int64(x)), true
	case float64:
		return numVal(int64(x)), true
	case bool:
		if x {
			return numVal(1), true
		}
		return numVal(0), true
	case []string:
		l := make([]val, len(x))
		for i, s := range x {
			l[i] = strVal(s)
		}
		return val{list: l}, true
	case []int64:
		l := make([]val, len(x))
		for i, n := range x {
			l[i] = numVal(n)
		}
		return val{list: l}, true
	case []uint64:
		l := make([]val, len(x))
		for i, n := range x {
			l[i] = numVal(int64(n))
		}
		return val{list: l}, true
	case fmt.Stringer:
		return strVal(x.String()), true
	}
	return strVal(fmt.Sprint(a)), true
}

// compare applies op to a and b: numerically when both can be numbers,
// else as case-insensitive strings. Lists match when any element does.
func compare(a, b val, op string) bool {
	if a.list != nil {
		for _, e := range a.list {
			if compare(e, b, op) {
				return true
			}
		}
		return false
	}
	if a.isNum || b.isNum {
		x, ok1 := a.number()
		y, ok2 := b.number()
		if !ok1 || !ok2 {
			return false
		}
		switch op {
		case "==":
			return x == y
		case "!=":
			return x != y
		case "<":
			return x < y
		case "<=":
			return x <= y
		case ">":
			return x > y
		case ">=":
			return x >= y
		}
		return false
	}
	switch op {
	case "==":
		return strings.EqualFold(a.s, b.s)
	case "!=":
		return !strings.EqualFold(a.s, b.s)
	}
	c := strings.Compare(strings.ToLower(a.s), strings.ToLower(b.s))
	switch op {
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}
