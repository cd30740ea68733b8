package filters

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokKind is the kind of a lexical token.
type tokKind uint8

const (
	tEOF    tokKind = iota
	tIdent          // a name: field segment, method or keyword
	tNumber         // a numeric literal; token.val holds it
	tString         // a string literal (or an unquoted IPv4 address); token.val holds it
	tOp             // punctuation: == != < <= > >= && || ! & ( ) , . -
)

type token struct {
	kind tokKind
	text string // the source text (for tOp the operator)
	val  val    // literal value of tNumber and tString
	pos  int    // byte offset in the expression
}

// desc describes t for error messages.
func (t token) desc() string {
	switch t.kind {
	case tEOF:
		return "end of filter"
	case tString:
		return strconv.Quote(t.val.s)
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
			str, n, err := lexString(s, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{kind: tString, text: s[i : i+n], val: strVal(str), pos: i})
			i += n
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && (isIdentByte(s[j]) || s[j] == '.') {
				j++
			}
			t, err := lexNumber(s, i, j)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i = j
		case isIdentByte(c):
			j := i
			for j < len(s) && isIdentByte(s[j]) {
				j++
			}
			toks = append(toks, token{kind: tIdent, text: s[i:j], pos: i})
			i = j
		default:
			if i+1 < len(s) {
				switch two := s[i : i+2]; two {
				case "==", "!=", "<=", ">=", "&&", "||":
					toks = append(toks, token{kind: tOp, text: two, pos: i})
					i += 2
					continue
				}
			}
			switch c {
			case '<', '>', '!', '&', '(', ')', ',', '.', '-':
				toks = append(toks, token{kind: tOp, text: s[i : i+1], pos: i})
			case '=':
				// A single '=' is equality, as Network Monitor accepts it.
				toks = append(toks, token{kind: tOp, text: "==", pos: i})
			case '|':
				return nil, &SyntaxError{Expr: s, Pos: i, Msg: "unexpected '|'; did you mean '||'?"}
			default:
				r, _ := utf8.DecodeRuneInString(s[i:])
				return nil, &SyntaxError{Expr: s, Pos: i, Msg: fmt.Sprintf("unexpected character %q", r)}
			}
			i++
		}
	}
	return append(toks, token{kind: tEOF, pos: len(s)}), nil
}

// isIdentByte reports whether c can be part of a name. Bytes of multi-byte
// UTF-8 sequences count as letters, so property names in any script work.
func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// lexString decodes the quoted string starting at s[i]. It returns the
// value and the length of the literal including its quotes. The escapes are
// \\ \" \' \n \r \t \0 \xHH and \uHHHH; a backslash before any other
// character is kept, so regular expressions such as "\d+\.\d" read as
// written.
func lexString(s string, i int) (string, int, error) {
	q := s[i]
	var b strings.Builder
	j := i + 1
	for j < len(s) {
		c := s[j]
		switch {
		case c == q:
			return b.String(), j + 1 - i, nil
		case c != '\\':
			b.WriteByte(c)
			j++
			continue
		}
		if j+1 >= len(s) {
			break
		}
		e := s[j+1]
		switch e {
		case '\\', '"', '\'':
			b.WriteByte(e)
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case '0':
			b.WriteByte(0)
		case 'x', 'u':
			n := 2
			if e == 'u' {
				n = 4
			}
			if j+2+n > len(s) {
				return "", 0, &SyntaxError{Expr: s, Pos: j, Msg: fmt.Sprintf("bad escape: \\%c needs %d hex digits", e, n)}
			}
			v, err := strconv.ParseUint(s[j+2:j+2+n], 16, 32)
			if err != nil {
				return "", 0, &SyntaxError{Expr: s, Pos: j, Msg: fmt.Sprintf("bad escape: \\%c needs %d hex digits", e, n)}
			}
			if e == 'x' {
				b.WriteByte(byte(v))
			} else {
				b.WriteRune(rune(v))
			}
			j += 2 + n
			continue
		default:
			b.WriteByte('\\')
			b.WriteByte(e)
		}
		j += 2
	}
	return "", 0, &SyntaxError{Expr: s, Pos: i, Msg: fmt.Sprintf("unterminated string; expected a closing %c", q)}
}

// lexNumber classifies s[i:j], a run starting with a digit: decimal or
// 0x hexadecimal integers, decimals with a fraction (1.5), and dotted IPv4
// addresses, which become string literals so that ip.src == 10.0.0.1 works
// unquoted.
func lexNumber(s string, i, j int) (token, error) {
	text := s[i:j]
	bad := func(msg string) (token, error) {
		return token{}, &SyntaxError{Expr: s, Pos: i, Msg: fmt.Sprintf("%s %q", msg, text)}
	}
	if dots := strings.Count(text, "."); dots == 3 {
		if isIPv4(text) {
			return token{kind: tString, text: text, val: strVal(text), pos: i}, nil
		}
		return bad("bad IPv4 address")
	} else if dots > 1 || strings.HasSuffix(text, ".") {
		return bad("bad number")
	}
	v, ok := parseNum(text)
	if !ok || strings.ContainsAny(text, " +-") {
		if overflows(text) {
			return bad("number out of range")
		}
		return bad("bad number")
	}
	return token{kind: tNumber, text: text, val: v, pos: i}, nil
}

// overflows reports whether text is a well-formed integer too large for 64
// bits.
func overflows(text string) bool {
	digits, base := text, 10
	if len(text) > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X') {
		digits, base = text[2:], 16
	}
	_, err := strconv.ParseUint(digits, base, 64)
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

func isIPv4(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 3 {
			return false
		}
		n, err := strconv.Atoi(p)
		if err != nil || n > 255 {
			return false
		}
	}
	return true
}
