package filters

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// kind is the dynamic type of a val.
type kind uint8

const (
	kStr   kind = iota // s
	kInt               // int64(n)
	kUint              // n, only for values above math.MaxInt64
	kFloat             // f
	kList              // list: a slice as returned by Lookup
)

// val is a value during matching. It is passed by value so that matching
// does not allocate; a multi-valued field keeps the slice Lookup returned
// (inside the interface it came in) instead of converting it.
type val struct {
	k    kind
	n    uint64
	f    float64
	s    string
	list any
}

func strVal(s string) val    { return val{k: kStr, s: s} }
func intVal(i int64) val     { return val{k: kInt, n: uint64(i)} }
func floatVal(f float64) val { return val{k: kFloat, f: f} }

func uintVal(u uint64) val {
	if u > math.MaxInt64 {
		return val{k: kUint, n: u}
	}
	return val{k: kInt, n: u}
}

func (v val) isNum() bool { return v.k == kInt || v.k == kUint || v.k == kFloat }

// fromAny converts a value returned by Fields.Lookup.
func fromAny(a any) (val, bool) {
	switch x := a.(type) {
	case nil:
		return val{}, false
	case string:
		return strVal(x), true
	case int64:
		return intVal(x), true
	case uint64:
		return uintVal(x), true
	case int:
		return intVal(int64(x)), true
	case int32:
		return intVal(int64(x)), true
	case int16:
		return intVal(int64(x)), true
	case int8:
		return intVal(int64(x)), true
	case uint:
		return uintVal(uint64(x)), true
	case uint32:
		return uintVal(uint64(x)), true
	case uint16:
		return uintVal(uint64(x)), true
	case uint8:
		return uintVal(uint64(x)), true
	case float64:
		return floatVal(x), true
	case float32:
		return floatVal(float64(x)), true
	case bool:
		if x {
			return intVal(1), true
		}
		return intVal(0), true
	case []string, []int64, []uint64, []int, []float64, []any:
		return val{k: kList, list: a}, true
	case fmt.Stringer:
		return strVal(x.String()), true
	case error:
		return strVal(x.Error()), true
	}
	return strVal(fmt.Sprint(a)), true
}

// listLen and listAt read the elements of a kList value.
func listLen(l any) int {
	switch x := l.(type) {
	case []string:
		return len(x)
	case []int64:
		return len(x)
	case []uint64:
		return len(x)
	case []int:
		return len(x)
	case []float64:
		return len(x)
	case []any:
		return len(x)
	}
	return 0
}

func listAt(l any, i int) (val, bool) {
	switch x := l.(type) {
	case []string:
		return strVal(x[i]), true
	case []int64:
		return intVal(x[i]), true
	case []uint64:
		return uintVal(x[i]), true
	case []int:
		return intVal(int64(x[i])), true
	case []float64:
		return floatVal(x[i]), true
	case []any:
		return fromAny(x[i])
	}
	return val{}, false
}

// num returns v as a number, converting a string that holds one.
func (v val) num() (val, bool) {
	if v.isNum() {
		return v, true
	}
	if v.k == kStr {
		return parseNum(v.s)
	}
	return val{}, false
}

// parseNum reads a number from s without allocating: optional sign, then
// decimal, 0x hexadecimal or a decimal fraction; "true" and "false" are 1
// and 0. Only the first word counts, so the rendered "0xa80 (TLS1.0|…)"
// is 0xa80.
func parseNum(s string) (val, bool) {
	s = strings.TrimLeft(s, " \t")
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		s = s[:i]
	}
	switch {
	case strings.EqualFold(s, "true"):
		return intVal(1), true
	case strings.EqualFold(s, "false"):
		return intVal(0), true
	}
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return val{}, false
	}
	var u uint64
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		if strings.Trim(s[2:], "0123456789abcdefABCDEF") != "" {
			return val{}, false
		}
		h := strings.TrimLeft(s[2:], "0")
		if len(h) > 16 {
			return val{}, false
		}
		for i := 0; i < len(h); i++ {
			d, ok := hexDigit(h[i])
			if !ok {
				return val{}, false
			}
			u = u<<4 | uint64(d)
		}
	} else {
		dot := false
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c >= '0' && c <= '9':
				if !dot {
					d := uint64(c - '0')
					if u > (math.MaxUint64-d)/10 {
						return val{}, false
					}
					u = u*10 + d
				}
			case c == '.' && !dot && i > 0 && i+1 < len(s):
				dot = true
			default:
				return val{}, false
			}
		}
		if dot {
			f, err := strconv.ParseFloat(s, 64) // syntax already checked: cannot fail
			if err != nil {
				return val{}, false
			}
			if neg {
				f = -f
			}
			return floatVal(f), true
		}
	}
	if neg {
		if u > 1<<63 {
			return val{}, false
		}
		return intVal(-int64(u)), true
	}
	return uintVal(u), true
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// float returns a numeric v as float64.
func (v val) float() float64 {
	switch v.k {
	case kInt:
		return float64(int64(v.n))
	case kUint:
		return float64(v.n)
	}
	return v.f
}

