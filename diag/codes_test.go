package diag

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
)

// codes returns every Code constant declared in codes.go, by name, with its value.
func codes(t *testing.T) map[string]Code {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "codes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Code{}
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
				t.Errorf("%s: every constant in codes.go is a Code", vs.Names[0].Name)
				continue
			}
			for i, name := range vs.Names {
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					t.Fatalf("%s: a code is a string literal", name.Name)
				}
				v, _ := strconv.Unquote(lit.Value)
				out[name.Name] = Code(v)
			}
		}
	}
	return out
}

var codeRE = regexp.MustCompile(`^[a-z]+\.[a-z]+(-[a-z]+)*$`)

// TestCodesAreWellFormedAndUnique checks the shape of every code: "<area>.<what>", lower case
// with dashes, each value used once.
func TestCodesAreWellFormedAndUnique(t *testing.T) {
	seen := map[Code]string{}
	for name, c := range codes(t) {
		if !codeRE.MatchString(string(c)) {
			t.Errorf("%s = %q: want <area>.<what>, lower case with dashes", name, c)
		}
		if other, dup := seen[c]; dup {
			t.Errorf("%s and %s are both %q", name, other, c)
		}
		seen[c] = name
	}
	if len(seen) == 0 {
		t.Fatal("codes.go declares no codes")
	}
}

// TestTroubleshootingDocListsEveryCode fails when docs/troubleshooting.md has no section for a
// code, or a section for a code that does not exist: the doc is where users look a code up.
func TestTroubleshootingDocListsEveryCode(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "troubleshooting.md"))
	if err != nil {
		t.Fatal(err)
	}
	headingRE := regexp.MustCompile("(?m)^#### `([a-z.-]+)`")
	var documented []string
	for _, m := range headingRE.FindAllStringSubmatch(string(doc), -1) {
		documented = append(documented, m[1])
	}
	declared := codes(t)
	for name, c := range declared {
		if !slices.Contains(documented, string(c)) {
			t.Errorf("docs/troubleshooting.md has no section \"#### `%s`\" for diag.%s", c, name)
		}
	}
	for _, d := range documented {
		found := false
		for _, c := range declared {
			found = found || string(c) == d
		}
		if !found {
			t.Errorf("docs/troubleshooting.md documents %q, which diag/codes.go does not declare", d)
		}
	}
}

// TestEveryDiagnosticHasACode reads every non-test Go file of the module and fails on a
// diag.Diagnostic composite literal without a Code field, so that no construction site can
// forget it.
func TestEveryDiagnosticHasACode(t *testing.T) {
	checked := 0
	moduleFiles(t, nil, func(fset *token.FileSet, f *ast.File) {
		inDiag := f.Name.Name == "diag"
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok || !isDiagnosticType(lit.Type, inDiag) || len(lit.Elts) == 0 {
				return true
			}
			checked++
			if !slices.ContainsFunc(lit.Elts, func(e ast.Expr) bool {
				kv, ok := e.(*ast.KeyValueExpr)
				id, isIdent := kv.Key.(*ast.Ident)
				return ok && isIdent && id.Name == "Code"
			}) {
				t.Errorf("%s: diag.Diagnostic without a Code", fset.Position(lit.Pos()))
			}
			return true
		})
	})
	if checked == 0 {
		t.Fatal("found no diag.Diagnostic literal at all; is the walk looking at the module?")
	}
}

func isDiagnosticType(e ast.Expr, inDiag bool) bool {
	switch x := e.(type) {
	case *ast.SelectorExpr:
		pkg, ok := x.X.(*ast.Ident)
		return ok && pkg.Name == "diag" && x.Sel.Name == "Diagnostic"
	case *ast.Ident:
		return inDiag && x.Name == "Diagnostic"
	}
	return false
}
