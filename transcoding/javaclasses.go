package transcoding

import (
	"slices"
	"strings"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/javatype"
)

// reachableClasses returns the DTOs and enums of js that the methods' parameter and return
// types reach, sorted by name.
func reachableClasses(js javaService, methods []idl.JavaMethod) []ir.JavaClass {
	var types []idl.TypeName
	for _, m := range methods {
		types = append(types, m.Returns)
		for _, p := range m.Params {
			types = append(types, p.Type)
		}
	}
	return reachableFrom(js.classes, types)
}

// reachableFrom walks class names through type arguments, fields and superclasses. Classes the
// schema does not define (the JDK's) are left out.
func reachableFrom(classes map[string]idl.JavaClass, roots []idl.TypeName) []ir.JavaClass {
	seen := map[string]bool{}
	var out []ir.JavaClass
	var visit func(t idl.TypeName)
	visit = func(t idl.TypeName) {
		for _, name := range t.ClassNames() {
			c, ok := classes[name]
			if !ok || seen[name] {
				continue
			}
			seen[name] = true
			out = append(out, toIRClass(classes, c))
			visit(c.Super)
			for _, f := range c.Fields {
				visit(f.Type)
			}
		}
	}
	for _, t := range roots {
		visit(t)
	}
	slices.SortFunc(out, func(a, b ir.JavaClass) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// toIRClass converts a class, putting the fields of its superclasses first with the
// superclass's type parameters replaced by the arguments the subclass gives them.
func toIRClass(classes map[string]idl.JavaClass, c idl.JavaClass) ir.JavaClass {
	out := ir.JavaClass{Name: c.Name, Doc: c.Doc, Enum: c.Kind == idl.ClassEnum, Constants: c.Constants, TypeParams: c.TypeParams}
	out.Fields = inheritedFields(classes, c, 0)
	return out
}

// maxSuperDepth bounds superclass chains so that a cyclic schema cannot loop.
const maxSuperDepth = 32

func inheritedFields(classes map[string]idl.JavaClass, c idl.JavaClass, depth int) []ir.JavaField {
	var fields []ir.JavaField
	if super, ok := classes[c.Super.Erasure()]; ok && c.Super != "" && depth < maxSuperDepth {
		args := c.Super.Args()
		bindings := map[string]*javatype.Type{}
		for i, tp := range super.TypeParams {
			if i < len(args) {
				if a, err := javatype.Parse(string(args[i])); err == nil {
					bindings[tp] = a
				}
			}
		}
		for _, f := range inheritedFields(classes, super, depth+1) {
			if t, err := javatype.Parse(f.Type); err == nil && len(bindings) > 0 {
				f.Type = t.Substitute(bindings).String()
			}
			fields = append(fields, f)
		}
	}
	for _, f := range c.Fields {
		fields = append(fields, ir.JavaField{Name: f.Name, Type: string(f.Type), Doc: f.Doc})
	}
	return fields
}

// undocumentedInterface is iface without its Javadoc, for comparing definitions.
func undocumentedInterface(iface idl.JavaInterface) idl.JavaInterface {
	iface.Doc = ""
	iface.Methods = slices.Clone(iface.Methods)
	for i, m := range iface.Methods {
		m.Doc, m.ReturnsDoc = "", ""
		m.Params = slices.Clone(m.Params)
		for j := range m.Params {
			m.Params[j].Doc = ""
		}
		iface.Methods[i] = m
	}
	return iface
}

// undocumentedClasses are classes without their Javadoc, for comparing definitions.
func undocumentedClasses(classes []ir.JavaClass) []ir.JavaClass {
	out := make([]ir.JavaClass, len(classes))
	for i, c := range classes {
		c.Doc = ""
		c.Fields = slices.Clone(c.Fields)
		for j := range c.Fields {
			c.Fields[j].Doc = ""
		}
		out[i] = c
	}
	return out
}
