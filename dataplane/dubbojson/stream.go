package dubbojson

import (
	"bytes"
	"errors"
	"strconv"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/javatype"
)

// errDecodedPath is what encodeNode returns when a value is not one it writes the same as
// encode would from the decoded body: every value encode refuses, so that the refusal's
// message is always encode's. Prepare then encodes the request again from the decoded body.
// It never leaves this package.
var errDecodedPath = errors.New("take the decoded path")

// encodeNode writes tape node idx as a value of type t: the bytes encode writes for the value
// encoding/json decodes the node into (TestTapeAsDecoded and FuzzTapeAsDecoded hold the two
// equal). Containers are walked on the tape; leaves are handed to encode as the Go values
// encoding/json makes of them (strings, json.Numbers), so every scalar rule stays encode's.
func (e *encoder) encodeNode(t *javatype.Type, tp *tape, idx int, path *jsonPath) error {
	n := &tp.nodes[idx]
	if n.kind != '{' && n.kind != '[' {
		if e.writeLeaf(t, tp, n) {
			return nil
		}
		if err := e.encode(t, tp.leaf(n), path); err != nil {
			return errDecodedPath
		}
		return nil
	}
	switch f := t.Family(); f {
	case javatype.Array:
		if n.kind != '[' {
			return errDecodedPath
		}
		elem := t.Elem()
		e.w.typedList(arrayTypeName(elem), int(n.count))
		return tp.items(idx, func(i, item int) error {
			return e.encodeNode(elem, tp, item, e.at(path, jsonPath{index: i, isIndex: true}))
		})
	case javatype.Collection:
		if n.kind != '[' {
			return errDecodedPath
		}
		e.w.untypedList(int(n.count))
		return tp.items(idx, func(i, item int) error {
			return e.encodeNode(t.Arg(0), tp, item, e.at(path, jsonPath{index: i, isIndex: true}))
		})
	case javatype.Map:
		if n.kind != '{' {
			return errDecodedPath
		}
		return e.encodeMapNode(t, tp, idx, path)
	case javatype.Future:
		return e.encodeNode(t.Arg(0), tp, idx, path)
	case javatype.Class:
		if c, ok := e.classes[t.Name]; ok {
			if c.Enum || n.kind != '{' {
				return errDecodedPath
			}
			return e.encodeObjectNode(t, c, tp, idx, path)
		}
		return e.encodeUntypedNode(tp, idx, path)
	case javatype.Any:
		return e.encodeUntypedNode(tp, idx, path)
	}
	// Scalar families, void and unsupported types refuse containers; so do dates and times.
	return errDecodedPath
}

// writeLeaf writes the most common leaves without making a Go value of them first: strings
// as String, integers as Integer, booleans as Boolean — what encode writes for them. It
// reports false, having written nothing, for any other leaf.
func (e *encoder) writeLeaf(t *javatype.Type, tp *tape, n *jnode) bool {
	switch t.Family() {
	case javatype.String:
		if n.kind == '"' {
			e.w.str(tp.str(n))
			return true
		}
	case javatype.Boolean:
		if n.kind == 't' || n.kind == 'f' {
			_ = e.w.scalar(n.kind == 't')
			return true
		}
	case javatype.Integer:
		text := tp.raw[n.start:n.end]
		if n.kind != '0' || bytes.ContainsAny(text, ".eE") { // JSON's grammar: else -?[0-9]+
			return false
		}
		bits := t.Bits()
		v, err := strconv.ParseInt(string(text), 10, bits)
		if err != nil {
			return false
		}
		if bits == 64 {
			_ = e.w.scalar(v)
		} else {
			_ = e.w.scalar(int32(v))
		}
		return true
	}
	return false
}

func (e *encoder) encodeMapNode(t *javatype.Type, tp *tape, idx int, path *jsonPath) error {
	e.w.mapStart()
	for _, m := range tp.sortedMembers(idx) {
		k := string(tp.key(&tp.nodes[m[0]]))
		if err := e.encode(t.Arg(0), k, e.at(path, jsonPath{key: k, mapKey: true})); err != nil {
			return errDecodedPath
		}
		if err := e.encodeNode(t.Arg(1), tp, m[1], e.at(path, jsonPath{key: k})); err != nil {
			return err
		}
	}
	e.w.mapEnd()
	return nil
}

// encodeObjectNode writes a DTO as encodeObject does: the class's fields in order, absent ones
// null (zero for primitives); an unknown field takes the decoded path (encodeObject refuses
// it).
func (e *encoder) encodeObjectNode(t *javatype.Type, c ir.JavaClass, tp *tape, idx int, path *jsonPath) error {
	names, types, err := fieldsOf(e.fields, t, c)
	if err != nil {
		return errDecodedPath
	}
	unknown := false
	tp.members(idx, func(k, _ int) {
		key := tp.key(&tp.nodes[k])
		for _, name := range names {
			if string(key) == name {
				return
			}
		}
		unknown = true
	})
	if unknown {
		return errDecodedPath
	}
	e.w.object(c.Name, names)
	for i, name := range names {
		fieldPath := e.at(path, jsonPath{key: name})
		v := tp.member(idx, name)
		switch {
		case v >= 0:
			err = e.encodeNode(types[i], tp, v, fieldPath)
		case types[i].IsPrimitive():
			err = e.encode(types[i], zeroOf(types[i]), fieldPath)
		default:
			err = e.encode(types[i], nil, fieldPath)
		}
		if err != nil {
			return errDecodedPath
		}
	}
	return nil
}

// encodeUntypedNode writes a container whose Java type says nothing as encodeUntyped does:
// arrays as untyped lists, objects as maps with sorted keys.
func (e *encoder) encodeUntypedNode(tp *tape, idx int, path *jsonPath) error {
	n := &tp.nodes[idx]
	switch n.kind {
	case '[':
		e.w.untypedList(int(n.count))
		return tp.items(idx, func(i, item int) error {
			return e.encodeUntypedNode(tp, item, e.at(path, jsonPath{index: i, isIndex: true}))
		})
	case '{':
		e.w.mapStart()
		for _, m := range tp.sortedMembers(idx) {
			k := tp.key(&tp.nodes[m[0]])
			e.w.str(string(k))
			if err := e.encodeUntypedNode(tp, m[1], e.at(path, jsonPath{key: string(k)})); err != nil {
				return err
			}
		}
		e.w.mapEnd()
		return nil
	}
	if err := e.encodeUntyped(tp.leaf(n), path); err != nil {
		return errDecodedPath
	}
	return nil
}
