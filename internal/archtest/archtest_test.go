package archtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/rpcbridge/rpcbridge"

// rule is one row of a table: who it is about and what it allows.
type rule struct {
	subject string   // a package pattern (package table) or a library path prefix
	allowed []string // package patterns; "*" allows everything
	line    int      // the row's line in the document
}

// tables are the two tables of docs/architecture.md.
type tables struct {
	packages  []rule // package -> rpcbridge packages it may import
	libraries []rule // library -> rpcbridge packages that may import it
}

// goPackage is what `go list -json` says of one package.
type goPackage struct {
	ImportPath string
	Imports    []string
}

func TestImportsFollowTheArchitectureDocument(t *testing.T) {
	root := moduleRoot(t)
	doc, err := os.ReadFile(filepath.Join(root, "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	tb, err := parseTables(doc)
	if err != nil {
		t.Fatalf("docs/architecture.md: %v", err)
	}
	pkgs := listPackages(t, root)
	for _, p := range check(tb, pkgs) {
		t.Error(p)
	}
}

// TestCheckReportsViolations shows that check finds each kind of problem, so that the real test
// above cannot pass by accident.
func TestCheckReportsViolations(t *testing.T) {
	doc := []byte("| package | owns | may import |\n|---|---|---|\n" +
		"| `diag` | x | — |\n| `registries` | x | `diag` |\n| `registries/...` | x | `registries` |\n| `gone` | x | — |\n\n" +
		"| library | may be imported by |\n|---|---|\n| `example.com/sdk` | `registries/...` |\n")
	tb, err := parseTables(doc)
	if err != nil {
		t.Fatal(err)
	}
	pkgs := []goPackage{
		{ImportPath: module + "/diag", Imports: []string{"fmt", module + "/registries", "example.com/sdk/v2"}},
		{ImportPath: module + "/registries", Imports: []string{module + "/diag"}},
		{ImportPath: module + "/registries/zk", Imports: []string{module + "/registries", "example.com/sdk"}},
		{ImportPath: module + "/unlisted"},
	}
	want := []string{
		"diag imports registries",
		"diag imports example.com/sdk/v2",
		"unlisted has no row",
		"`gone`",
	}
	got := strings.Join(check(tb, pkgs), "\n")
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("check did not report %q; it reported:\n%s", w, got)
		}
	}
	if strings.Contains(got, "registries/zk") {
		t.Errorf("check reported an allowed import:\n%s", got)
	}
}

// check returns one line per violation of the tables by pkgs.
func check(tb tables, pkgs []goPackage) []string {
	var problems []string
	used := map[string]bool{}
	for _, p := range pkgs {
		name, ok := strings.CutPrefix(p.ImportPath, module+"/")
		if !ok {
			continue // the module root has no Go package
		}
		r, ok := rowFor(tb.packages, name)
		if !ok {
			problems = append(problems, name+" has no row in the package table of docs/architecture.md")
			continue
		}
		used[r.subject] = true
		for _, imp := range p.Imports {
			if dep, own := strings.CutPrefix(imp, module+"/"); own {
				if !allows(r.allowed, dep) {
					problems = append(problems, name+" imports "+dep+", which its row (docs/architecture.md:"+itoa(r.line)+") does not allow")
				}
				continue
			}
			for _, lib := range tb.libraries {
				if imp == lib.subject || strings.HasPrefix(imp, lib.subject+"/") {
					if !allows(lib.allowed, name) {
						problems = append(problems, name+" imports "+imp+", which only "+strings.Join(lib.allowed, ", ")+" may import (docs/architecture.md:"+itoa(lib.line)+")")
					}
				}
			}
		}
	}
	for _, r := range tb.packages {
		if !used[r.subject] {
			problems = append(problems, "the row `"+r.subject+"` (docs/architecture.md:"+itoa(r.line)+") names no package of the module")
		}
	}
	return problems
}

// rowFor returns the most specific row for the package: an exact row, else the longest
// "prefix/..." pattern that matches.
func rowFor(rows []rule, pkg string) (rule, bool) {
	best, found := rule{}, false
	for _, r := range rows {
		if r.subject == pkg {
			return r, true
		}
		if matches(r.subject, pkg) && (!found || len(r.subject) > len(best.subject)) {
			best, found = r, true
		}
	}
	return best, found
}

// allows reports whether one of the patterns matches pkg.
func allows(patterns []string, pkg string) bool {
	for _, p := range patterns {
		if p == "*" || matches(p, pkg) {
			return true
		}
	}
	return false
}

// matches reports whether pattern ("a/b" or "a/b/...") matches pkg.
func matches(pattern, pkg string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == base || strings.HasPrefix(pkg, base+"/")
	}
	return pattern == pkg
}

// parseTables reads the table whose header starts "| package |" and the one whose header
// starts "| library |". Cells name packages in backquotes; "—" means none.
func parseTables(doc []byte) (tables, error) {
	var tb tables
	var into *[]rule
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "| package |"):
			into = &tb.packages
			continue
		case strings.HasPrefix(line, "| library |"):
			into = &tb.libraries
			continue
		case !strings.HasPrefix(line, "|"):
			into = nil
			continue
		case into == nil || strings.HasPrefix(line, "|---"):
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		subjects := quoted(cells[0])
		if len(subjects) != 1 {
			return tb, errors.New("line " + itoa(n) + ": the first cell must name one package or library in backquotes")
		}
		*into = append(*into, rule{subject: subjects[0], allowed: quoted(cells[len(cells)-1]), line: n})
	}
	if len(tb.packages) == 0 || len(tb.libraries) == 0 {
		return tb, errors.New("the package table or the library table is missing")
	}
	return tb, sc.Err()
}

// quoted returns the backquoted words of a table cell.
func quoted(cell string) []string {
	var out []string
	parts := strings.Split(cell, "`")
	for i := 1; i < len(parts); i += 2 {
		out = append(out, parts[i])
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

// moduleRoot walks up from the test's directory to the directory holding go.mod.
func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// listPackages runs `go list -json ./...` in the module root.
func listPackages(t *testing.T, root string) []goPackage {
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(gobin, "list", "-json=ImportPath,Imports", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []goPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p goPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}
