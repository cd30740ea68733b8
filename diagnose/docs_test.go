package diagnose_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestVerdictKindsDocumented: every Kind constant in verdict.go has a row
// in docs/verdicts.md, so scripts can rely on the documented list.
func TestVerdictKindsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/verdicts.md")
	if err != nil {
		t.Fatal(err)
	}
	f, err := parser.ParseFile(token.NewFileSet(), "verdict.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	ast.Inspect(f, func(node ast.Node) bool {
		vs, ok := node.(*ast.ValueSpec)
		if !ok || vs.Type == nil || len(vs.Values) == 0 {
			return true
		}
		if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Kind" {
			return true
		}
		lit, ok := vs.Values[0].(*ast.BasicLit)
		if !ok {
			return true
		}
		kind, _ := strconv.Unquote(lit.Value)
		n++
		if !strings.Contains(string(doc), "| `"+kind+"` |") {
			t.Errorf("verdict kind %q is not documented in docs/verdicts.md", kind)
		}
		return true
	})
	if n < 10 {
		t.Fatalf("found %d Kind constants; the parser missed them", n)
	}
}
