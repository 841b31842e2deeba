package dubbojson

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/javatype"
)

// integerSyntax is the syntax javatype states for integer strings.
var integerSyntax = regexp.MustCompile(javatype.IntegerPattern)

// encoder turns JSON values (decoded with UseNumber; strings for query, header and path
// arguments) into hessian2 values of Java types, by the types' javatype families.
type encoder struct {
	w       *writer
	classes map[string]ir.JavaClass
	// fields are the fields of the non-generic classes, parsed once (nil: parsed per use).
	fields map[string]classFields
	// paths holds the jsonPaths of the values being written (see at).
	paths []jsonPath
	// numbers bound BigDecimal and BigInteger values (defaults filled in).
	numbers javatype.NumberLimits
}

// encode writes v as a value of type t.
func (e *encoder) encode(t *javatype.Type, v any, path *jsonPath) error {
	if v == nil {
		if t.IsPrimitive() {
			return failf(path, "null is not a %s", t)
		}
		return e.w.scalar(nil)
	}
	switch f := t.Family(); f {
	case javatype.Boolean:
		return e.encodeBool(v, path)
	case javatype.Integer:
		return e.encodeInt(t, v, path)
	case javatype.Float:
		return e.encodeFloat(t, v, path)
	case javatype.Char:
		s, ok := v.(string)
		if !ok || len([]rune(s)) != 1 {
			return failf(path, "want a one-character string for %s", t)
		}
		return e.w.scalar(s)
	case javatype.String:
		s, ok := v.(string)
		if !ok {
			return failf(path, "want a JSON string for %s", t)
		}
		return e.w.scalar(s)
	case javatype.BigDecimal:
		return e.encodeBigDecimal(v, path)
	case javatype.BigInteger:
		return e.encodeBigInteger(v, path)
	case javatype.Bytes:
		return e.encodeBytes(v, path)
	case javatype.Array:
		return e.encodeArray(t, v, path)
	case javatype.Collection:
		items, ok := v.([]any)
		if !ok {
			return failf(path, "want a JSON array for %s", t)
		}
		e.w.untypedList(len(items))
		for i, item := range items {
			if err := e.encode(t.Arg(0), item, e.at(path, jsonPath{index: i, isIndex: true})); err != nil {
				return err
			}
		}
		return nil
	case javatype.Map:
		return e.encodeMap(t, v, path)
	case javatype.Future:
		return e.encode(t.Arg(0), v, path)
	case javatype.Void:
		return failf(path, "want null for %s", t)
	case javatype.Unsupported:
		return failf(path, "%s has no JSON mapping: only null is accepted", t.Name)
	case javatype.Class:
		if c, ok := e.classes[t.Name]; ok {
			if c.Enum {
				return e.encodeEnum(c, v, path)
			}
			return e.encodeObject(t, c, v, path)
		}
	default:
		if f.Temporal() {
			return e.encodeTemporal(t, v, path)
		}
	}
	return e.encodeUntyped(v, path)
}

func (e *encoder) encodeBool(v any, path *jsonPath) error {
	switch b := v.(type) {
	case bool:
		return e.w.scalar(b)
	case string:
		parsed, err := strconv.ParseBool(b)
		if err != nil || (b != "true" && b != "false") {
			return failf(path, "%q is not a boolean", b)
		}
		return e.w.scalar(parsed)
	}
	return failf(path, "want true or false")
}

func (e *encoder) encodeInt(t *javatype.Type, v any, path *jsonPath) error {
	s, err := numberText(v, path)
	if err != nil {
		return err
	}
	bits := t.Bits()
	n, err := strconv.ParseInt(s, 10, bits)
	if err != nil || !integerSyntax.MatchString(s) {
		return failf(path, "%q is not a %s (%d-bit integer)", s, t.Name, bits)
	}
	if bits == 64 {
		return e.w.scalar(n)
	}
	return e.w.scalar(int32(n))
}

