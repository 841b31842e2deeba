package classfile

import (
	"fmt"
	"strings"

	"github.com/rpcbridge/rpcbridge/idl"
)

// typeParam is a declared type variable of a generic signature and the erasure of its first bound.
type typeParam struct {
	name    string
	erasure idl.TypeName
}

// methodSig is a parsed method descriptor or generic method signature.
type methodSig struct {
	typeParams []typeParam
	params     []idl.TypeName
	returns    idl.TypeName
}

// classSig is a parsed generic class signature.
type classSig struct {
	typeParams []typeParam
	super      idl.TypeName
	interfaces []idl.TypeName
}

// sigParser parses descriptors and generic signatures (JVMS §4.3, §4.7.9.1) into TypeNames.
// Method type variables are replaced by their erasure, as in a descriptor; class type variables
// stay names.
type sigParser struct {
	s          string
	pos        int
	methodVars map[string]idl.TypeName
}

const maxSigDepth = 64

func (p *sigParser) errorf(format string, args ...any) error {
	return fmt.Errorf("bad signature %q at offset %d: %s", p.s, p.pos, fmt.Sprintf(format, args...))
}

func (p *sigParser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *sigParser) expect(c byte) error {
	if p.peek() != c {
		return p.errorf("expected %q", c)
	}
	p.pos++
	return nil
}

func (p *sigParser) end() error {
	if p.pos != len(p.s) {
		return p.errorf("unexpected trailing %q", p.s[p.pos:])
	}
	return nil
}

func parseFieldSig(s string) (idl.TypeName, error) {
	p := &sigParser{s: s}
	t, err := p.javaType(0)
	if err != nil {
		return "", err
	}
	return t, p.end()
}

func parseMethodSig(s string) (methodSig, error) {
	p := &sigParser{s: s}
	var sig methodSig
	if p.peek() == '<' {
		tps, err := p.typeParams()
		if err != nil {
			return sig, err
		}
		sig.typeParams = tps
		p.methodVars = map[string]idl.TypeName{}
		for _, tp := range tps {
			p.methodVars[tp.name] = tp.erasure
		}
	}
	if err := p.expect('('); err != nil {
		return sig, err
	}
	for p.peek() != ')' {
		t, err := p.javaType(0)
		if err != nil {
			return sig, err
		}
		sig.params = append(sig.params, t)
	}
	p.pos++
	if p.peek() == 'V' {
		p.pos++
		sig.returns = "void"
	} else {
		t, err := p.javaType(0)
		if err != nil {
			return sig, err
		}
		sig.returns = t
	}
	for p.peek() == '^' { // throws
		p.pos++
		if _, err := p.javaType(0); err != nil {
			return sig, err
		}
	}
	return sig, p.end()
}

func parseClassSig(s string) (classSig, error) {
	p := &sigParser{s: s}
	var sig classSig
	if p.peek() == '<' {
		tps, err := p.typeParams()
		if err != nil {
			return sig, err
		}
		sig.typeParams = tps
	}
	super, err := p.javaType(0)
	if err != nil {
		return sig, err
	}
	sig.super = super
	for p.pos < len(p.s) {
		t, err := p.javaType(0)
		if err != nil {
			return sig, err
		}
		sig.interfaces = append(sig.interfaces, t)
	}
	return sig, nil
}

// typeParams parses "<T:Ljava/lang/Object;U::Ljava/lang/Comparable<TU;>;>".
func (p *sigParser) typeParams() ([]typeParam, error) {
	p.pos++ // <
	var tps []typeParam
	for p.peek() != '>' {
		colon := strings.IndexByte(p.s[p.pos:], ':')
		if colon <= 0 {
			return nil, p.errorf("expected a type parameter")
		}
		tp := typeParam{name: p.s[p.pos : p.pos+colon], erasure: "java.lang.Object"}
		p.pos += colon
		first := true
		for p.peek() == ':' {
			p.pos++
			if p.peek() == ':' || p.peek() == '>' {
				continue // empty class bound
			}
			bound, err := p.javaType(1)
			if err != nil {
				return nil, err
			}
			if first {
				tp.erasure = idl.TypeName(bound.Erasure())
				first = false
			}
		}
		tps = append(tps, tp)
	}
	p.pos++
	return tps, nil
}

var baseTypes = map[byte]string{
	'B': "byte", 'C': "char", 'D': "double", 'F': "float", 'I': "int", 'J': "long", 'S': "short", 'Z': "boolean",
}

func (p *sigParser) javaType(depth int) (idl.TypeName, error) {
	if depth > maxSigDepth {
		return "", p.errorf("nested deeper than %d", maxSigDepth)
	}
	c := p.peek()
	if base, ok := baseTypes[c]; ok {
		p.pos++
		return idl.TypeName(base), nil
	}
	switch c {
	case '[':
		p.pos++
		elem, err := p.javaType(depth + 1)
		return elem + "[]", err
	case 'T':
		end := strings.IndexByte(p.s[p.pos:], ';')
		if end <= 1 {
			return "", p.errorf("bad type variable")
		}
		name := p.s[p.pos+1 : p.pos+end]
		p.pos += end + 1
		if erased, ok := p.methodVars[name]; ok {
			return erased, nil
		}
		return idl.TypeName(name), nil
	case 'L':
		return p.classType(depth)
	}
	return "", p.errorf("unexpected %q", c)
}

// classType parses "Lpkg/Outer<TT;>.Inner<Ljava/lang/String;>;" into "pkg.Outer$Inner<java.lang.String>".
func (p *sigParser) classType(depth int) (idl.TypeName, error) {
	p.pos++ // L
	var name strings.Builder
	var args []string
	for {
		start := p.pos
		for p.pos < len(p.s) && !strings.ContainsRune("<;.", rune(p.s[p.pos])) {
			p.pos++
		}
		if p.pos == start || p.pos >= len(p.s) {
			return "", p.errorf("bad class type")
		}
		name.WriteString(strings.ReplaceAll(p.s[start:p.pos], "/", "."))
		args = nil
		if p.peek() == '<' {
			p.pos++
			for p.peek() != '>' {
				arg, err := p.typeArg(depth + 1)
				if err != nil {
					return "", err
				}
				args = append(args, string(arg))
			}
			p.pos++
		}
		if p.peek() == '.' {
			p.pos++
			name.WriteByte('$')
			continue
		}
		if err := p.expect(';'); err != nil {
			return "", err
		}
		break
	}
	if len(args) > 0 {
		return idl.TypeName(name.String() + "<" + strings.Join(args, ",") + ">"), nil
	}
	return idl.TypeName(name.String()), nil
}

func (p *sigParser) typeArg(depth int) (idl.TypeName, error) {
	switch p.peek() {
	case '*':
		p.pos++
		return "?", nil
	case '+', '-':
		kw := map[byte]string{'+': "extends", '-': "super"}[p.peek()]
		p.pos++
		bound, err := p.javaType(depth)
		return idl.TypeName("? " + kw + " " + string(bound)), err
	case 0:
		return "", p.errorf("unterminated type arguments")
	}
	return p.javaType(depth)
}