// bits returns an integral numeric v as its 64-bit pattern.
func (v val) bits() (uint64, bool) {
	switch v.k {
	case kInt, kUint:
		return v.n, true
	case kFloat:
		if v.f == math.Trunc(v.f) && v.f >= math.MinInt64 && v.f < math.MaxUint64 {
			if v.f < 0 {
				return uint64(int64(v.f)), true
			}
			return uint64(v.f), true
		}
	}
	return 0, false
}

// cmpNum compares two numeric values; ok is false when either is NaN.
func cmpNum(a, b val) (c int, ok bool) {
	if a.k == kFloat || b.k == kFloat {
		x, y := a.float(), b.float()
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		case x == y:
			return 0, true
		}
		return 0, false
	}
	switch {
	case a.k == kInt && b.k == kInt:
		x, y := int64(a.n), int64(b.n)
		if x < y {
			return -1, true
		} else if x > y {
			return 1, true
		}
		return 0, true
	case a.k == kInt: // b above MaxInt64
		return -1, true
	case b.k == kInt:
		return 1, true
	}
	if a.n < b.n {
		return -1, true
	} else if a.n > b.n {
		return 1, true
	}
	return 0, true
}

// bitAnd is a & b on integral values.
func bitAnd(a, b val) (val, bool) {
	a, ok1 := a.num()
	b, ok2 := b.num()
	if !ok1 || !ok2 {
		return val{}, false
	}
	x, ok1 := a.bits()
	y, ok2 := b.bits()
	if !ok1 || !ok2 {
		return val{}, false
	}
	if a.k == kInt && b.k == kInt {
		return intVal(int64(x & y)), true
	}
	return uintVal(x & y), true
}

// truthy reports whether a value counts as true on its own: a non-zero
// number, a non-empty string that is not a number equal to zero, a
// non-empty list.
func (v val) truthy() bool {
	switch v.k {
	case kInt, kUint:
		return v.n != 0
	case kFloat:
		return v.f != 0 && !math.IsNaN(v.f)
	case kList:
		return listLen(v.list) > 0
	}
	if n, ok := parseNum(v.s); ok {
		return n.truthy()
	}
	return v.s != ""
}

// cmpOp is a comparison operator.
type cmpOp uint8

const (
	opEq cmpOp = iota
	opNe
	opLt
	opLe
	opGt
	opGe
)

var cmpOps = map[string]cmpOp{"==": opEq, "!=": opNe, "<": opLt, "<=": opLe, ">": opGt, ">=": opGe}

func (op cmpOp) holds(c int) bool {
	switch op {
	case opEq:
		return c == 0
	case opNe:
		return c != 0
	case opLt:
		return c < 0
	case opLe:
		return c <= 0
	case opGt:
		return c > 0
	}
	return c >= 0
}

// compare applies op: numerically when either side is a number (the other
// is converted; if it cannot be, the comparison is false), otherwise as
// case-insensitive strings. A list matches when any element does.
func compare(a, b val, op cmpOp) bool {
	if a.k == kList {
		for i, n := 0, listLen(a.list); i < n; i++ {
			if e, ok := listAt(a.list, i); ok && compare(e, b, op) {
				return true
			}
		}
		return false
	}
	if b.k == kList {
		for i, n := 0, listLen(b.list); i < n; i++ {
			if e, ok := listAt(b.list, i); ok && compare(a, e, op) {
				return true
			}
		}
		return false
	}
	if a.isNum() || b.isNum() {
		x, ok1 := a.num()
		y, ok2 := b.num()
		if !ok1 || !ok2 {
			return false
		}
		c, ok := cmpNum(x, y)
		return ok && op.holds(c)
	}
	switch op {
	case opEq:
		return strings.EqualFold(a.s, b.s)
	case opNe:
		return !strings.EqualFold(a.s, b.s)
	}
	return op.holds(compareFold(a.s, b.s))
}

// text renders v for the string methods.
func (v val) text() string {
	switch v.k {
	case kInt:
		return strconv.FormatInt(int64(v.n), 10)
	case kUint:
		return strconv.FormatUint(v.n, 10)
	case kFloat:
		return strconv.FormatFloat(v.f, 'g', -1, 64)
	}
	return v.s
}

// fastCompare handles the commonest cases of compare(fromAny(v), b, op)
// directly: a string field against a string literal and an integer field
// against an integer literal. done is false for everything else.
func fastCompare(v any, b val, op cmpOp) (res, done bool) {
	switch x := v.(type) {
	case string:
		if b.k != kStr {
			return false, false
		}
		switch op {
		case opEq:
			return strings.EqualFold(x, b.s), true
		case opNe:
			return !strings.EqualFold(x, b.s), true
		}
		return op.holds(compareFold(x, b.s)), true
	case uint64:
		if b.k != kInt || x > math.MaxInt64 {
			return false, false
		}
		return op.holds(cmpInt(int64(x), int64(b.n))), true
	case int64:
		if b.k != kInt {
			return false, false
		}
		return op.holds(cmpInt(x, int64(b.n))), true
	}
	return false, false
}

func cmpInt(x, y int64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}
