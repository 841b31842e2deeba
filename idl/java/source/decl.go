package source

// typeDecl parses a class, interface, enum, record or annotation declaration after its modifiers.
func (p *parser) typeDecl(mods modifierSet, outer *typeDecl, depth int) (*typeDecl, error) {
	if depth > maxNesting {
		return nil, p.errorAt(p.peek().pos, "types nested deeper than %d", maxNesting)
	}
	t := p.peek()
	d := &typeDecl{outer: outer, file: p.file, static: mods.static, doc: mods.doc}
	switch {
	case p.accept("class"):
		d.kind = kindClass
	case p.accept("interface"):
		d.kind = kindInterface
	case p.accept("enum"):
		d.kind = kindEnum
	case p.is("@") && p.peekAt(1).text == "interface":
		p.i += 2
		d.kind = kindAnnotation
	case t.kind == tokIdent && t.text == "record" && p.peekAt(1).kind == tokIdent:
		p.i++
		d.kind = kindRecord
	default:
		return nil, p.errorAt(t.pos, "expected a class, interface, enum or record declaration, found %s", t)
	}
	name, err := p.ident()
	if err != nil {
		return nil, err
	}
	d.name, d.pos = name.text, name.pos
	if outer != nil && (outer.kind == kindInterface || outer.kind == kindAnnotation) || d.kind != kindClass {
		d.static = true // member interfaces, enums, records and members of interfaces are static
	}
	if p.is("<") {
		if d.typeParams, err = p.typeParams(); err != nil {
			return nil, err
		}
	}
	if d.kind == kindRecord {
		if err := p.recordHeader(d); err != nil {
			return nil, err
		}
	}
	if err := p.superTypes(d); err != nil {
		return nil, err
	}
	if d.kind == kindAnnotation {
		if !p.is("{") {
			return nil, p.errorAt(p.peek().pos, "expected \"{\", found %s", p.peek())
		}
		return d, p.skipBalanced(0)
	}
	if _, err := p.expect("{"); err != nil {
		return nil, err
	}
	if d.kind == kindEnum {
		if err := p.enumConstants(d); err != nil {
			return nil, err
		}
	}
	return d, p.classBody(d, depth)
}

