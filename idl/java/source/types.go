package source

var primitiveWords = map[string]bool{
	"boolean": true, "byte": true, "char": true, "short": true, "int": true,
	"long": true, "float": true, "double": true, "void": true,
}

// typeRef parses a type: annotations, a primitive or a qualified class name with type
// arguments on any segment, then array dimensions.
func (p *parser) typeRef(depth int) (*typeRef, error) {
	if depth > maxNesting {
		return nil, p.errorAt(p.peek().pos, "type arguments nested deeper than %d", maxNesting)
	}
	if err := p.skipAnnotations(); err != nil {
		return nil, err
	}
	t := p.peek()
	ref := &typeRef{pos: t.pos}
	if t.kind == tokIdent && primitiveWords[t.text] {
		p.nextTok()
		ref.primitive = t.text
	} else {
		for {
			if err := p.skipAnnotations(); err != nil {
				return nil, err
			}
			name, err := p.ident()
			if err != nil {
				return nil, err
			}
			part := namePart{name: name.text, pos: name.pos}
			if p.is("<") {
				if part.args, err = p.typeArgs(depth); err != nil {
					return nil, err
				}
			}
			ref.parts = append(ref.parts, part)
			if !(p.is(".") && (p.peekAt(1).kind == tokIdent || p.peekAt(1).text == "@")) {
				break
			}
			p.nextTok()
		}
	}
	for {
		if err := p.skipAnnotations(); err != nil {
			return nil, err
		}
		if !(p.is("[") && p.peekAt(1).text == "]") {
			break
		}
		p.i += 2
		ref.dims++
	}
	return ref, nil
}

// typeArgs parses "<A, ? extends B, ?>"; each '>' is its own token, so ">>" needs no splitting.
func (p *parser) typeArgs(depth int) ([]*typeRef, error) {
	open := p.nextTok() // <
	var args []*typeRef
	if p.accept(">") {
		return nil, p.errorAt(open.pos, "the diamond \"<>\" is not allowed in a declaration")
	}
	for {
		if err := p.skipAnnotations(); err != nil {
			return nil, err
		}
		var arg *typeRef
		if t := p.peek(); p.accept("?") {
			arg = &typeRef{pos: t.pos, wildcard: "?"}
			if p.is("extends") || p.is("super") {
				arg.wildcard = p.nextTok().text
				bound, err := p.typeRef(depth + 1)
				if err != nil {
					return nil, err
				}
				arg.bound = bound
			}
		} else {
			var err error
			if arg, err = p.typeRef(depth + 1); err != nil {
				return nil, err
			}
		}
		args = append(args, arg)
		if p.accept(">") {
			return args, nil
		}
		if _, err := p.expect(","); err != nil {
			return nil, p.errorAt(p.peek().pos, "expected \",\" or \">\" in type arguments, found %s", p.peek())
		}
	}
}

// typeParams parses "<T, U extends Comparable<U> & Serializable>", keeping each first bound.
func (p *parser) typeParams() ([]typeParam, error) {
	p.nextTok() // <
	var params []typeParam
	for {
		if err := p.skipAnnotations(); err != nil {
			return nil, err
		}
		name, err := p.ident()
		if err != nil {
			return nil, err
		}
		tp := typeParam{name: name.text}
		if p.accept("extends") {
			for {
				bound, err := p.typeRef(1)
				if err != nil {
					return nil, err
				}
				if tp.bound == nil {
					tp.bound = bound
				}
				if !p.accept("&") {
					break
				}
			}
		}
		params = append(params, tp)
		if p.accept(">") {
			return params, nil
		}
		if _, err := p.expect(","); err != nil {
			return nil, err
		}
	}
}

// skipExpression skips a field initializer or annotation default up to (not including) the ","
// that starts the next declarator or the ";" that ends the declaration. A "," at bracket depth 0
// ends the expression only when a declarator ("name =", "name,", "name;", "name[") follows, so
// generic arguments such as "new HashMap<String, Integer>()" are skipped whole.
func (p *parser) skipExpression() error {
	for {
		t := p.peek()
		switch {
		case t.kind == tokEOF:
			return p.errorAt(t.pos, "unexpected end of file in an initializer")
		case p.is(";"), p.is("}"), p.is(")"):
			return nil
		case p.is(","):
			next, after := p.peekAt(1), p.peekAt(2)
			if next.kind == tokIdent && (after.text == "=" || after.text == "," || after.text == ";" || after.text == "[") {
				return nil
			}
			p.nextTok()
		case p.is("("), p.is("{"), p.is("["):
			if err := p.skipBalanced(0); err != nil {
				return err
			}
		default:
			p.nextTok()
		}
	}
}
