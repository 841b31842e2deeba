// Package javatype owns rpcbridge's knowledge of Java types: the grammar of type names in source
// syntax, their erasures and JVM descriptors, and the families Java values fall into, with the
// JSON form of each family (what a REST client sends and gets back, which families fit in one
// query parameter, what the OpenAPI document says about them). The IDL parsers, transcoding,
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

// parser is a recursive-descent parser over one type name.
type parser struct {
	src string
	pos int
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("malformed Java type name %q at offset %d: %s", p.src, p.pos, fmt.Sprintf(format, args...))
}

func (p *parser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

func (p *parser) parseType(depth int) (*Type, error) {
	if depth > maxDepth {
		return nil, p.errorf("type arguments nested deeper than %d", maxDepth)
	}
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '?' {
		return p.parseWildcard(depth)
	}
	name, err := p.parseQualifiedName()
	if err != nil {
		return nil, err
	}
	t := &Type{Name: name}
	_, primitive := primitives[name]
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '<' {
		if primitive {
			return nil, p.errorf("primitive %s cannot take type arguments", name)
		}
		p.pos++
		if t.Args, err = p.parseArgs(depth); err != nil {
			return nil, err
		}
	}
	for {
		p.skipSpace()
		if !strings.HasPrefix(p.src[p.pos:], "[") {
			break
		}
		p.pos++
		p.skipSpace()
		if !strings.HasPrefix(p.src[p.pos:], "]") {
			return nil, p.errorf("expected ']'")
		}
		p.pos++
		t.Dims++
	}
	if name == "void" && (t.Dims > 0 || depth > 0) {
		return nil, p.errorf("void can only be a return type")
	}
	return t, nil
}

// parseArgs parses type arguments after '<', up to and including '>'.
func (p *parser) parseArgs(depth int) ([]*Type, error) {
	var args []*Type
	for {
		arg, err := p.parseType(depth + 1)
		if err != nil {
			return nil, err
		}
		if arg.IsPrimitive() {
			return nil, p.errorf("primitive %s cannot be a type argument", arg.Name)
		}
		args = append(args, arg)
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, p.errorf("missing '>'")
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case '>':
			p.pos++
			return args, nil
		default:
			return nil, p.errorf("expected ',' or '>', found %q", p.src[p.pos])
		}
	}
}

func (p *parser) parseWildcard(depth int) (*Type, error) {
	p.pos++ // '?'
	t := &Type{Name: "?"}
	p.skipSpace()
	for _, kw := range []string{"extends", "super"} {
		rest := p.src[p.pos:]
		if strings.HasPrefix(rest, kw) && (len(rest) == len(kw) || !isIdentByte(rest[len(kw)], false)) {
			p.pos += len(kw)
			bound, err := p.parseType(depth + 1)
			if err != nil {
				return nil, err
			}
			if bound.Name == "?" || bound.IsPrimitive() {
				return nil, p.errorf("invalid wildcard bound %s", bound)
			}
			t.Bound, t.Args = kw, []*Type{bound}
			break
		}
	}
	return t, nil
}

func (p *parser) parseQualifiedName() (string, error) {
	start := p.pos
	for {
		if err := p.parseIdent(); err != nil {
			return "", err
		}
		if p.pos < len(p.src) && p.src[p.pos] == '.' {
			p.pos++
			continue
		}
		return p.src[start:p.pos], nil
	}
}

func (p *parser) parseIdent() error {
	start := p.pos
	for p.pos < len(p.src) && isIdentByte(p.src[p.pos], p.pos == start) {
		p.pos++
	}
	if p.pos == start {
		if p.pos >= len(p.src) {
			return p.errorf("expected an identifier, found the end")
		}
		return p.errorf("expected an identifier, found %q", p.src[p.pos])
	}
	return nil
}

// isIdentByte accepts ASCII Java identifier characters and any byte of a multi-byte UTF-8
// sequence (Java identifiers may be non-ASCII letters).
func isIdentByte(c byte, first bool) bool {
	switch {
	case c == '_' || c == '$' || c >= 0x80:
		return true
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		return true
	case c >= '0' && c <= '9':
		return !first
	}
	return false
}
