package dubbojson

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"time"

	hessian "github.com/apache/dubbo-go-hessian2"
	gxbig "github.com/dubbogo/gost/math/big"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/javatype"
)

// renderer turns a decoded Dubbo result into a JSON-marshalable value, guided by the Java
// type's javatype family. The rules:
//   - long/Long, BigInteger and BigDecimal values are always JSON strings (exact, and the
//     same whatever the value, like proto3 JSON's int64); so is any hessian2 long in an
//     untyped (Object) position;
//   - other numbers are JSON numbers (NaN and infinities as the strings "NaN", "Infinity",
//     "-Infinity");
//   - dates and times are the text javatype.Temporal prints (a Year a number), whatever form
//     they arrive in (see generalized.go);
//   - enums are their constant name; DTOs are objects of their fields (hessian2's class
//     markers dropped); arrays, lists and sets are arrays; maps are objects with string keys;
//     byte[] is base64; a CompletableFuture<T> is its T;
//   - a JDK class without a JSON mapping, and void, are null;
//   - results of generic calls come generalized (see generalized.go) and render the same.
type renderer struct {
	classes map[string]ir.JavaClass
	// fields are the parsed fields of non-generic classes (nil: parsed per use).
	fields map[string]classFields
}

// object is the type of values whose Java type says nothing.
var object = &javatype.Type{Name: "java.lang.Object"}

func (r *renderer) render(t *javatype.Type, v any) any {
	if v == nil {
		return nil
	}
	f := t.Family()
	switch f {
	case javatype.Future:
		return r.render(t.Arg(0), v)
	case javatype.Unsupported, javatype.Void:
		return nil
	}
	if tv, ok := decodedTemporal(v); ok {
		return tv.JSON()
	}
	if m, ok := stringKeyed(v); ok {
		if s, ok := bigFromMap(f, m); ok {
			return s
		}
		if f.Temporal() {
			if tv, ok := mapTemporal(f, m); ok {
				return tv.JSON()
			}
		}
	}
	if f == javatype.Bytes {
		if s, ok := bytesFromList(v); ok {
			return s
		}
	}
	switch x := v.(type) {
	case time.Time:
		if x.IsZero() {
			return nil
		}
		return x.UTC().Format(time.RFC3339Nano)
	case int64:
		return strconv.FormatInt(x, 10)
	case int32:
		if f == javatype.Integer && t.Bits() == 64 {
			return strconv.FormatInt(int64(x), 10)
		}
		return x
	case float64:
		return renderFloat(x)
	case float32:
		return renderFloat(float64(x))
	case string, bool:
		return x
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	}
	if s, ok := bigNumberText(v); ok {
		return s
	}
	if c, ok := r.classes[t.Name]; ok && c.Enum && f == javatype.Class {
		if m, ok := stringKeyed(v); ok {
			return m["name"]
		}
		return fmt.Sprint(v)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		elem := object
		switch f {
		case javatype.Array:
			elem = t.Elem()
		case javatype.Collection:
			elem = t.Arg(0)
		}
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = r.render(elem, rv.Index(i).Interface())
		}
		return out
	case reflect.Map:
		return r.renderMap(t, rv)
	case reflect.Pointer:
		if rv.IsNil() {
			return nil
		}
		return r.render(t, rv.Elem().Interface())
	}
	return fmt.Sprint(v)
}

// renderMap renders a Java map, or a DTO decoded as a map (class under hessian.ClassKey).
func (r *renderer) renderMap(t *javatype.Type, rv reflect.Value) any {
	out := make(map[string]any, rv.Len())
	fields := map[string]*javatype.Type{}
	if c, ok := r.classes[t.Name]; ok && t.Family() == javatype.Class {
		if names, types, err := fieldsOf(r.fields, t, c); err == nil {
			for i, name := range names {
				fields[name] = types[i]
			}
		}
	}
	valueType := object
	isMap := t.Family() == javatype.Map
	if isMap {
		valueType = t.Arg(1)
	}
	iter := rv.MapRange()
	for iter.Next() {
		key := fmt.Sprint(iter.Key().Interface())
		if key == hessian.ClassKey || (key == "class" && !isMap) {
			continue
		}
		vt := valueType
		if ft, ok := fields[key]; ok {
			vt = ft
		}
		out[key] = r.render(vt, iter.Value().Interface())
	}
	return out
}

func renderFloat(f float64) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return f
}

// bigNumberText is the decimal text of the big number types hessian2 decodes BigDecimal
// and BigInteger into (gost's gxbig.Decimal and gxbig.Integer).
func bigNumberText(v any) (string, bool) {
	switch x := v.(type) {
	case *gxbig.Decimal:
		return x.String(), true
	case gxbig.Decimal:
		return x.String(), true
	case *gxbig.Integer:
		return x.String(), true
	case gxbig.Integer:
		return x.String(), true
	}
	return "", false
}

// bigFromMap reads BigDecimal and BigInteger objects that were decoded as maps (their
// serializer not used): {"value": "1.5"} and {"signum": 1, "mag": [...]}.
func bigFromMap(f javatype.Family, m map[string]any) (string, bool) {
	class, _ := m[hessian.ClassKey].(string)
	switch {
	case f == javatype.BigDecimal || class == "java.math.BigDecimal":
		s, ok := m["value"].(string)
		return s, ok
	case f == javatype.BigInteger || class == "java.math.BigInteger":
		signum, ok := wholeNumber(m["signum"])
		if !ok {
			return "", false
		}
		n := new(big.Int)
		mag := reflect.ValueOf(m["mag"]) // big-endian 32-bit words: ints from Java, longs from dubbo-go
		if mag.Kind() == reflect.Slice {
			for i := range mag.Len() {
				word, ok := wholeNumber(mag.Index(i).Interface())
				if !ok {
					return "", false
				}
				n.Lsh(n, 32).Or(n, big.NewInt(int64(uint32(word))))
			}
		}
		if signum < 0 {
			n.Neg(n)
		}
		return n.String(), true
	}
	return "", false
}

// stringKeyed returns a decoded map with its keys as strings.
func stringKeyed(v any) (map[string]any, bool) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map {
		return nil, false
	}
	out := make(map[string]any, rv.Len())
	iter := rv.MapRange()
	for iter.Next() {
		out[fmt.Sprint(iter.Key().Interface())] = iter.Value().Interface()
	}
	return out, true
}
