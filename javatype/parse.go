// Package javatype owns rpcbridge's knowledge of Java types: the grammar of type names in source
// syntax, their erasures and JVM descriptors, and the families Java values fall into, with the
// JSON form of each family (what a REST client sends and gets back, which families fit in one
// query parameter, what the OpenAPI document says about them), and the limits within which a
// BigDecimal or BigInteger is one every provider decodes (NumberLimits). The IDL parsers, transcoding,
// the OpenAPI generator and the embedded gateway's JSON ↔ hessian2 conversion all ask it, so
// that a type the routes accept is a type the gateway can encode.
//
// The grammar of a type name (Name):
//
//	type     = wildcard | name [ "<" type { "," type } ">" ] { "[]" }
//	wildcard = "?" [ ("extends" | "super") type ]
//	name     = ident { "." ident }   (identifiers may hold '$' for nested classes)
//
// A wildcard is only a type argument, a primitive is never one, and void is only a return type.
// Varargs ("...") are not part of it: a varargs parameter is an array.
//
// The package is pure and uses the standard library only.
package javatype

import (
	"fmt"
	"strings"
)

// Type is a parsed type name. Types are immutable once parsed; methods that change one return
// a new Type.
type Type struct {
	// Name is a (qualified) class name, a primitive, void, a type variable, or "?" for a
	// wildcard.
	Name string
	// Bound is "extends" or "super" for a bounded wildcard; Args[0] is then the bound.
	Bound string
	// Args are the type arguments, in order.
	Args []*Type
	// Dims is the number of array dimensions ("int[][]": 2).
	Dims int
}

// object is java.lang.Object, the erasure of what a type says nothing about.
const object = "java.lang.Object"

// primitives are Java's primitive types plus void, as java.lang.Class.isPrimitive sees them,
// with their JVM descriptor letters.
var primitives = map[string]string{
	"boolean": "Z", "byte": "B", "char": "C", "short": "S", "int": "I",
	"long": "J", "float": "F", "double": "D", "void": "V",
}

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 64

// Parse parses a type name (see the package documentation for the grammar). Spaces are allowed
// between tokens.
func Parse(s string) (*Type, error) {
	p := &parser{src: s}
	t, err := p.parseType(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return nil, p.errorf("unexpected %q", p.src[p.pos:])
	}
	if t.Name == "?" {
		return nil, fmt.Errorf("malformed Java type name %q: a wildcard is only allowed as a type argument", s)
	}
	return t, nil
}

// String is the type in canonical form: no spaces except the single ones inside wildcards
// ("? extends X", "? super X").
func (t *Type) String() string {
	var b strings.Builder
	t.write(&b)
	return b.String()
}

func (t *Type) write(b *strings.Builder) {
	b.WriteString(t.Name)
	if t.Name == "?" {
		if t.Bound != "" {
			b.WriteString(" " + t.Bound + " ")
			t.Args[0].write(b)
		}
		return
	}
	if len(t.Args) > 0 {
		b.WriteByte('<')
		for i, a := range t.Args {
			if i > 0 {
				b.WriteByte(',')
			}
			a.write(b)
		}
		b.WriteByte('>')
	}
	b.WriteString(strings.Repeat("[]", t.Dims))
}

// Erasure is the raw class name used as a Dubbo generic-invoke parameter type ($invoke's
// parameterTypes): type arguments are dropped, arrays keep their "[]" suffix
// ("java.util.List<com.foo.User>[]" → "java.util.List[]"), nested classes keep '$'.
//
// Dubbo's ReflectUtils.name2class turns "java.lang.String[]" into "[Ljava.lang.String;" before
// Class.forName and passes a JVM descriptor name through unchanged, so providers accept both
// spellings; the "[]" form is the one Dubbo itself writes (ReflectUtils.getName). A nested class
// must use its binary name ("com.foo.Outer$Inner"), which Class.forName needs.
//
// A wildcard erases to its upper bound or java.lang.Object. A type variable has no known bound
// here and comes back unchanged.
func (t *Type) Erasure() string {
	if t.Name == "?" {
		if t.Bound == "extends" {
			return t.Args[0].Erasure()
		}
		return object
	}
	return t.Name + strings.Repeat("[]", t.Dims)
}

// IsArray reports whether t is an array type.
func (t *Type) IsArray() bool { return t.Dims > 0 }

// Elem is the element type of an array with one dimension fewer ("int[][]" → "int[]"), or nil
// when t is not an array.
func (t *Type) Elem() *Type {
	if t.Dims == 0 {
		return nil
	}
	e := *t
	e.Dims--
	return &e
}

// Arg is the type a value's i-th type argument says: the argument itself, the upper bound of a
// wildcard ("? extends X" → X), or java.lang.Object for "?", "? super X" and a raw type.
func (t *Type) Arg(i int) *Type {
	if i >= len(t.Args) {
		return &Type{Name: object}
	}
	a := t.Args[i]
	if a.Name != "?" {
		return a
	}
	if a.Bound == "extends" {
		return a.Args[0]
	}
	return &Type{Name: object}
}

// IsPrimitive reports whether t is a Java primitive type or void (as Class.isPrimitive does).
func (t *Type) IsPrimitive() bool {
	_, ok := primitives[t.Name]
	return ok && t.Dims == 0
}

// IsWildcard reports whether t is a wildcard type argument ("?", "? extends X", "? super X").
func (t *Type) IsWildcard() bool { return t.Name == "?" }

// IsTypeVariable reports whether t looks like a type variable: a single identifier that is
// neither a primitive nor qualified by a package ("T", "E").
func (t *Type) IsTypeVariable() bool {
	_, primitive := primitives[t.Name]
	return t.Dims == 0 && len(t.Args) == 0 && t.Name != "?" && !strings.Contains(t.Name, ".") && !primitive
}

// Substitute replaces type variables by their bindings ("T" → "java.lang.Long" in
// "java.util.List<T>[]"), keeping array dimensions.
func (t *Type) Substitute(bindings map[string]*Type) *Type {
	if b, ok := bindings[t.Name]; ok && len(t.Args) == 0 {
		out := *b
		out.Dims += t.Dims
		return &out
	}
	if len(t.Args) == 0 {
		return t
	}
	out := &Type{Name: t.Name, Bound: t.Bound, Dims: t.Dims, Args: make([]*Type, len(t.Args))}
	for i, a := range t.Args {
		out.Args[i] = a.Substitute(bindings)
	}
	return out
}

// ClassNames returns every class name t mentions, outermost first and without duplicates: the
// raw type and, recursively, its type arguments and wildcard bounds. Primitives, type variables
// and wildcards themselves are left out.
func (t *Type) ClassNames() []string {
	var names []string
	seen := map[string]bool{}
	var walk func(*Type)
	walk = func(n *Type) {
		if _, primitive := primitives[n.Name]; n.Name != "?" && !primitive && strings.Contains(n.Name, ".") && !seen[n.Name] {
			seen[n.Name] = true
			names = append(names, n.Name)
		}
		for _, a := range n.Args {
			walk(a)
		}
	}
	walk(t)
	return names
}
