package dubbojson

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// valueError is a JSON value that cannot become its Java type; path locates it inside the
// argument ("" for the argument itself, ".address.zip", "[2]").
type valueError struct {
	path   string
	reason string
}

func (e *valueError) Error() string { return e.path + ": " + e.reason }

func failf(path, format string, args ...any) error {
	return &valueError{path: path, reason: fmt.Sprintf(format, args...)}
}

// decimalSyntax is what java.math.BigDecimal(String) accepts.
var decimalSyntax = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// encoder turns JSON values (decoded with UseNumber; strings for query, header and path
// arguments) into hessian2 values of Java types.
type encoder struct {
	w       *writer
	classes map[string]ir.JavaClass
}

// encode writes v as a value of type t.
func (e *encoder) encode(t *javaType, v any, path string) error {
	if v == nil {
		if t.primitive() {
			return failf(path, "null is not a %s", t)
		}
		return e.w.scalar(nil)
	}
	switch t.family() {
	case familyBool:
		return e.encodeBool(v, path)
	case familyInt:
		return e.encodeInt(t, v, path)
	case familyFloat:
		return e.encodeFloat(t, v, path)
	case familyChar:
		s, ok := v.(string)
		if !ok || len([]rune(s)) != 1 {
			return failf(path, "want a one-character string for %s", t)
		}
		return e.w.scalar(s)
	case familyString:
		s, ok := v.(string)
		if !ok {
			return failf(path, "want a JSON string for %s", t)
		}
		return e.w.scalar(s)
	case familyBigDecimal:
		s, err := numberText(v, path)
		if err != nil {
			return err
		}
		if !decimalSyntax.MatchString(s) {
			return failf(path, "%q is not a java.math.BigDecimal", s)
		}
		e.w.object("java.math.BigDecimal", []string{"value"})
		return e.w.scalar(s)
	case familyBigInteger:
		return e.encodeBigInteger(v, path)
	case familyDate:
		ts, err := parseTime(v, path)
		if err != nil {
			return err
		}
		return e.w.scalar(ts)
	case familyJavaTime:
		return e.encodeJavaTime(t, v, path)
	case familyArray:
		return e.encodeArray(t, v, path)
	case familyCollection:
		items, ok := v.([]any)
		if !ok {
			return failf(path, "want a JSON array for %s", t)
		}
		e.w.untypedList(len(items))
		for i, item := range items {
			if err := e.encode(t.arg(0), item, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case familyMap:
		return e.encodeMap(t, v, path)
	case familyObject:
		return e.encodeUntyped(v, path)
	}
	if c, ok := e.classes[t.name]; ok {
		if c.Enum {
			return e.encodeEnum(c, v, path)
		}
		return e.encodeObject(t, c, v, path)
	}
	return e.encodeUntyped(v, path)
}

func (e *encoder) encodeBool(v any, path string) error {
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

func (e *encoder) encodeInt(t *javaType, v any, path string) error {
	s, err := numberText(v, path)
	if err != nil {
		return err
	}
	bits := intBits[t.name]
	n, err := strconv.ParseInt(s, 10, bits)
	if err != nil {
		return failf(path, "%q is not a %s (%d-bit integer)", s, t.name, bits)
	}
	if bits == 64 {
		return e.w.scalar(n)
	}
	return e.w.scalar(int32(n))
}

func (e *encoder) encodeFloat(t *javaType, v any, path string) error {
	s, err := numberText(v, path)
	if err != nil {
		return err
	}
	bits := 64
	if t.name == "float" || t.name == "java.lang.Float" {
		bits = 32
	}
	f, err := strconv.ParseFloat(s, bits)
	if err != nil {
		return failf(path, "%q is not a %s", s, t.name)
	}
	return e.w.scalar(f)
}

// numberText is the text of a JSON number or of a string holding one.
func numberText(v any, path string) (string, error) {
	switch n := v.(type) {
	case json.Number:
		return n.String(), nil
	case string:
		return strings.TrimSpace(n), nil
	}
	return "", failf(path, "want a number or a string holding one, got %s", jsonKind(v))
}

// encodeBigInteger writes java.math.BigInteger as Java's serialized form: signum and the
// magnitude as big-endian 32-bit words, with the deprecated fields dubbo-go-hessian2 expects.
func (e *encoder) encodeBigInteger(v any, path string) error {
	s, err := numberText(v, path)
	if err != nil {
		return err
	}
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return failf(path, "%q is not a java.math.BigInteger", s)
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

// parseTime reads an RFC 3339 timestamp (or epoch milliseconds as a JSON number).
func parseTime(v any, path string) (time.Time, error) {
	switch s := v.(type) {
	case string:
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, failf(path, "%q is not an RFC 3339 timestamp", s)
		}
		return ts, nil
	case json.Number:
		ms, err := s.Int64()
		if err != nil {
			return time.Time{}, failf(path, "%s is not epoch milliseconds", s)
		}
		return time.UnixMilli(ms), nil
	}
	return time.Time{}, failf(path, "want an RFC 3339 timestamp")
}

func (e *encoder) encodeArray(t *javaType, v any, path string) error {
	elem := t.arg(0)
	if elem.name == "byte" {
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
	items, ok := v.([]any)
	if !ok {
		return failf(path, "want a JSON array for %s", t)
	}
	e.w.typedList(arrayTypeName(elem), len(items))
	for i, item := range items {
		if err := e.encode(elem, item, fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return err
		}
	}
	return nil
}

// arrayTypeName is hessian2's type name of an array of elem.
func arrayTypeName(elem *javaType) string {
	switch elem.name {
	case "int", "long", "short", "boolean", "double", "float", "char":
		return "[" + elem.name
	case "java.lang.String":
		return "[string"
	case "java.lang.Object", arrayName:
		return "[object"
	}
	return "[" + elem.name
}

func (e *encoder) encodeMap(t *javaType, v any, path string) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return failf(path, "want a JSON object for %s", t)
	}
	e.w.mapStart()
	for _, k := range sortedKeys(obj) {
		// JSON keys are strings: keys of other types are parsed from them.
		if err := e.encode(t.arg(0), k, path+"."+k+"(key)"); err != nil {
			return err
		}
		if err := e.encode(t.arg(1), obj[k], path+"."+k); err != nil {
			return err
		}
	}
	e.w.mapEnd()
	return nil
}

func (e *encoder) encodeEnum(c ir.JavaClass, v any, path string) error {
	s, ok := v.(string)
	if !ok || !slices.Contains(c.Constants, s) {
		return failf(path, "%s is not a constant of %s (%s)", jsonText(v), c.Name, strings.Join(c.Constants, ", "))
	}
	e.w.object(c.Name, []string{"name"})
	return e.w.scalar(s)
}

// encodeObject writes a DTO as a typed object with the class's fields in order; absent fields
// are null (zero for primitives); unknown fields are refused.
func (e *encoder) encodeObject(t *javaType, c ir.JavaClass, v any, path string) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return failf(path, "want a JSON object for %s", c.Name)
	}
	bindings := map[string]*javaType{}
	for i, p := range c.TypeParams {
		bindings[p] = t.arg(i)
	}
	names := make([]string, len(c.Fields))
	types := make([]*javaType, len(c.Fields))
	for i, f := range c.Fields {
		ft, err := parseJavaType(f.Type)
		if err != nil {
			return failf(path, "field %s: %v", f.Name, err)
		}
		names[i], types[i] = f.Name, ft.substitute(bindings)
	}
	for k := range obj {
		if !slices.Contains(names, k) {
			return failf(path, "%s has no field %q", c.Name, k)
		}
	}
	e.w.object(c.Name, names)
	for i, name := range names {
		fv, present := obj[name]
		if !present && types[i].primitive() {
			fv = zeroOf(types[i])
		}
		if err := e.encode(types[i], fv, path+"."+name); err != nil {
			return err
		}
	}
	return nil
}

// zeroOf is the JSON form of a primitive's zero value.
func zeroOf(t *javaType) any {
	switch t.name {
	case "boolean":
		return false
	case "char":
		return "\x00"
	}
	return json.Number("0")
}

// encodeUntyped writes a value whose Java type says nothing (Object, unknown classes):
// integers that fit as long, other numbers as double, objects as maps.
func (e *encoder) encodeUntyped(v any, path string) error {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return e.w.scalar(n)
		}
		f, err := x.Float64()
		if err != nil || math.IsInf(f, 0) {
			return failf(path, "%s is out of range", x)
		}
		return e.w.scalar(f)
	case string, bool:
		return e.w.scalar(x)
	case []any:
		e.w.untypedList(len(x))
		for i, item := range x {
			if err := e.encodeUntyped(item, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		e.w.mapStart()
		for _, k := range sortedKeys(x) {
			_ = e.w.scalar(k)
			if err := e.encodeUntyped(x[k], path+"."+k); err != nil {
				return err
			}
		}
		e.w.mapEnd()
		return nil
	}
	return e.w.scalar(nil)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// jsonKind names the JSON kind of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	}
	return "an object"
}

// jsonText is v as JSON, for messages.
func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