func (e *encoder) encodeFloat(t *javatype.Type, v any, path *jsonPath) error {
	s, err := numberText(v, path)
	if err != nil {
		return err
	}
	f, err := strconv.ParseFloat(s, t.Bits())
	if err != nil {
		return failf(path, "%q is not a %s", s, t.Name)
	}
	return e.w.scalar(f)
}

// numberText is the text of a JSON number or of a string holding one.
func numberText(v any, path *jsonPath) (string, error) {
	switch n := v.(type) {
	case json.Number:
		return n.String(), nil
	case string:
		return strings.TrimSpace(n), nil
	}
	return "", failf(path, "want a number or a string holding one, got %s", jsonKind(v))
}

// encodeBigDecimal writes java.math.BigDecimal as its hessian2 form, an object whose value is
// the decimal's text. The text is javatype.Decimal.String's, not the client's: the same
// precision and scale for Java providers, and a form whose digits javatype's limits keep
// within what dubbo-go's decoder holds (leading zeros, for one, would count against it).
func (e *encoder) encodeBigDecimal(v any, path *jsonPath) error {
	s, err := numberText(v, path)
	if err != nil {
		return err
	}
	d, err := e.numbers.ParseDecimal(s)
	if err != nil {
		return failf(path, "%v", err)
	}
	e.w.object("java.math.BigDecimal", []string{"value"})
	return e.w.scalar(d.String())
}

// encodeBigInteger writes java.math.BigInteger as Java's serialized form: signum and the
// magnitude as big-endian 32-bit words, with the deprecated fields dubbo-go-hessian2 expects.
func (e *encoder) encodeBigInteger(v any, path *jsonPath) error {
	s, err := numberText(v, path)
	if err != nil {
		return err
	}
	n, err := e.numbers.ParseInteger(s)
	if err != nil {
		return failf(path, "%v", err)
	}
	mag := new(big.Int).Abs(n).Bytes()
	for len(mag)%4 != 0 {
		mag = append([]byte{0}, mag...)
	}
	e.w.object("java.math.BigInteger", []string{"signum", "mag", "bitCount", "bitLength", "lowestSetBit", "firstNonzeroIntNum"})
	_ = e.w.scalar(int32(n.Sign()))
	e.w.typedList("[int", len(mag)/4)
	for i := 0; i < len(mag); i += 4 {
		_ = e.w.scalar(int32(uint32(mag[i])<<24 | uint32(mag[i+1])<<16 | uint32(mag[i+2])<<8 | uint32(mag[i+3])))
	}
	for range 4 {
		_ = e.w.scalar(int32(0))
	}
	return nil
}

// encodeBytes writes byte[] from base64, or as it is from an upload (rawBytes).
func (e *encoder) encodeBytes(v any, path *jsonPath) error {
	if raw, ok := v.(rawBytes); ok {
		return e.w.scalar([]byte(raw))
	}
	s, ok := v.(string)
	if !ok {
		return failf(path, "want a base64 string for byte[]")
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return failf(path, "not base64: %v", err)
	}
	return e.w.scalar(b)
}

func (e *encoder) encodeArray(t *javatype.Type, v any, path *jsonPath) error {
	items, ok := v.([]any)
	if !ok {
		return failf(path, "want a JSON array for %s", t)
	}
	elem := t.Elem()
	e.w.typedList(arrayTypeName(elem), len(items))
	for i, item := range items {
		if err := e.encode(elem, item, e.at(path, jsonPath{index: i, isIndex: true})); err != nil {
			return err
		}
	}
	return nil
}

// arrayTypeName is hessian2's type name of an array of elem.
func arrayTypeName(elem *javatype.Type) string {
	switch {
	case elem.IsArray() || elem.Name == "java.lang.Object":
		return "[object"
	case elem.Name == "java.lang.String":
		return "[string"
	}
	return "[" + elem.Name
}

