package source

// fileAST is what the parser keeps of one compilation unit.
type fileAST struct {
	name    string
	pkg     string
	imports []importDecl
	types   []*typeDecl
}

// importDecl is a single-type ("a.b.C") or on-demand ("a.b.*") import; static imports are dropped.
type importDecl struct {
	path     string
	wildcard bool
}

// declKind is the kind of a type declaration.
type declKind string

const (
	kindClass      declKind = "class"
	kindInterface  declKind = "interface"
	kindEnum       declKind = "enum"
	kindRecord     declKind = "record"
	kindAnnotation declKind = "@interface"
)

// typeDecl is a class, interface, enum, record or annotation declaration. Declarations keep
// the raw body of their documentation comment as doc (javadoc.go reads it).
type typeDecl struct {
	kind       declKind
	name       string
	pos        Pos
	doc        string
	static     bool
	typeParams []typeParam
	// extends holds the superclass of a class or the super-interfaces of an interface.
	extends   []*typeRef
	fields    []fieldDecl
	methods   []methodDecl
	constants []string
	nested    []*typeDecl
	outer     *typeDecl
	file      *fileAST
}

// typeParam is a declared type variable and its first bound (nil when unbounded).
type typeParam struct {
	name  string
	bound *typeRef
}

// fieldDecl is one declared field (one declarator of a field declaration).
type fieldDecl struct {
	name      string
	typ       *typeRef
	static    bool
	transient bool
	doc       string
}

// methodDecl is one declared method; abstract is false when it has a body or is static,
// default or private.
type methodDecl struct {
	name       string
	pos        Pos
	typeParams []typeParam
	params     []paramDecl
	returns    *typeRef
	abstract   bool
	doc        string
}

// paramDecl is one formal parameter; varargs parameters become arrays when resolved.
type paramDecl struct {
	name    string
	typ     *typeRef
	varargs bool
}

// typeRef is a type as written in source, before names are resolved.
type typeRef struct {
	pos Pos
	// primitive is set for primitive types and void.
	primitive string
	// parts are the dot-separated segments of a class type, each with its type arguments.
	parts []namePart
	// wildcard is "?", "extends" or "super" for a wildcard type argument; bound is then its bound.
	wildcard string
	bound    *typeRef
	dims     int
}

// namePart is one segment of a qualified type name.
type namePart struct {
	name string
	pos  Pos
	args []*typeRef
}
