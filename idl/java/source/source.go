// Package source reads Java API source files (.java) into the declarations rpcbridge needs:
// interfaces with their method signatures, DTO classes with their serialized fields, enums with
// their constants, and records. It has a real tokenizer (comments, strings, character literals
// and text blocks) and a parser for declarations; method bodies, initializers and annotation
// arguments are skipped; documentation comments are kept as the Javadoc of the declaration
// they precede (javadoc.go). Simple names are resolved to fully qualified binary names through the
// enclosing and nested classes, single-type imports, the package, on-demand imports (of packages
// in the upload, or of well-known JDK classes) and java.lang. Every error carries file:line:col.
package source

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/idl/java/reach"
)

// Parse parses every ".java" file of files (keyed by path; other files are ignored) and returns
// what they declare, with all type names resolved.
func Parse(ctx context.Context, files map[string][]byte) (reach.Decls, error) {
	names := make([]string, 0, len(files))
	for name := range files {
		if strings.HasSuffix(name, ".java") {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return reach.Decls{}, fmt.Errorf("no .java files among %d uploaded files", len(files))
	}
	slices.Sort(names)
	ix := &index{byBinary: map[string]*typeDecl{}, byCanonical: map[string]string{}}
	var asts []*fileAST
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return reach.Decls{}, fmt.Errorf("parse java sources: %w", err)
		}
		f, err := parseFile(name, string(files[name]))
		if err != nil {
			return reach.Decls{}, err
		}
		if err := ix.add(f.types); err != nil {
			return reach.Decls{}, err
		}
		asts = append(asts, f)
	}
	var out reach.Decls
	for _, f := range asts {
		for _, d := range f.types {
			if err := ix.collect(d, scope{file: f, classVars: map[string]bool{}}, &out); err != nil {
				return reach.Decls{}, err
			}
		}
	}
	return out, nil
}

func (ix *index) add(decls []*typeDecl) error {
	for _, d := range decls {
		bin := binaryName(d)
		if prev, ok := ix.byBinary[bin]; ok {
			return &Error{File: d.file.name, Pos: d.pos, Msg: fmt.Sprintf("duplicate type %s (first declared at %s:%d:%d)",
				strings.Replace(bin, "$", ".", -1), prev.file.name, prev.pos.Line, prev.pos.Col)}
		}
		ix.byBinary[bin] = d
		ix.byCanonical[canonicalName(d)] = bin
		if err := ix.add(d.nested); err != nil {
			return err
		}
	}
	return nil
}

// collect resolves one declaration (and its nested ones) into out.
func (ix *index) collect(d *typeDecl, outer scope, out *reach.Decls) error {
	sc := scope{file: d.file, decl: d, classVars: map[string]bool{}}
	if !d.static {
		for v := range outer.classVars {
			sc.classVars[v] = true
		}
	}
	for _, tp := range d.typeParams {
		sc.classVars[tp.name] = true
	}
	name := binaryName(d)
	switch d.kind {
	case kindInterface:
		in := reach.Interface{JavaInterface: idl.JavaInterface{Name: name, Doc: parseJavadoc(d.doc).text, Methods: []idl.JavaMethod{}}}
		for _, ext := range d.extends {
			t, err := ix.resolve(ext, sc)
			if err != nil {
				return err
			}
			in.Extends = append(in.Extends, t)
		}
		for _, m := range d.methods {
			if !m.abstract {
				continue
			}
			jm, err := ix.method(m, sc)
			if err != nil {
				return err
			}
			in.Methods = append(in.Methods, jm)
		}
		out.Interfaces = append(out.Interfaces, in)
	case kindEnum:
		out.Classes = append(out.Classes, idl.JavaClass{Name: name, Kind: idl.ClassEnum, Doc: parseJavadoc(d.doc).text, Constants: d.constants})
	case kindClass, kindRecord:
		classDoc := parseJavadoc(d.doc)
		c := idl.JavaClass{Name: name, Kind: idl.ClassDTO, Doc: classDoc.text}
		for _, tp := range d.typeParams {
			c.TypeParams = append(c.TypeParams, tp.name)
		}
		if d.kind == kindClass && len(d.extends) > 0 {
			super, err := ix.resolve(d.extends[0], sc)
			if err != nil {
				return err
			}
			if super != "java.lang.Object" {
				c.Super = super
			}
		}
		for _, f := range d.fields {
			if f.static || f.transient {
				continue
			}
			t, err := ix.resolve(f.typ, sc)
			if err != nil {
				return err
			}
			doc := parseJavadoc(f.doc).text
			if d.kind == kindRecord && doc == "" {
				doc = classDoc.params[f.name] // a record's components are its @param tags
			}
			c.Fields = append(c.Fields, idl.JavaField{Name: f.name, Type: t, Doc: doc})
		}
		out.Classes = append(out.Classes, c)
	}
	for _, n := range d.nested {
		if err := ix.collect(n, sc, out); err != nil {
			return err
		}
	}
	return nil
}

func (ix *index) method(m methodDecl, classScope scope) (idl.JavaMethod, error) {
	sc := classScope
	if len(m.typeParams) > 0 {
		sc.methodVars = map[string]idl.TypeName{}
		for _, tp := range m.typeParams {
			sc.methodVars[tp.name] = "java.lang.Object"
		}
		for _, tp := range m.typeParams {
			if tp.bound != nil {
				bound, err := ix.resolve(tp.bound, sc)
				if err != nil {
					return idl.JavaMethod{}, err
				}
				sc.methodVars[tp.name] = idl.TypeName(bound.Erasure())
			}
		}
	}
	doc := parseJavadoc(m.doc)
	jm := idl.JavaMethod{Name: m.name, Doc: doc.text, Params: []idl.JavaParam{}, ReturnsDoc: doc.returns}
	for _, p := range m.params {
		t, err := ix.resolve(p.typ, sc)
		if err != nil {
			return idl.JavaMethod{}, err
		}
		if p.varargs {
			t += "[]"
		}
		jm.Params = append(jm.Params, idl.JavaParam{Name: p.name, Type: t, Doc: doc.params[p.name]})
	}
	ret, err := ix.resolve(m.returns, sc)
	if err != nil {
		return idl.JavaMethod{}, err
	}
	jm.Returns = ret
	return jm, nil
}
