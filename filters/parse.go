package filters

import (
	"fmt"
	"regexp"
	"strings"
)

// pred is a compiled condition; operand a compiled value.
type (
	pred    = func(Fields) bool
	operand = func(Fields) (val, bool)
)

// expr is the result of parsing a sub-expression: either a condition (cond
// set) or a value (value set, plus lit for constants and field for bare
// fields, which allow faster closures).
type expr struct {
	pos   int
	cond  pred
	value operand
	lit   *val
	field string
}

type parser struct {
	src    string
	toks   []token
	i      int
	depth  int
	fields []string
	seen   map[string]bool // lower-cased names in fields
	// bare are the fields written without the "Property." prefix.
	bare     []FieldRef
	seenBare map[string]bool
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errAt(pos int, format string, args ...any) error {
	return &SyntaxError{Expr: p.src, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) isOp(op string) bool {
	t := p.peek()
	return t.kind == tOp && t.text == op
}

func (p *parser) isWord(w string) bool {
	t := p.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, w)
}

// parse compiles the whole expression.
func (p *parser) parse() (pred, error) {
	if p.peek().kind == tEOF {
		return nil, p.errAt(0, "empty filter")
	}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errAt(t.pos, "unexpected %s; expected &&, || or the end of the filter", t.desc())
	}
	return p.cond(e), nil
}

// or := and { ("||" | "or") and }
func (p *parser) or() (expr, error) {
	first, err := p.and()
	if err != nil {
		return expr{}, err
	}
	if !p.isOp("||") && !p.isWord("or") {
		return first, nil
	}
	terms := []pred{p.cond(first)}
	for p.isOp("||") || p.isWord("or") {
		p.next()
		e, err := p.and()
		if err != nil {
			return expr{}, err
		}
		terms = append(terms, p.cond(e))
	}
	if len(terms) == 2 {
		a, b := terms[0], terms[1]
		return expr{pos: first.pos, cond: func(x Fields) bool { return a(x) || b(x) }}, nil
	}
	return expr{pos: first.pos, cond: func(x Fields) bool {
		for _, t := range terms {
			if t(x) {
				return true
			}
		}
		return false
	}}, nil
}

// and := unary { ("&&" | "and") unary }
func (p *parser) and() (expr, error) {
	first, err := p.unary()
	if err != nil {
		return expr{}, err
	}
	if !p.isOp("&&") && !p.isWord("and") {
		return first, nil
	}
	terms := []pred{p.cond(first)}
	for p.isOp("&&") || p.isWord("and") {
		p.next()
		e, err := p.unary()
		if err != nil {
			return expr{}, err
		}
		terms = append(terms, p.cond(e))
	}
	if len(terms) == 2 {
		a, b := terms[0], terms[1]
		return expr{pos: first.pos, cond: func(x Fields) bool { return a(x) && b(x) }}, nil
	}
	return expr{pos: first.pos, cond: func(x Fields) bool {
		for _, t := range terms {
			if !t(x) {
				return false
			}
		}
		return true
	}}, nil
}

// enter counts one level of nesting.
func (p *parser) enter(pos int) error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errAt(pos, "expression nested too deeply (more than %d levels)", MaxDepth)
	}
	return nil
}

// unary := ("!" | "not") unary | comparison
//
// The negation applies to the whole comparison that follows:
// !id == 728 is !(id == 728), not (!id) == 728.
func (p *parser) unary() (expr, error) {
	t := p.peek()
	if !p.isOp("!") && !p.isWord("not") {
		return p.comparison()
	}
	p.next()
	if err := p.enter(t.pos); err != nil {
		return expr{}, err
	}
	e, err := p.unary()
	p.depth--
	if err != nil {
		return expr{}, err
	}
	c := p.cond(e)
	return expr{pos: t.pos, cond: func(x Fields) bool { return !c(x) }}, nil
}

