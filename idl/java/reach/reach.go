// Package reach turns every declaration found in one Java API upload into an idl.Schema: all
// interfaces (with the methods they inherit from interfaces of the same upload) and the classes
// reachable from their methods, sorted by name. Every Java IDL form ends here, so that the same
// API gives the same Schema whatever form it came in.
package reach

import (
	"slices"
	"strings"

	"github.com/rpcbridge/rpcbridge/idl"
)

// Interface is a declared interface with the interfaces it extends.
type Interface struct {
	idl.JavaInterface
	// Extends are the direct super-interfaces, as fully qualified type names.
	Extends []idl.TypeName
}

// Decls is everything one upload declares.
type Decls struct {
	Interfaces []Interface
	Classes    []idl.JavaClass
}

// Schema returns the interfaces of d with inherited methods appended after their own (a method
// with the same name and parameter types as one already present is skipped; type arguments of
// generic super-interfaces are not substituted), plus the classes of d reachable from them
// through parameter, return, field, type-argument and superclass types. Interfaces and classes
// are sorted by name.
func Schema(d Decls) idl.Schema {
	byName := map[string]Interface{}
	for _, in := range d.Interfaces {
		byName[in.Name] = in
	}
	var out idl.Schema
	for _, in := range d.Interfaces {
		out.Interfaces = append(out.Interfaces, flatten(in, byName))
	}
	out.Classes = reachableClasses(out.Interfaces, d.Classes)
	slices.SortStableFunc(out.Interfaces, func(a, b idl.JavaInterface) int { return strings.Compare(a.Name, b.Name) })
	slices.SortStableFunc(out.Classes, func(a, b idl.JavaClass) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func flatten(in Interface, byName map[string]Interface) idl.JavaInterface {
	out := idl.JavaInterface{Name: in.Name, Doc: in.Doc, Methods: []idl.JavaMethod{}}
	seenMethods := map[string]bool{}
	visited := map[string]bool{}
	var add func(Interface)
	add = func(cur Interface) {
		if visited[cur.Name] {
			return
		}
		visited[cur.Name] = true
		for _, m := range cur.Methods {
			key := methodKey(m)
			if seenMethods[key] {
				continue
			}
			seenMethods[key] = true
			out.Methods = append(out.Methods, m)
		}
		for _, super := range cur.Extends {
			if parent, ok := byName[super.Erasure()]; ok {
				add(parent)
			}
		}
	}
	add(in)
	return out
}

func methodKey(m idl.JavaMethod) string {
	var b strings.Builder
	b.WriteString(m.Name)
	for _, p := range m.Params {
		b.WriteString("|" + p.Type.Erasure())
	}
	return b.String()
}

func reachableClasses(ifaces []idl.JavaInterface, classes []idl.JavaClass) []idl.JavaClass {
	byName := map[string]idl.JavaClass{}
	for _, c := range classes {
		byName[c.Name] = c
	}
	var out []idl.JavaClass
	seen := map[string]bool{}
	var visit func(idl.TypeName)
	visit = func(t idl.TypeName) {
		for _, name := range t.ClassNames() {
			c, ok := byName[name]
			if !ok || seen[name] {
				continue
			}
			seen[name] = true
			out = append(out, c)
			visit(c.Super)
			for _, f := range c.Fields {
				visit(f.Type)
			}
		}
	}
	for _, in := range ifaces {
		for _, m := range in.Methods {
			for _, p := range m.Params {
				visit(p.Type)
			}
			visit(m.Returns)
		}
	}
	return out
}
