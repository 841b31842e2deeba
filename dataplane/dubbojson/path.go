package dubbojson

import (
	"fmt"
	"strconv"
)

// valueError is a JSON value that cannot become its Java type; path locates it inside the
// argument ("" for the argument itself, ".address.zip", "[2]").
type valueError struct {
	path   string
	reason string
}

func (e *valueError) Error() string { return e.path + ": " + e.reason }

func failf(path *jsonPath, format string, args ...any) error {
	return &valueError{path: path.String(), reason: fmt.Sprintf(format, args...)}
}

// jsonPath locates a value inside an argument while it is encoded, for valueError: built on
// the way down without formatting, printed only when a value fails. nil is the argument
// itself.
type jsonPath struct {
	parent  *jsonPath
	depth   int    // parent's + 1: the index in encoder.paths is depth-1
	key     string // an object's field or a map's key
	index   int    // an array's index, when isIndex
	isIndex bool
	mapKey  bool // the key itself, not its value
}

// at returns the path of a value inside the one at parent (p without parent and depth). The
// nodes live in e.paths, a stack reused from value to value: a node is overwritten when the
// encoder moves on to the next value at its depth, once nothing below it runs any more.
func (e *encoder) at(parent *jsonPath, p jsonPath) *jsonPath {
	p.parent, p.depth = parent, 1
	if parent != nil {
		p.depth = parent.depth + 1
	}
	e.paths = append(e.paths[:p.depth-1], p)
	return &e.paths[p.depth-1]
}

// String is the path as valueError prints it: ".address.zip", "[2]", ".k(key)".
func (p *jsonPath) String() string {
	if p == nil {
		return ""
	}
	switch {
	case p.isIndex:
		return p.parent.String() + "[" + strconv.Itoa(p.index) + "]"
	case p.mapKey:
		return p.parent.String() + "." + p.key + "(key)"
	}
	return p.parent.String() + "." + p.key
}
