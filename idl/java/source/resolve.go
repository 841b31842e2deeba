package source

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/rpcbridge/rpcbridge/idl"
)

// index knows every type declared in the upload, by binary name ("com.foo.Outer$Inner") and by
// canonical name ("com.foo.Outer.Inner").
type index struct {
	byBinary    map[string]*typeDecl
	byCanonical map[string]string
}

func binaryName(d *typeDecl) string {
	if d.outer != nil {
		return binaryName(d.outer) + "$" + d.name
	}
	if d.file.pkg == "" {
		return d.name
	}
	return d.file.pkg + "." + d.name
}

func canonicalName(d *typeDecl) string {
	if d.outer != nil {
		return canonicalName(d.outer) + "." + d.name
	}
	return strings.Replace(binaryName(d), "$", ".", -1)
}

// scope is where a type reference appears: the file, the innermost enclosing declaration, and
// the type variables visible there. Class type variables stay names; method type variables
// become their erasure, as they do in a method descriptor.
type scope struct {
	file       *fileAST
	decl       *typeDecl
	classVars  map[string]bool
	methodVars map[string]idl.TypeName
}

func (ix *index) errorAt(sc scope, pos Pos, format string, args ...any) error {
	return &Error{File: sc.file.name, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// resolve turns a type as written into a TypeName with fully qualified names.
func (ix *index) resolve(ref *typeRef, sc scope) (idl.TypeName, error) {
	dims := strings.Repeat("[]", ref.dims)
	switch {
	case ref.wildcard == "?":
		return "?", nil
	case ref.wildcard != "":
		bound, err := ix.resolve(ref.bound, sc)
		if err != nil {
			return "", err
		}
		return idl.TypeName("? " + ref.wildcard + " " + string(bound)), nil
	case ref.primitive != "":
		if ref.primitive == "void" && ref.dims > 0 {
			return "", ix.errorAt(sc, ref.pos, "void cannot be an array")
		}
		return idl.TypeName(ref.primitive + dims), nil
	}
	if len(ref.parts) == 1 {
		name := ref.parts[0].name
		if sc.classVars[name] || sc.methodVars[name] != "" {
			if len(ref.parts[0].args) > 0 {
				return "", ix.errorAt(sc, ref.pos, "type variable %s cannot take type arguments", name)
			}
			if erased := sc.methodVars[name]; erased != "" {
				return erased + idl.TypeName(dims), nil
			}
			return idl.TypeName(name + dims), nil
		}
	}
	raw, err := ix.resolveClass(ref.parts, sc)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(raw)
	if args := ref.parts[len(ref.parts)-1].args; len(args) > 0 {
		b.WriteByte('<')
		for i, a := range args {
			if a.primitive != "" && a.dims == 0 {
				return "", ix.errorAt(sc, a.pos, "primitive %s cannot be a type argument", a.primitive)
			}
			arg, err := ix.resolve(a, sc)
			if err != nil {
				return "", err
			}
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(string(arg))
		}
		b.WriteByte('>')
	}
	b.WriteString(dims)
	return idl.TypeName(b.String()), nil
}

// resolveClass resolves a possibly qualified class name to its binary name.
func (ix *index) resolveClass(parts []namePart, sc scope) (string, error) {
	first, err := ix.resolveSimple(parts[0], sc)
	if err != nil {
		return "", err
	}
	if first != "" {
		return ix.member(first, parts[1:], sc)
	}
	if r := []rune(parts[0].name); len(parts) == 1 || unicode.IsUpper(r[0]) {
		hint := ""
		for _, imp := range sc.file.imports {
			if imp.wildcard {
				hint = " (on-demand imports of packages outside the upload are not searched: import the class by name)"
			}
		}
		return "", ix.errorAt(sc, parts[0].pos, "cannot resolve type %s%s", parts[0].name, hint)
	}
	// A package-qualified name: the longest prefix declared in the upload wins.
	names := make([]string, len(parts))
	for i, part := range parts {
		names[i] = part.name
	}
	for i := len(parts); i >= 2; i-- {
		if bin, ok := ix.byCanonical[strings.Join(names[:i], ".")]; ok {
			return ix.member(bin, parts[i:], sc)
		}
	}
	return conventionalBinaryName(names), nil
}

// member appends nested-class segments to a resolved class, checking them when the class is
// declared in the upload.
func (ix *index) member(bin string, rest []namePart, sc scope) (string, error) {
	for _, part := range rest {
		if d, ok := ix.byBinary[bin]; ok {
			found := false
			for _, n := range d.nested {
				found = found || n.name == part.name
			}
			if !found {
				return "", ix.errorAt(sc, part.pos, "cannot resolve type %s: %s has no member type %s", part.name, bin, part.name)
			}
		}
		bin += "$" + part.name
	}
	return bin, nil
}

// conventionalBinaryName turns a canonical name of a class outside the upload into a binary
// name by Java's naming convention: the first segment after the package that starts with an
// upper-case letter is the top-level class, later segments are nested classes
// ("java.util.Map.Entry" → "java.util.Map$Entry").
func conventionalBinaryName(names []string) string {
	for i := 0; i < len(names)-1; i++ {
		if r := []rune(names[i]); len(r) > 0 && unicode.IsUpper(r[0]) {
			return strings.Join(names[:i+1], ".") + "$" + strings.Join(names[i+1:], "$")
		}
	}
	return strings.Join(names, ".")
}

// resolveSimple resolves the first segment of a type name as a type, returning "" when it is
// not one (it may then be a package name).
func (ix *index) resolveSimple(part namePart, sc scope) (string, error) {
	name := part.name
	for d := sc.decl; d != nil; d = d.outer {
		if d.name == name {
			return binaryName(d), nil
		}
		for _, n := range d.nested {
			if n.name == name {
				return binaryName(n), nil
			}
		}
	}
	for _, imp := range sc.file.imports {
		if !imp.wildcard && (imp.path == name || strings.HasSuffix(imp.path, "."+name)) {
			if bin, ok := ix.byCanonical[imp.path]; ok {
				return bin, nil
			}
			return conventionalBinaryName(strings.Split(imp.path, ".")), nil
		}
	}
	if bin := qualify(sc.file.pkg, name); ix.byBinary[bin] != nil {
		return bin, nil
	}
	var matches []string
	for _, imp := range sc.file.imports {
		if !imp.wildcard {
			continue
		}
		if bin, ok := ix.byCanonical[imp.path+"."+name]; ok {
			matches = appendNew(matches, bin)
		} else if jdkClasses[imp.path][name] {
			matches = appendNew(matches, imp.path+"."+name)
		}
	}
	if len(matches) > 1 {
		return "", ix.errorAt(sc, part.pos, "type %s is ambiguous: %s", name, strings.Join(matches, ", "))
	}
	if len(matches) == 1 {
		return matches[0], nil
	}
	if jdkClasses["java.lang"][name] {
		return "java.lang." + name, nil
	}
	return "", nil
}

func qualify(pkg, name string) string {
	if pkg == "" {
		return name
	}
	return pkg + "." + name
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
