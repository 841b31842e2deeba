package dubbojson

import (
	"fmt"
	"strings"
)

// javaType is a parsed Java type expression: a class name with generic arguments, or an
// array ("[]") whose element is args[0].
type javaType struct {
	name string
	args []*javaType
}

// arrayName is the name of array types.
const arrayName = "[]"

// simpleNames maps the java.lang and java.util simple names an IDL may use to full names.
var simpleNames = map[string]string{
	"String": "java.lang.String", "Object": "java.lang.Object", "Integer": "java.lang.Integer",
	"Long": "java.lang.Long", "Short": "java.lang.Short", "Byte": "java.lang.Byte",
	"Boolean": "java.lang.Boolean", "Double": "java.lang.Double", "Float": "java.lang.Float",
	"Character": "java.lang.Character", "List": "java.util.List", "Map": "java.util.Map",
	"Set": "java.util.Set", "Collection": "java.util.Collection", "Date": "java.util.Date",
	"BigDecimal": "java.math.BigDecimal", "BigInteger": "java.math.BigInteger",
}

// parseJavaType parses "java.util.Map<String, java.util.List<com.foo.User>>", "int[]",
// "? extends X" (read as X) and "?" (read as Object).
func parseJavaType(s string) (*javaType, error) {
	t, rest, err := parseTypeAt(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("java type %q: %w", s, err)
	}
	if strings.TrimSpace(rest) != "" {
		return nil, fmt.Errorf("java type %q: unexpected %q", s, rest)
	}
	return t, nil
}

func parseTypeAt(s string) (*javaType, string, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "?") {
		s = strings.TrimSpace(s[1:])
		switch {
		case strings.HasPrefix(s, "extends "):
			s = s[len("extends "):]
		case strings.HasPrefix(s, "super "):
			_, rest, err := parseTypeAt(s[len("super "):])
			return &javaType{name: "java.lang.Object"}, rest, err
		default:
			return &javaType{name: "java.lang.Object"}, s, nil
		}
	}
	end := strings.IndexAny(s, "<>,[ ")
	if end < 0 {
		end = len(s)
	}
	name := s[:end]
	if name == "" {
		return nil, "", fmt.Errorf("missing type name at %q", s)
	}
	if full, ok := simpleNames[name]; ok {
		name = full
	}
	t := &javaType{name: name}
	s = strings.TrimSpace(s[end:])
	if strings.HasPrefix(s, "<") {
		s = s[1:]
		for {
			arg, rest, err := parseTypeAt(s)
			if err != nil {
				return nil, "", err
			}
			t.args = append(t.args, arg)
			rest = strings.TrimSpace(rest)
			if strings.HasPrefix(rest, ",") {
				s = rest[1:]
				continue
			}
			if !strings.HasPrefix(rest, ">") {
				return nil, "", fmt.Errorf("unclosed '<' before %q", rest)
			}
			s = strings.TrimSpace(rest[1:])
			break
		}
	}
	for strings.HasPrefix(s, "[]") {
		t = &javaType{name: arrayName, args: []*javaType{t}}
		s = strings.TrimSpace(s[2:])
	}
	return t, s, nil
}

// arg returns generic argument i, or Object when the type is raw.
func (t *javaType) arg(i int) *javaType {
	if i < len(t.args) {
		return t.args[i]
	}
	return &javaType{name: "java.lang.Object"}
}

// erasure is the type without generic arguments, as $invoke parameter types name it
// ("java.util.List", "int[]").
func (t *javaType) erasure() string {
	if t.name == arrayName {
		return t.arg(0).erasure() + "[]"
	}
	return t.name
}

// String is the type in source syntax.
func (t *javaType) String() string {
	if t.name == arrayName {
		return t.arg(0).String() + "[]"
	}
	if len(t.args) == 0 {
		return t.name
	}
	parts := make([]string, len(t.args))
	for i, a := range t.args {
		parts[i] = a.String()
	}
	return t.name + "<" + strings.Join(parts, ", ") + ">"
}

// substitute replaces type variables by their bindings.
func (t *javaType) substitute(bindings map[string]*javaType) *javaType {
	if b, ok := bindings[t.name]; ok && len(t.args) == 0 {
		return b
	}
	if len(t.args) == 0 {
		return t
	}
	out := &javaType{name: t.name, args: make([]*javaType, len(t.args))}
	for i, a := range t.args {
		out.args[i] = a.substitute(bindings)
	}
	return out
}

// typeFamily classifies type names.
type typeFamily int

const (
	familyOther typeFamily = iota
	familyBool
	familyInt
	familyFloat
	familyChar
	familyString
	familyBigDecimal
	familyBigInteger
	familyDate
	familyJavaTime
	familyArray
	familyCollection
	familyMap
	familyObject
)

// intBits are the sizes of Java's integer types.
var intBits = map[string]int{
	"byte": 8, "java.lang.Byte": 8, "short": 16, "java.lang.Short": 16,
	"int": 32, "java.lang.Integer": 32, "long": 64, "java.lang.Long": 64,
}

var families = map[string]typeFamily{
	"boolean": familyBool, "java.lang.Boolean": familyBool,
	"float": familyFloat, "java.lang.Float": familyFloat, "double": familyFloat, "java.lang.Double": familyFloat,
	"char": familyChar, "java.lang.Character": familyChar,
	"java.lang.String": familyString, "java.lang.CharSequence": familyString,
	"java.math.BigDecimal": familyBigDecimal, "java.math.BigInteger": familyBigInteger,
	"java.util.Date": familyDate, "java.sql.Timestamp": familyDate,
	"java.time.Instant": familyJavaTime, "java.time.LocalDate": familyJavaTime, "java.time.LocalTime": familyJavaTime,
	"java.time.LocalDateTime": familyJavaTime, "java.time.OffsetDateTime": familyJavaTime,
	"java.util.List": familyCollection, "java.util.ArrayList": familyCollection, "java.util.LinkedList": familyCollection,
	"java.util.Collection": familyCollection, "java.lang.Iterable": familyCollection, "java.util.Set": familyCollection,
	"java.util.HashSet": familyCollection, "java.util.LinkedHashSet": familyCollection, "java.util.TreeSet": familyCollection,
	"java.util.SortedSet": familyCollection,
	"java.util.Map":       familyMap, "java.util.HashMap": familyMap, "java.util.LinkedHashMap": familyMap,
	"java.util.TreeMap": familyMap, "java.util.SortedMap": familyMap, "java.util.concurrent.ConcurrentHashMap": familyMap,
	"java.lang.Object": familyObject, "java.io.Serializable": familyObject,
}

// family returns the family of t.
func (t *javaType) family() typeFamily {
	if t.name == arrayName {
		return familyArray
	}
	if _, ok := intBits[t.name]; ok {
		return familyInt
	}
	return families[t.name]
}

// primitive reports whether t is a Java primitive (never null).
func (t *javaType) primitive() bool {
	switch t.name {
	case "boolean", "byte", "short", "int", "long", "float", "double", "char":
		return true
	}
	return false
}
