package idl

import (
	"fmt"
	"strings"
)

// primitiveTypes are Java's primitive types plus void, as java.lang.Class.isPrimitive sees them.
var primitiveTypes = map[string]bool{
	"boolean": true, "byte": true, "char": true, "short": true, "int": true,
	"long": true, "float": true, "double": true, "void": true,
}

// ParseTypeName checks s against the TypeName grammar and returns it in canonical form: no
// spaces except the single ones inside wildcards ("? extends X", "? super X"). The grammar is
//
//	type     = wildcard | name [ "<" type { "," type } ">" ] { "[]" }
//	wildcard = "?" [ ("extends" | "super") type ]
//	name     = ident { "." ident }   (identifiers may hold '$' for nested classes)
//
// Varargs ("...") are not part of it: a varargs parameter is an array.
func ParseTypeName(s string) (TypeName, error) {
	n, err := parseTypeNode(s)
	if err != nil {
		return "", err
	}
	if n.name == "?" {
		return "", fmt.Errorf("malformed Java type name %q: a wildcard is only allowed as a type argument", s)
	}
	return TypeName(n.String()), nil
}

// Erasure returns the raw class name used as a Dubbo generic-invoke parameter type
// ($invoke's parameterTypes): type arguments are dropped, arrays keep their "[]" suffix
// ("java.util.List<com.foo.User>[]" → "java.util.List[]"), nested classes keep '$'.
//
// Dubbo's ReflectUtils.name2class turns "java.lang.String[]" into "[Ljava.lang.String;" before
// Class.forName and passes a JVM descriptor name through unchanged, so providers accept both
// spellings; the "[]" form is the one Dubbo itself writes (ReflectUtils.getName). A nested class
// must use its binary name ("com.foo.Outer$Inner"), which Class.forName needs.
//
// A wildcard erases to its upper bound or java.lang.Object. A type variable has no known bound
// here and comes back unchanged. A malformed name comes back unchanged too.
func (t TypeName) Erasure() string {
	n, err := parseTypeNode(string(t))
	if err != nil {
		return string(t)
	}
	return n.erasure()
}

// Args returns the type arguments of a parameterized, non-array type, or nil.
func (t TypeName) Args() []TypeName {
	n, err := parseTypeNode(string(t))
	if err != nil || n.dims > 0 || n.name == "?" {
		return nil
	}
	var args []TypeName
	for _, a := range n.args {
		args = append(args, TypeName(a.String()))
	}
	return args
}

// IsArray reports whether t is an array type.
func (t TypeName) IsArray() bool {
	n, err := parseTypeNode(string(t))
	return err == nil && n.dims > 0
}

// Elem returns the element type of an array type with one dimension fewer
// ("int[][]" → "int[]"), or "" when t is not an array.
func (t TypeName) Elem() TypeName {
	n, err := parseTypeNode(string(t))
	if err != nil || n.dims == 0 {
		return ""
	}
	n.dims--
	return TypeName(n.String())
}

// IsPrimitive reports whether t is a Java primitive type or void (as Class.isPrimitive does).
func (t TypeName) IsPrimitive() bool {
	return primitiveTypes[string(t)]
}

// IsWildcard reports whether t is a wildcard type argument ("?", "? extends X", "? super X").
func (t TypeName) IsWildcard() bool {
	return strings.HasPrefix(string(t), "?")
}

// IsTypeVariable reports whether t looks like a type variable: a single identifier that is
// neither a primitive nor qualified by a package ("T", "E").
func (t TypeName) IsTypeVariable() bool {
	n, err := parseTypeNode(string(t))
	return err == nil && n.dims == 0 && len(n.args) == 0 && n.name != "?" &&
		!strings.Contains(n.name, ".") && !primitiveTypes[n.name]
}

// typeNode is a parsed TypeName.
type typeNode struct {
	// name is a (qualified) class name, a primitive, a type variable or "?" for a wildcard.
	name string
	// bound is "extends" or "super" for a bounded wildcard; args[0] is then the bound.
	bound string
	args  []*typeNode
	dims  int
}

func (n *typeNode) String() string {
	var b strings.Builder
	n.write(&b)
	return b.String()
}