// comparison := bitand [ cmpop bitand | ["not"] "in" "(" literal { "," literal } ")" ]
func (p *parser) comparison() (expr, error) {
	l, err := p.bitand()
	if err != nil {
		return expr{}, err
	}
	if p.isWord("in") || p.isWord("not") && p.toks[p.i+1].kind == tIdent && strings.EqualFold(p.toks[p.i+1].text, "in") {
		negate := p.isWord("not")
		if negate {
			p.next()
		}
		in := p.next()
		lv, err := p.valueOf(l)
		if err != nil {
			return expr{}, err
		}
		set, err := p.list(in)
		if err != nil {
			return expr{}, err
		}
		return expr{pos: l.pos, cond: inSet(l.field, lv, set, negate)}, nil
	}
	t := p.peek()
	op, isCmp := cmpOps[t.text]
	if t.kind != tOp || !isCmp {
		return l, nil
	}
	p.next()
	r, err := p.bitand()
	if err != nil {
		return expr{}, err
	}
	lv, err := p.valueOf(l)
	if err != nil {
		return expr{}, err
	}
	rv, err := p.valueOf(r)
	if err != nil {
		return expr{}, err
	}
	return expr{pos: l.pos, cond: compareExprs(l, r, lv, rv, op)}, nil
}

func compareExprs(l, r expr, lv, rv operand, op cmpOp) pred {
	switch {
	case l.field != "" && r.lit != nil:
		name, b := l.field, *r.lit
		return func(x Fields) bool {
			v, ok := x.Lookup(name)
			if !ok {
				return false
			}
			if res, done := fastCompare(v, b, op); done {
				return res
			}
			a, ok := fromAny(v)
			return ok && compare(a, b, op)
		}
	case r.lit != nil:
		b := *r.lit
		return func(x Fields) bool {
			a, ok := lv(x)
			return ok && compare(a, b, op)
		}
	}
	return func(x Fields) bool {
		a, ok := lv(x)
		if !ok {
			return false
		}
		b, ok := rv(x)
		return ok && compare(a, b, op)
	}
}

func inSet(field string, lv operand, set []val, negate bool) pred {
	if field != "" {
		return func(x Fields) bool {
			v, ok := x.Lookup(field)
			if !ok {
				return false
			}
			for _, s := range set {
				res, done := fastCompare(v, s, opEq)
				if !done {
					a, ok := fromAny(v)
					res = ok && compare(a, s, opEq)
				}
				if res {
					return !negate
				}
			}
			return negate
		}
	}
	return func(x Fields) bool {
		a, ok := lv(x)
		if !ok {
			return false // a missing field is in no list, and not "not in" one either
		}
		for _, s := range set {
			if compare(a, s, opEq) {
				return !negate
			}
		}
		return negate
	}
}

// list parses the parenthesised literals after "in".
func (p *parser) list(in token) ([]val, error) {
	if t := p.next(); t.kind != tOp || t.text != "(" {
		return nil, p.errAt(t.pos, "expected '(' after %s, found %s", in.text, t.desc())
	}
	if t := p.peek(); t.kind == tOp && t.text == ")" {
		return nil, p.errAt(t.pos, "empty list after %s; expected a number or string", in.text)
	}
	var set []val
	for {
		e, err := p.literal()
		if err != nil {
			return nil, err
		}
		set = append(set, e)
		t := p.next()
		if t.kind == tOp && t.text == ")" {
			return set, nil
		}
		if t.kind != tOp || t.text != "," {
			return nil, p.errAt(t.pos, "expected ',' or ')', found %s", t.desc())
		}
	}
}

// literal parses a number (optionally negative), a string or true/false.
func (p *parser) literal() (val, error) {
	t := p.next()
	switch {
	case t.kind == tNumber || t.kind == tString:
		return t.val, nil
	case t.kind == tIdent && strings.EqualFold(t.text, "true"):
		return intVal(1), nil
	case t.kind == tIdent && strings.EqualFold(t.text, "false"):
		return intVal(0), nil
	case t.kind == tOp && t.text == "-":
		n := p.next()
		if n.kind != tNumber {
			return val{}, p.errAt(n.pos, "expected a number after '-', found %s", n.desc())
		}
		return negate(n.val), nil
	}
	return val{}, p.errAt(t.pos, "expected a number or string, found %s", t.desc())
}

func negate(v val) val {
	switch v.k {
	case kFloat:
		return floatVal(-v.f)
	case kUint:
		if v.n == 1<<63 {
			return intVal(-1 << 63)
		}
		return floatVal(-float64(v.n))
	}
	return intVal(-int64(v.n))
}

