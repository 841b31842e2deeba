package javatype

import (
	"fmt"
	"strings"
)

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