func (n *typeNode) write(b *strings.Builder) {
	b.WriteString(n.name)
	if n.name == "?" {
		if n.bound != "" {
			b.WriteString(" " + n.bound + " ")
			n.args[0].write(b)
		}
		return
	}
	if len(n.args) > 0 {
		b.WriteByte('<')
		for i, a := range n.args {
			if i > 0 {
				b.WriteByte(',')
			}
			a.write(b)
		}
		b.WriteByte('>')
	}
	b.WriteString(strings.Repeat("[]", n.dims))
}

func (n *typeNode) erasure() string {
	if n.name == "?" {
		if n.bound == "extends" {
			return n.args[0].erasure()
		}
		return "java.lang.Object"
	}
	return n.name + strings.Repeat("[]", n.dims)
}

// typeNameParser is a recursive-descent parser over one TypeName string.
type typeNameParser struct {
	src string
	pos int
}

func parseTypeNode(s string) (*typeNode, error) {
	p := &typeNameParser{src: s}
	n, err := p.parseType(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return nil, p.errorf("unexpected %q", p.src[p.pos:])
	}
	return n, nil
}

func (p *typeNameParser) errorf(format string, args ...any) error {
	return fmt.Errorf("malformed Java type name %q at offset %d: %s", p.src, p.pos, fmt.Sprintf(format, args...))
}

func (p *typeNameParser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

// maxTypeDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxTypeDepth = 64

func (p *typeNameParser) parseType(depth int) (*typeNode, error) {
	if depth > maxTypeDepth {
		return nil, p.errorf("type arguments nested deeper than %d", maxTypeDepth)
	}
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '?' {
		return p.parseWildcard(depth)
	}
	name, err := p.parseQualifiedName()
	if err != nil {
		return nil, err
	}
	n := &typeNode{name: name}
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '<' {
		if primitiveTypes[name] {
			return nil, p.errorf("primitive %s cannot take type arguments", name)
		}
		p.pos++
		for {
			arg, err := p.parseType(depth + 1)
			if err != nil {
				return nil, err
			}
			if primitiveTypes[arg.name] && arg.dims == 0 {
				return nil, p.errorf("primitive %s cannot be a type argument", arg.name)
			}
			n.args = append(n.args, arg)
			p.skipSpace()
			if p.pos >= len(p.src) {
				return nil, p.errorf("missing '>'")
			}
			if p.src[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.src[p.pos] != '>' {
				return nil, p.errorf("expected ',' or '>', found %q", p.src[p.pos])
			}
			p.pos++
			break
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
		n.dims++
	}
	if name == "void" && (n.dims > 0 || depth > 0) {
		return nil, p.errorf("void can only be a return type")
	}
	return n, nil
}

func (p *typeNameParser) parseWildcard(depth int) (*typeNode, error) {
	p.pos++ // '?'
	n := &typeNode{name: "?"}
	p.skipSpace()
	for _, kw := range []string{"extends", "super"} {
		rest := p.src[p.pos:]
		if strings.HasPrefix(rest, kw) && (len(rest) == len(kw) || !isIdentByte(rest[len(kw)], false)) {
			p.pos += len(kw)
			bound, err := p.parseType(depth + 1)
			if err != nil {
				return nil, err
			}
			if bound.name == "?" || primitiveTypes[bound.name] && bound.dims == 0 {
				return nil, p.errorf("invalid wildcard bound %s", bound)
			}
			n.bound, n.args = kw, []*typeNode{bound}
			break
		}
	}
	return n, nil
}

func (p *typeNameParser) parseQualifiedName() (string, error) {
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

func (p *typeNameParser) parseIdent() error {
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

// ClassNames returns every class name t mentions, outermost first and without duplicates: the
// raw type and, recursively, its type arguments and wildcard bounds. Primitives, type variables
// and wildcards themselves are left out. A malformed name yields nil.
func (t TypeName) ClassNames() []string {
	n, err := parseTypeNode(string(t))
	if err != nil {
		return nil
	}
	var names []string
	seen := map[string]bool{}
	var walk func(*typeNode)
	walk = func(n *typeNode) {
		if n.name != "?" && !primitiveTypes[n.name] && strings.Contains(n.name, ".") && !seen[n.name] {
			seen[n.name] = true
			names = append(names, n.name)
		}
		for _, a := range n.args {
			walk(a)
		}
	}
	walk(n)
	return names
}
