package source

import (
	"fmt"
	"strings"
)

// parser is a recursive-descent parser over the tokens of one file. It understands the
// declarations that describe an API (packages, imports, types, fields, method signatures) and
// skips bodies, initializers and annotation arguments by balancing brackets.
type parser struct {
	file *fileAST
	toks []token
	i    int
}

// maxNesting bounds type and bracket nesting so that hostile input cannot exhaust the stack.
const maxNesting = 200

func parseFile(name, src string) (*fileAST, error) {
	toks, err := tokenize(name, src)
	if err != nil {
		return nil, err
	}
	p := &parser{file: &fileAST{name: name}, toks: toks}
	if err := p.compilationUnit(); err != nil {
		return nil, err
	}
	return p.file, nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) peekAt(n int) token {
	if p.i+n >= len(p.toks) {
		return p.toks[len(p.toks)-1]
	}
	return p.toks[p.i+n]
}

func (p *parser) nextTok() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) is(text string) bool {
	t := p.peek()
	return t.kind != tokLiteral && t.kind != tokEOF && t.text == text
}

func (p *parser) accept(text string) bool {
	if p.is(text) {
		p.i++
		return true
	}
	return false
}

func (p *parser) errorAt(pos Pos, format string, args ...any) error {
	return &Error{File: p.file.name, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) expect(text string) (token, error) {
	t := p.peek()
	if !p.is(text) {
		return t, p.errorAt(t.pos, "expected %q, found %s", text, t)
	}
	return p.nextTok(), nil
}

func (p *parser) ident() (token, error) {
	t := p.peek()
	if t.kind != tokIdent || reservedWords[t.text] {
		return t, p.errorAt(t.pos, "expected an identifier, found %s", t)
	}
	return p.nextTok(), nil
}

// qualifiedName reads ident { "." ident }, stopping before ".*" or "." followed by a non-identifier.
func (p *parser) qualifiedName() (string, error) {
	first, err := p.ident()
	if err != nil {
		return "", err
	}
	parts := []string{first.text}
	for p.is(".") && p.peekAt(1).kind == tokIdent {
		p.i++
		parts = append(parts, p.nextTok().text)
	}
	return strings.Join(parts, "."), nil
}

func (p *parser) compilationUnit() error {
	if err := p.skipAnnotations(); err != nil {
		return err
	}
	if p.accept("package") {
		name, err := p.qualifiedName()
		if err != nil {
			return err
		}
		p.file.pkg = name
		if _, err := p.expect(";"); err != nil {
			return err
		}
	}
	for p.is("import") {
		if err := p.importDecl(); err != nil {
			return err
		}
	}
	for p.peek().kind != tokEOF {
		if p.accept(";") {
			continue
		}
		mods, err := p.modifiers()
		if err != nil {
			return err
		}
		decl, err := p.typeDecl(mods, nil, 0)
		if err != nil {
			return err
		}
		p.file.types = append(p.file.types, decl)
	}
	return nil
}

func (p *parser) importDecl() error {
	p.nextTok() // import
	static := p.accept("static")
	name, err := p.qualifiedName()
	if err != nil {
		return err
	}
	wildcard := false
	if p.accept(".") {
		if _, err := p.expect("*"); err != nil {
			return err
		}
		wildcard = true
	}
	if _, err := p.expect(";"); err != nil {
		return err
	}
	if !static {
		p.file.imports = append(p.file.imports, importDecl{path: name, wildcard: wildcard})
	}
	return nil
}

// modifierSet is what the parser keeps of a declaration's modifiers, and the documentation
// comment before them (the declaration's Javadoc).
type modifierSet struct {
	static, transient, dflt, private, abstract bool
	doc                                        string
}

// modifiers reads modifiers and annotations in any order.
func (p *parser) modifiers() (modifierSet, error) {
	m := modifierSet{doc: p.peek().doc}
	for {
		t := p.peek()
		switch {
		case p.is("@") && !(p.peekAt(1).kind == tokIdent && p.peekAt(1).text == "interface"):
			if err := p.skipAnnotation(); err != nil {
				return m, err
			}
		case t.kind == tokIdent && t.text == "non" && p.peekAt(1).text == "-" && p.peekAt(2).text == "sealed":
			p.i += 3
		case t.kind == tokIdent && modifierWords[t.text]:
			// "sealed" and "default" may also be plain identifiers; only treat "default" as a
			// modifier when a declaration follows it.
			if t.text == "default" && (p.peekAt(1).text == ":" || p.peekAt(1).text == "->") {
				return m, nil
			}
			p.i++
			switch t.text {
			case "static":
				m.static = true
			case "transient":
				m.transient = true
			case "default":
				m.dflt = true
			case "private":
				m.private = true
			case "abstract":
				m.abstract = true
			}
		default:
			return m, nil
		}
	}
}

func (p *parser) skipAnnotations() error {
	for p.is("@") && p.peekAt(1).text != "interface" {
		if err := p.skipAnnotation(); err != nil {
			return err
		}
	}
	return nil
}

// skipAnnotation skips "@Name" or "@Name(arguments)".
func (p *parser) skipAnnotation() error {
	p.nextTok() // @
	if _, err := p.qualifiedName(); err != nil {
		return err
	}
	if p.is("(") {
		return p.skipBalanced(0)
	}
	return nil
}

// skipBalanced skips from an opening bracket to its matching closing one.
func (p *parser) skipBalanced(depth int) error {
	open := p.nextTok()
	closer := map[string]string{"(": ")", "{": "}", "[": "]"}[open.text]
	for {
		t := p.peek()
		switch {
		case t.kind == tokEOF:
			return p.errorAt(open.pos, "unclosed %q", open.text)
		case t.kind == tokPunct && (t.text == "(" || t.text == "{" || t.text == "["):
			if depth >= maxNesting {
				return p.errorAt(t.pos, "brackets nested deeper than %d", maxNesting)
			}
			if err := p.skipBalanced(depth + 1); err != nil {
				return err
			}
		case t.kind == tokPunct && (t.text == ")" || t.text == "}" || t.text == "]"):
			p.nextTok()
			if t.text != closer {
				return p.errorAt(t.pos, "expected %q to close %q at %d:%d, found %q",
					closer, open.text, open.pos.Line, open.pos.Col, t.text)
			}
			return nil
		default:
			p.nextTok()
		}
	}
}

var modifierWords = map[string]bool{
	"public": true, "protected": true, "private": true, "static": true, "abstract": true,
	"final": true, "native": true, "synchronized": true, "transient": true, "volatile": true,
	"strictfp": true, "default": true, "sealed": true,
}

// reservedWords cannot be identifiers (the contextual keywords record, var, sealed, permits,
// yield can).
var reservedWords = map[string]bool{
	"abstract": true, "assert": true, "boolean": true, "break": true, "byte": true, "case": true,
	"catch": true, "char": true, "class": true, "const": true, "continue": true, "default": true,
	"do": true, "double": true, "else": true, "enum": true, "extends": true, "final": true,
	"finally": true, "float": true, "for": true, "goto": true, "if": true, "implements": true,
	"import": true, "instanceof": true, "int": true, "interface": true, "long": true, "native": true,
	"new": true, "package": true, "private": true, "protected": true, "public": true, "return": true,
	"short": true, "static": true, "strictfp": true, "super": true, "switch": true,
	"synchronized": true, "this": true, "throw": true, "throws": true, "transient": true, "try": true,
	"void": true, "volatile": true, "while": true, "true": true, "false": true, "null": true,
}