// bitand := primary { "&" primary }
func (p *parser) bitand() (expr, error) {
	first, err := p.primary()
	if err != nil || !p.isOp("&") {
		return first, err
	}
	v, err := p.valueOf(first)
	if err != nil {
		return expr{}, err
	}
	terms := []operand{v}
	var lits []*val
	for p.isOp("&") {
		p.next()
		e, err := p.primary()
		if err != nil {
			return expr{}, err
		}
		lits = append(lits, e.lit)
		v, err := p.valueOf(e)
		if err != nil {
			return expr{}, err
		}
		terms = append(terms, v)
	}
	if m, ok := constMask(lits); ok && first.field != "" {
		return expr{pos: first.pos, value: maskField(first.field, m)}, nil
	}
	return expr{pos: first.pos, value: func(x Fields) (val, bool) {
		acc, ok := terms[0](x)
		for _, t := range terms[1:] {
			if !ok {
				break
			}
			var b val
			if b, ok = t(x); ok {
				acc, ok = bitAnd(acc, b)
			}
		}
		return acc, ok
	}}, nil
}

// primary := literal | "(" or ")" | field { "." name } [ "." method "(" string ")" ]
func (p *parser) primary() (expr, error) {
	t := p.peek()
	switch t.kind {
	case tNumber, tString:
		v, err := p.literal()
		return constant(t.pos, v), err
	case tOp:
		switch t.text {
		case "-":
			v, err := p.literal()
			return constant(t.pos, v), err
		case "(":
			p.next()
			if err := p.enter(t.pos); err != nil {
				return expr{}, err
			}
			e, err := p.or()
			p.depth--
			if err != nil {
				return expr{}, err
			}
			if c := p.next(); c.kind != tOp || c.text != ")" {
				return expr{}, p.errAt(c.pos, "expected ')' to close the '(' at column %d, found %s", p.column(t.pos), c.desc())
			}
			e.pos = t.pos
			return e, nil
		}
	case tIdent:
		switch strings.ToLower(t.text) {
		case "true", "false":
			v, err := p.literal()
			return constant(t.pos, v), err
		case "and", "or", "not", "in":
			// not is handled by unary; here it is misplaced.
		default:
			return p.fieldOrMethod()
		}
	}
	return expr{}, p.errAt(t.pos, "expected a field, number or string, found %s", t.desc())
}

// column is the 1-based character column of a byte offset.
func (p *parser) column(pos int) int {
	return len([]rune(p.src[:pos])) + 1
}

func constant(pos int, v val) expr {
	return expr{pos: pos, lit: &v, value: func(Fields) (val, bool) { return v, true }}
}

// methodNames lists the methods in the order error messages name them.
var methodNames = []string{"contains", "startswith", "endswith", "matches"}

func (p *parser) fieldOrMethod() (expr, error) {
	first := p.next()
	parts := []string{first.text}
	for p.isOp(".") {
		p.next()
		seg := p.next()
		if seg.kind != tIdent {
			return expr{}, p.errAt(seg.pos, "expected a field name or method after '.', found %s", seg.desc())
		}
		if p.isOp("(") {
			name := p.field(first.pos, parts)
			return p.method(first.pos, name, seg)
		}
		parts = append(parts, seg.text)
	}
	if p.isOp("(") {
		return expr{}, p.errAt(first.pos, "unknown function %q; methods are called on a field, e.g. description.contains(\"x\")", strings.Join(parts, "."))
	}
	name := p.field(first.pos, parts)
	return expr{pos: first.pos, field: name, value: func(x Fields) (val, bool) {
		v, ok := x.Lookup(name)
		if !ok {
			return val{}, false
		}
		return fromAny(v)
	}}, nil
}

// field records a referenced field and returns its name without the
// "Property." prefix.
func (p *parser) field(pos int, parts []string) string {
	qualified := false
	if len(parts) > 1 && strings.EqualFold(parts[0], "property") {
		parts = parts[1:]
		qualified = true
	}
	name := strings.Join(parts, ".")
	key := strings.ToLower(name)
	if p.seen == nil {
		p.seen = map[string]bool{}
	}
	if !p.seen[key] {
		p.seen[key] = true
		p.fields = append(p.fields, name)
	}
	if !qualified && !p.seenBare[key] {
		if p.seenBare == nil {
			p.seenBare = map[string]bool{}
		}
		p.seenBare[key] = true
		p.bare = append(p.bare, FieldRef{Name: name, Pos: pos})
	}
	return name
}

