package javatype

import (
	"fmt"
	"strings"
)

// Name is a Java type in source syntax with fully qualified names and generic arguments, for
// example "int", "java.lang.String[]" or "java.util.Map<java.lang.String,com.foo.User>". It is
// how schemas and the gateway IR store types; its methods parse it on every call (use Parse
// once where a type is used many times). A malformed Name behaves as documented per method.
type Name string

// ParseName checks s against the grammar and returns it in canonical form (see Type.String).
func ParseName(s string) (Name, error) {
	t, err := Parse(s)
	if err != nil {
		return "", err
	}
	return Name(t.String()), nil
}

// parse parses a Name that may be a wildcard type argument.
func (n Name) parse() (*Type, error) {
	p := &parser{src: string(n)}
	t, err := p.parseType(0)
	if err == nil {
		p.skipSpace()
		if p.pos != len(p.src) {
			err = p.errorf("unexpected %q", p.src[p.pos:])
		}
	}
	return t, err
}

// Erasure is Type.Erasure; a malformed name comes back unchanged.
func (n Name) Erasure() string {
	t, err := n.parse()
	if err != nil {
		return string(n)
	}
	return t.Erasure()
}

// Args returns the type arguments of a parameterized, non-array type, or nil.
func (n Name) Args() []Name {
	t, err := n.parse()
	if err != nil || t.Dims > 0 || t.Name == "?" {
		return nil
	}
	var args []Name
	for _, a := range t.Args {
		args = append(args, Name(a.String()))
	}
	return args
}

// IsArray reports whether n is an array type.
func (n Name) IsArray() bool {
	t, err := n.parse()
	return err == nil && t.IsArray()
}

// Elem returns the element type of an array type with one dimension fewer ("int[][]" →
// "int[]"), or "" when n is not an array.
func (n Name) Elem() Name {
	t, err := n.parse()
	if err != nil || !t.IsArray() {
		return ""
	}
	return Name(t.Elem().String())
}

// IsPrimitive reports whether n is a Java primitive type or void (as Class.isPrimitive does).
func (n Name) IsPrimitive() bool {
	_, ok := primitives[string(n)]
	return ok
}

// IsWildcard reports whether n is a wildcard type argument ("?", "? extends X", "? super X").
func (n Name) IsWildcard() bool { return strings.HasPrefix(string(n), "?") }

// IsTypeVariable reports whether n looks like a type variable: a single identifier that is
// neither a primitive nor qualified by a package ("T", "E").
func (n Name) IsTypeVariable() bool {
	t, err := n.parse()
	return err == nil && t.IsTypeVariable()
}

// ClassNames is Type.ClassNames; a malformed name yields nil.
func (n Name) ClassNames() []string {
	t, err := n.parse()
	if err != nil {
		return nil
	}
	return t.ClassNames()
}

// Descriptor is the JVM field descriptor of a parameter type, as a Dubbo request names the
// method's parameters ("Ljava/lang/String;" for String, "I" for int, "[J" for long[]). It accepts
// source names ("java.util.List<String>" with the generics dropped; a trailing "..." is one more
// array dimension) and the Class.getName() names of arrays ("[Ljava.lang.String;", "[I"), which
// Dubbo's ReflectUtils.name2class accepts too.
func Descriptor(name string) (string, error) {
	name = strings.TrimSpace(name)
	if strings.HasPrefix(name, "[") {
		return classNameDescriptor(name)
	}
	varargs := 0
	if s, ok := strings.CutSuffix(name, "..."); ok {
		name, varargs = s, 1
	}
	t, err := Parse(name)
	if err != nil {
		return "", err
	}
	prefix := strings.Repeat("[", t.Dims+varargs)
	if p, ok := primitives[t.Name]; ok {
		if p == "V" {
			return "", fmt.Errorf("void is not a parameter type")
		}
		return prefix + p, nil
	}
	return prefix + "L" + strings.ReplaceAll(t.Name, ".", "/") + ";", nil
}

// classNameDescriptor checks a "[..." Class.getName() array name and turns it into a
// descriptor.
func classNameDescriptor(name string) (string, error) {
	rest := strings.TrimLeft(name, "[")
	ok := len(rest) == 1 && strings.Contains("ZBCSIJFD", rest) ||
		len(rest) > 2 && rest[0] == 'L' && strings.HasSuffix(rest, ";") && !strings.ContainsAny(rest[1:len(rest)-1], ";[ ")
	if !ok {
		return "", fmt.Errorf("type %q is not a Java array class name", name)
	}
	return strings.ReplaceAll(name, ".", "/"), nil
}