// superTypes reads extends / implements / permits clauses; only extends is kept.
func (p *parser) superTypes(d *typeDecl) error {
	for {
		switch {
		case p.accept("extends"):
			list, err := p.typeList()
			if err != nil {
				return err
			}
			d.extends = list
		case p.accept("implements"), p.peek().kind == tokIdent && p.peek().text == "permits" && p.next1():
			if _, err := p.typeList(); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

// next1 consumes one token and reports true, so it can sit in a case expression.
func (p *parser) next1() bool {
	p.nextTok()
	return true
}

func (p *parser) typeList() ([]*typeRef, error) {
	var list []*typeRef
	for {
		t, err := p.typeRef(0)
		if err != nil {
			return nil, err
		}
		list = append(list, t)
		if !p.accept(",") {
			return list, nil
		}
	}
}

func (p *parser) recordHeader(d *typeDecl) error {
	if _, err := p.expect("("); err != nil {
		return err
	}
	for !p.accept(")") {
		if err := p.skipAnnotations(); err != nil {
			return err
		}
		typ, err := p.typeRef(0)
		if err != nil {
			return err
		}
		if p.accept("...") {
			typ.dims++
		}
		name, err := p.ident()
		if err != nil {
			return err
		}
		d.fields = append(d.fields, fieldDecl{name: name.text, typ: typ})
		if !p.is(")") {
			if _, err := p.expect(","); err != nil {
				return err
			}
		}
	}
	return nil
}

// enumConstants reads "A, B(args), C { body };" up to the members or the closing brace.
func (p *parser) enumConstants(d *typeDecl) error {
	for {
		if err := p.skipAnnotations(); err != nil {
			return err
		}
		if p.accept(";") || p.is("}") {
			return nil
		}
		name, err := p.ident()
		if err != nil {
			return err
		}
		d.constants = append(d.constants, name.text)
		for p.is("(") || p.is("{") {
			if err := p.skipBalanced(0); err != nil {
				return err
			}
		}
		if !p.accept(",") {
			if p.accept(";") || p.is("}") {
				return nil
			}
			return p.errorAt(p.peek().pos, "expected \",\", \";\" or \"}\" after enum constant %s, found %s", name.text, p.peek())
		}
	}
}

// classBody reads members up to and including the closing brace.
func (p *parser) classBody(d *typeDecl, depth int) error {
	for {
		t := p.peek()
		switch {
		case t.kind == tokEOF:
			return p.errorAt(t.pos, "missing \"}\" to close %s %s", d.kind, d.name)
		case p.accept("}"):
			return nil
		case p.accept(";"):
			continue
		case p.is("{"):
			if err := p.skipBalanced(0); err != nil { // instance initializer
				return err
			}
			continue
		case p.is("static") && p.peekAt(1).text == "{":
			p.nextTok()
			if err := p.skipBalanced(0); err != nil {
				return err
			}
			continue
		}
		if err := p.member(d, depth); err != nil {
			return err
		}
	}
}

func (p *parser) member(d *typeDecl, depth int) error {
	mods, err := p.modifiers()
	if err != nil {
		return err
	}
	t := p.peek()
	if p.is("class") || p.is("interface") || p.is("enum") || p.is("@") ||
		t.kind == tokIdent && t.text == "record" && p.peekAt(1).kind == tokIdent && p.peekAt(2).text != "=" && p.peekAt(2).text != ";" {
		nested, err := p.typeDecl(mods, d, depth+1)
		if err != nil {
			return err
		}
		d.nested = append(d.nested, nested)
		return nil
	}
	var typeParams []typeParam
	if p.is("<") {
		if typeParams, err = p.typeParams(); err != nil {
			return err
		}
	}
	// A constructor (or a compact record constructor) is the type's name followed by "(" or "{".
	if t := p.peek(); t.kind == tokIdent && t.text == d.name && (p.peekAt(1).text == "(" || p.peekAt(1).text == "{") {
		p.nextTok()
		return p.skipMethodRest(nil)
	}
	typ, err := p.typeRef(0)
	if err != nil {
		return err
	}
	name, err := p.ident()
	if err != nil {
		return err
	}
	if p.is("(") {
		m := methodDecl{name: name.text, pos: name.pos, typeParams: typeParams, returns: typ, doc: mods.doc}
		if err := p.skipMethodRest(&m); err != nil {
			return err
		}
		m.abstract = m.abstract && !mods.static && !mods.dflt && !mods.private
		d.methods = append(d.methods, m)
		return nil
	}
	return p.fieldDeclarators(d, mods, typ, name)
}

// skipMethodRest reads the parameter list into m (when not nil), then dims, throws, a default
// value and either ";" or a body. m.abstract is set when there is no body.
func (p *parser) skipMethodRest(m *methodDecl) error {
	if p.is("{") { // compact record constructor
		return p.skipBalanced(0)
	}
	if _, err := p.expect("("); err != nil {
		return err
	}
	for !p.accept(")") {
		param, err := p.formalParam()
		if err != nil {
			return err
		}
		if m != nil && param.name != "this" {
			m.params = append(m.params, param)
		}
		if !p.is(")") {
			if _, err := p.expect(","); err != nil {
				return err
			}
		}
	}
	for p.is("[") && p.peekAt(1).text == "]" {
		p.i += 2
		if m != nil {
			m.returns.dims++
		}
	}
	if p.accept("throws") {
		if _, err := p.typeList(); err != nil {
			return err
		}
	}
	if p.accept("default") { // annotation element default
		if err := p.skipExpression(); err != nil {
			return err
		}
	}
	if p.accept(";") {
		if m != nil {
			m.abstract = true
		}
		return nil
	}
	if !p.is("{") {
		return p.errorAt(p.peek().pos, "expected \";\" or a method body, found %s", p.peek())
	}
	return p.skipBalanced(0)
}

func (p *parser) formalParam() (paramDecl, error) {
	if _, err := p.modifiers(); err != nil { // final and annotations
		return paramDecl{}, err
	}
	typ, err := p.typeRef(0)
	if err != nil {
		return paramDecl{}, err
	}
	param := paramDecl{typ: typ}
	if p.accept("...") {
		param.varargs = true
	}
	if p.is("this") { // receiver parameter
		p.nextTok()
		return paramDecl{name: "this"}, nil
	}
	name, err := p.ident()
	if err != nil {
		return paramDecl{}, err
	}
	param.name = name.text
	for p.is("[") && p.peekAt(1).text == "]" {
		p.i += 2
		typ.dims++
	}
	return param, nil
}

// fieldDeclarators reads "a [= init], b[] [= init];" after the first name.
func (p *parser) fieldDeclarators(d *typeDecl, mods modifierSet, typ *typeRef, name token) error {
	for {
		ft := *typ
		for p.is("[") && p.peekAt(1).text == "]" {
			p.i += 2
			ft.dims++
		}
		d.fields = append(d.fields, fieldDecl{name: name.text, typ: &ft, static: mods.static, transient: mods.transient, doc: mods.doc})
		if p.accept("=") {
			if err := p.skipExpression(); err != nil {
				return err
			}
		}
		if p.accept(";") {
			return nil
		}
		if _, err := p.expect(","); err != nil {
			return err
		}
		var err error
		if name, err = p.ident(); err != nil {
			return err
		}
	}
}