func (e *encoder) encodeMap(t *javatype.Type, v any, path *jsonPath) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return failf(path, "want a JSON object for %s", t)
	}
	e.w.mapStart()
	for _, k := range sortedKeys(obj) {
		// JSON keys are strings: keys of other types are parsed from them.
		if err := e.encode(t.Arg(0), k, e.at(path, jsonPath{key: k, mapKey: true})); err != nil {
			return err
		}
		if err := e.encode(t.Arg(1), obj[k], e.at(path, jsonPath{key: k})); err != nil {
			return err
		}
	}
	e.w.mapEnd()
	return nil
}

func (e *encoder) encodeEnum(c ir.JavaClass, v any, path *jsonPath) error {
	s, ok := v.(string)
	if !ok || !slices.Contains(c.Constants, s) {
		return failf(path, "%s is not a constant of %s (%s)", jsonText(v), c.Name, strings.Join(c.Constants, ", "))
	}
	e.w.object(c.Name, []string{"name"})
	return e.w.scalar(s)
}

// encodeObject writes a DTO as a typed object with the class's fields in order; absent fields
// are null (zero for primitives); unknown fields are refused.
func (e *encoder) encodeObject(t *javatype.Type, c ir.JavaClass, v any, path *jsonPath) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return failf(path, "want a JSON object for %s", c.Name)
	}
	names, types, err := fieldsOf(e.fields, t, c)
	if err != nil {
		return failf(path, "%v", err)
	}
	// The first unknown field in key order is named, so that the message does not depend on
	// the map's iteration order.
	unknown, found := "", false
	for k := range obj {
		if !slices.Contains(names, k) && (!found || k < unknown) {
			unknown, found = k, true
		}
	}
	if found {
		return failf(path, "%s has no field %q", c.Name, unknown)
	}
	e.w.object(c.Name, names)
	for i, name := range names {
		fv, present := obj[name]
		if !present && types[i].IsPrimitive() {
			fv = zeroOf(types[i])
		}
		if err := e.encode(types[i], fv, e.at(path, jsonPath{key: name})); err != nil {
			return err
		}
	}
	return nil
}

// classFields are the names and types of a class's fields.
type classFields struct {
	names []string
	types []*javatype.Type
}

// parseFields parses the fields of the classes that have no type parameters (whose field
// types do not depend on how they are used), once per route rather than once per value;
// classes whose fields do not parse are left out (fieldsOf then reports the error).
func parseFields(classes map[string]ir.JavaClass) map[string]classFields {
	out := make(map[string]classFields, len(classes))
	for name, c := range classes {
		if len(c.TypeParams) > 0 || c.Enum {
			continue
		}
		if names, types, err := fieldTypes(nil, c); err == nil {
			out[name] = classFields{names: names, types: types}
		}
	}
	return out
}

// fieldsOf is fieldTypes(t, c), from parsed when it holds c. The types returned are shared:
// callers must not change them.
func fieldsOf(parsed map[string]classFields, t *javatype.Type, c ir.JavaClass) ([]string, []*javatype.Type, error) {
	if f, ok := parsed[c.Name]; ok && len(c.TypeParams) == 0 {
		return f.names, f.types, nil
	}
	return fieldTypes(t, c)
}

// fieldTypes are the names and types of the fields of class c as type t uses it: type
// parameters replaced by t's arguments.
func fieldTypes(t *javatype.Type, c ir.JavaClass) ([]string, []*javatype.Type, error) {
	bindings := map[string]*javatype.Type{}
	for i, p := range c.TypeParams {
		bindings[p] = t.Arg(i)
	}
	names := make([]string, len(c.Fields))
	types := make([]*javatype.Type, len(c.Fields))
	for i, f := range c.Fields {
		ft, err := javatype.Parse(f.Type)
		if err != nil {
			return nil, nil, fmt.Errorf("field %s: %w", f.Name, err)
		}
		names[i], types[i] = f.Name, ft.Substitute(bindings)
	}
	return names, types, nil
}

// zeroOf is the JSON form of a primitive's zero value.
func zeroOf(t *javatype.Type) any {
	switch t.Name {
	case "boolean":
		return false
	case "char":
		return "\x00"
	}
	return json.Number("0")
}