// method compiles field.method("arg"); the current token is the "(".
func (p *parser) method(pos int, field string, m token) (expr, error) {
	name := strings.ToLower(m.text)
	known := false
	for _, n := range methodNames {
		known = known || n == name
	}
	if !known {
		return expr{}, p.errAt(m.pos, "unknown method %q; want %s", m.text, strings.Join(methodNames, ", "))
	}
	p.next() // (
	arg := p.next()
	if arg.kind != tString {
		return expr{}, p.errAt(arg.pos, "%s() takes one string argument, found %s", name, arg.desc())
	}
	if c := p.next(); c.kind != tOp || c.text != ")" {
		return expr{}, p.errAt(c.pos, "expected ')' after the argument of %s(), found %s", name, c.desc())
	}
	s := arg.val.s
	var test func(string) bool
	switch name {
	case "contains":
		f := newFolder(s)
		test = f.in
	case "startswith":
		test = func(v string) bool { return prefixFold(v, s) }
	case "endswith":
		test = func(v string) bool { return suffixFold(v, s) }
	case "matches":
		if _, err := regexp.Compile(s); err != nil {
			msg := strings.TrimPrefix(err.Error(), "error parsing regexp: ")
			return expr{}, p.errAt(arg.pos, "bad regular expression: %s", msg)
		}
		re := regexp.MustCompile("(?i)" + s)
		test = re.MatchString
	}
	return expr{pos: pos, cond: func(x Fields) bool {
		v, ok := x.Lookup(field)
		if !ok {
			return false
		}
		if str, ok := v.(string); ok {
			return test(str)
		}
		a, ok := fromAny(v)
		return ok && testVal(a, test)
	}}, nil
}

// testVal applies a string test to any value: numbers as decimal text, lists
// element by element.
func testVal(v val, test func(string) bool) bool {
	switch v.k {
	case kStr:
		return test(v.s)
	case kList:
		for i, n := 0, listLen(v.list); i < n; i++ {
			if e, ok := listAt(v.list, i); ok && testVal(e, test) {
				return true
			}
		}
		return false
	}
	return test(v.text())
}

// valueOf returns e as a value; a condition cannot be one.
func (p *parser) valueOf(e expr) (operand, error) {
	if e.value == nil {
		return nil, p.errAt(e.pos, "expected a value, found a condition (a comparison or method call cannot be compared or masked)")
	}
	return e.value, nil
}

// cond returns e as a condition: a value alone is true when present and
// non-zero or non-empty.
func (p *parser) cond(e expr) pred {
	if e.cond != nil {
		return e.cond
	}
	if e.field != "" {
		name := e.field
		return func(x Fields) bool {
			v, ok := x.Lookup(name)
			if !ok {
				return false
			}
			a, ok := fromAny(v)
			return ok && a.truthy()
		}
	}
	v := e.value
	return func(x Fields) bool {
		a, ok := v(x)
		return ok && a.truthy()
	}
}

// constMask folds the literal right-hand sides of field & lit & lit… into
// one value; ok is false when any of them is not a constant integer.
func constMask(lits []*val) (val, bool) {
	var m val
	for i, l := range lits {
		if l == nil {
			return val{}, false
		}
		if i == 0 {
			m = *l
		}
		var ok bool
		if m, ok = bitAnd(m, *l); !ok {
			return val{}, false
		}
	}
	return m, len(lits) > 0
}

// maskField is the value of field & m for a constant integer m.
func maskField(field string, m val) operand {
	bits, _ := m.bits()
	return func(x Fields) (val, bool) {
		v, ok := x.Lookup(field)
		if !ok {
			return val{}, false
		}
		switch n := v.(type) {
		case uint64:
			return uintVal(n & bits), true
		case int64:
			if m.k == kInt {
				return intVal(n & int64(bits)), true
			}
			return uintVal(uint64(n) & bits), true
		}
		a, ok := fromAny(v)
		if !ok {
			return val{}, false
		}
		return bitAnd(a, m)
	}
}
