package configdoc

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
)

// docIndex reads the doc comments of struct types and their fields from Go sources, one package
// at a time, on demand.
type docIndex struct {
	sourceDir func(pkgPath string) (string, error)
	pkgs      map[string]*pkgDocs
}

// pkgDocs are the doc comments of one package: type name → doc, and type name → field → doc.
type pkgDocs struct {
	types  map[string]string
	fields map[string]map[string]string
}

func newDocIndex(sourceDir func(string) (string, error)) *docIndex {
	return &docIndex{sourceDir: sourceDir, pkgs: map[string]*pkgDocs{}}
}

// typeDoc returns the doc comment of the named type t.
func (d *docIndex) typeDoc(t reflect.Type) (string, error) {
	p, err := d.pkg(t.PkgPath())
	if err != nil {
		return "", err
	}
	return p.types[t.Name()], nil
}

// fieldDoc returns the doc comment of field name of struct t.
func (d *docIndex) fieldDoc(t reflect.Type, name string) (string, error) {
	p, err := d.pkg(t.PkgPath())
	if err != nil {
		return "", err
	}
	return p.fields[t.Name()][name], nil
}

func (d *docIndex) pkg(path string) (*pkgDocs, error) {
	if p, ok := d.pkgs[path]; ok {
		return p, nil
	}
	dir, err := d.sourceDir(path)
	if err != nil {
		return nil, fmt.Errorf("configdoc: sources of %s: %w", path, err)
	}
	p, err := parseDocs(dir)
	if err != nil {
		return nil, fmt.Errorf("configdoc: %s: %w", path, err)
	}
	d.pkgs[path] = p
	return p, nil
}

// parseDocs reads the Go files of dir, the package's own tests included (types declared for
// tests cannot clash with the package's), external test packages left out.
func parseDocs(dir string) (*pkgDocs, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	p := &pkgDocs{types: map[string]string{}, fields: map[string]map[string]string{}}
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		if strings.HasSuffix(f.Name.Name, "_test") {
			continue
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				doc := ts.Doc
				if doc == nil && len(gd.Specs) == 1 {
					doc = gd.Doc
				}
				p.types[ts.Name.Name] = text(doc)
				if st, ok := ts.Type.(*ast.StructType); ok {
					p.fields[ts.Name.Name] = structDocs(fset, st)
				}
			}
		}
	}
	return p, nil
}

// structDocs returns the doc of every field of st. A field without a comment of its own takes
// the comment of the field declared on the line just before it, which is how Go code documents
// a group ("Username and Password log in ...").
func structDocs(fset *token.FileSet, st *ast.StructType) map[string]string {
	out := map[string]string{}
	prevDoc, prevLine := "", -1
	for _, f := range st.Fields.List {
		doc := text(f.Doc)
		if doc == "" {
			doc = text(f.Comment)
		}
		line := fset.Position(f.Pos()).Line
		if doc == "" && f.Doc == nil && line == prevLine+1 {
			doc = prevDoc
		}
		names := f.Names
		if len(names) == 0 { // embedded: the field is named after its type
			if id := embeddedName(f.Type); id != "" {
				names = []*ast.Ident{{Name: id}}
			}
		}
		for _, n := range names {
			out[n.Name] = doc
		}
		prevDoc, prevLine = doc, fset.Position(f.End()).Line
	}
	return out
}

func embeddedName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.StarExpr:
		return embeddedName(x.X)
	case *ast.SelectorExpr:
		return x.Sel.Name
	}
	return ""
}

// text is a comment as one paragraph of Markdown-safe text.
func text(cg *ast.CommentGroup) string {
	if cg == nil {
		return ""
	}
	return strings.Join(strings.Fields(cg.Text()), " ")
}
