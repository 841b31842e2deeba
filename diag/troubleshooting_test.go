package diag

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// moduleRoot is the root of the module, from this package's directory.
const moduleRoot = ".."

// moduleFiles parses every non-test Go file of the module, outside testdata, nested modules
// and the directories skip (slash-separated, relative to the module root), and calls fn on each.
func moduleFiles(t *testing.T, skip []string, fn func(*token.FileSet, *ast.File)) {
	t.Helper()
	err := filepath.WalkDir(moduleRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path == moduleRoot {
				return nil
			}
			rel, _ := filepath.Rel(moduleRoot, path)
			if strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || isUnder(filepath.ToSlash(rel), skip) {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // a nested module: not this module's code
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		fn(fset, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func isUnder(rel string, dirs []string) bool {
	for _, d := range dirs {
		if rel == d || strings.HasPrefix(rel, d+"/") {
			return true
		}
	}
	return false
}

// notUserFacing are the parts of the module whose logs users of rpcbridge never see.
var notUserFacing = []string{"examples", "internal/testpeers", "internal/bench", "kvstore/kvtest"}

// TestTroubleshootingDocListsEveryLogMessage fails on a Warn or Error log call whose message is
// not quoted in docs/troubleshooting.md, so that a new warning cannot ship without saying what it
// means and what to do. (The diagnostics' codes are checked by TestTroubleshootingDocListsEveryCode.)
func TestTroubleshootingDocListsEveryLogMessage(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(moduleRoot, "docs", "troubleshooting.md"))
	if err != nil {
		t.Fatal(err)
	}
	// The doc wraps long messages across lines inside backquotes: compare without line breaks.
	text := strings.Join(strings.Fields(string(doc)), " ")
	found := 0
	moduleFiles(t, notUserFacing, func(fset *token.FileSet, f *ast.File) {
		ast.Inspect(f, func(n ast.Node) bool {
			msg, ok := warnOrErrorMessage(n)
			if !ok {
				return true
			}
			found++
			if !strings.Contains(text, "`"+msg+"`") {
				t.Errorf("%s: log message %q is not in docs/troubleshooting.md (say what it means and what to do)", fset.Position(n.Pos()), msg)
			}
			return true
		})
	})
	if found == 0 {
		t.Fatal("found no Warn or Error log call; is the walk looking at the module?")
	}
}

// warnOrErrorMessage returns the message of a call x.Warn("...", ...) or x.Error("...", ...)
// (and their Context forms, whose message comes second).
func warnOrErrorMessage(n ast.Node) (string, bool) {
	call, ok := n.(*ast.CallExpr)
	if !ok {
		return "", false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return "", false
	}
	arg := 0
	switch sel.Sel.Name {
	case "Warn", "Error":
	case "WarnContext", "ErrorContext":
		arg = 1
	default:
		return "", false
	}
	if len(call.Args) <= arg {
		return "", false
	}
	lit, ok := call.Args[arg].(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	msg, err := strconv.Unquote(lit.Value)
	return msg, err == nil
}
