package openapi

import (
	"sort"
	"strings"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/idl"
)

// javaSchemas turns Java types into schemas, collecting the classes they reference.
type javaSchemas struct {
	classes map[string]ir.JavaClass
	used    map[string]bool
}

func newJavaSchemas(classes []ir.JavaClass) *javaSchemas {
	js := &javaSchemas{classes: map[string]ir.JavaClass{}, used: map[string]bool{}}
	for _, c := range classes {
		js.classes[c.Name] = c
	}
	return js
}

// componentName is a class's schema name: its canonical name ("com.foo.Outer.Inner"), since
// component names may not hold '$'.
func componentName(class string) string { return strings.ReplaceAll(class, "$", ".") }

// scalarJava are the Java types with a fixed JSON rendering (see the package documentation).
var scalarJava = map[string]func() obj{
	"boolean":             func() obj { return obj{"type": "boolean"} },
	"java.lang.Boolean":   func() obj { return obj{"type": "boolean"} },
	"byte":                func() obj { return obj{"type": "integer", "format": "int32", "minimum": -128, "maximum": 127} },
	"java.lang.Byte":      func() obj { return obj{"type": "integer", "format": "int32", "minimum": -128, "maximum": 127} },
	"short":               func() obj { return obj{"type": "integer", "format": "int32", "minimum": -32768, "maximum": 32767} },
	"java.lang.Short":     func() obj { return obj{"type": "integer", "format": "int32", "minimum": -32768, "maximum": 32767} },
	"int":                 func() obj { return obj{"type": "integer", "format": "int32"} },
	"java.lang.Integer":   func() obj { return obj{"type": "integer", "format": "int32"} },
	"long":                func() obj { return obj{"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"} },
	"java.lang.Long":      func() obj { return obj{"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"} },
	"float":               func() obj { return obj{"type": "number", "format": "float"} },
	"java.lang.Float":     func() obj { return obj{"type": "number", "format": "float"} },
	"double":              func() obj { return obj{"type": "number", "format": "double"} },
	"java.lang.Double":    func() obj { return obj{"type": "number", "format": "double"} },
	"char":                func() obj { return obj{"type": "string", "minLength": 1, "maxLength": 1} },
	"java.lang.Character": func() obj { return obj{"type": "string", "minLength": 1, "maxLength": 1} },
	"java.lang.String":    func() obj { return obj{"type": "string"} },
	"java.math.BigDecimal": func() obj {
		return obj{"type": "string", "format": "decimal", "pattern": `^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$`}
	},
	"java.math.BigInteger": func() obj { return obj{"type": "string", "format": "integer", "pattern": "^-?[0-9]+$"} },
	"java.util.Date":       func() obj { return obj{"type": "string", "format": "date-time"} },
	"java.sql.Timestamp":   func() obj { return obj{"type": "string", "format": "date-time"} },
	"java.sql.Date":        func() obj { return obj{"type": "string", "format": "date"} },
	"java.time.Instant":    func() obj { return obj{"type": "string", "format": "date-time"} },
	"java.time.LocalDateTime": func() obj {
		return obj{"type": "string", "format": "date-time", "description": "A local date-time without offset (\"2024-01-31T10:15:30\")."}
	},
	"java.time.OffsetDateTime": func() obj { return obj{"type": "string", "format": "date-time"} },
	"java.time.ZonedDateTime":  func() obj { return obj{"type": "string", "format": "date-time"} },
	"java.time.LocalDate":      func() obj { return obj{"type": "string", "format": "date"} },
	"java.time.LocalTime":      func() obj { return obj{"type": "string", "format": "time"} },
	"java.time.Duration":       func() obj { return obj{"type": "string", "format": "duration"} },
	"java.lang.Object":         func() obj { return obj{} },
	"java.io.Serializable":     func() obj { return obj{} },
}

// collectionTypes are the java.util types rendered as arrays of their type argument.
var collectionTypes = map[string]bool{
	"java.util.Collection": true, "java.util.List": true, "java.util.ArrayList": true, "java.util.LinkedList": true,
	"java.util.Set": true, "java.util.HashSet": true, "java.util.LinkedHashSet": true, "java.util.TreeSet": true,
	"java.util.SortedSet": true, "java.util.Queue": true, "java.util.Deque": true, "java.lang.Iterable": true,
}

// mapTypes are the java.util types rendered as objects.
var mapTypes = map[string]bool{
	"java.util.Map": true, "java.util.HashMap": true, "java.util.LinkedHashMap": true, "java.util.TreeMap": true,
	"java.util.SortedMap": true, "java.util.concurrent.ConcurrentHashMap": true, "java.util.concurrent.ConcurrentMap": true,
}

// schema renders a Java type.
func (js *javaSchemas) schema(t idl.TypeName) obj {
	if t.IsWildcard() {
		if bound, ok := strings.CutPrefix(string(t), "? extends "); ok {
			return js.schema(idl.TypeName(bound))
		}
		return obj{}
	}
	if t.IsArray() {
		if t == "byte[]" {
			return obj{"type": "string", "format": "byte", "contentEncoding": "base64"}
		}
		return obj{"type": "array", "items": js.schema(t.Elem())}
	}
	raw := t.Erasure()
	args := t.Args()
	switch {
	case scalarJava[raw] != nil:
		return scalarJava[raw]()
	case collectionTypes[raw]:
		s := obj{"type": "array", "items": obj{}}
		if len(args) == 1 {
			s["items"] = js.schema(args[0])
		}
		if strings.Contains(raw, "Set") {
			s["uniqueItems"] = true
		}
		return s
	case mapTypes[raw]:
		s := obj{"type": "object", "additionalProperties": true}
		if len(args) == 2 {
			s["additionalProperties"] = js.schema(args[1])
		}
		return s
	}
	if _, ok := js.classes[raw]; ok {
		js.used[raw] = true
		return obj{"$ref": "#/components/schemas/" + componentName(raw)}
	}
	return obj{} // a type variable or a class the IR does not describe: any JSON value
}

// emit adds a component schema for every class used, and the classes those use in turn.
func (js *javaSchemas) emit(schemas obj) {
	done := map[string]bool{}
	for {
		var next []string
		for name := range js.used {
			if !done[name] {
				next = append(next, name)
			}
		}
		if len(next) == 0 {
			return
		}
		sort.Strings(next)
		for _, name := range next {
			done[name] = true
			schemas[componentName(name)] = js.classSchema(js.classes[name])
		}
	}
}

func (js *javaSchemas) classSchema(c ir.JavaClass) obj {
	if c.Enum {
		constants := make([]any, len(c.Constants))
		for i, k := range c.Constants {
			constants[i] = k
		}
		return obj{"type": "string", "enum": constants, "description": "Enum " + c.Name + ", by constant name."}
	}
	props := obj{}
	for _, f := range c.Fields {
		props[f.Name] = js.schema(idl.TypeName(f.Type))
	}
	desc := "Class " + c.Name + "."
	if len(c.TypeParams) > 0 {
		desc += " Fields typed by its type parameters (" + strings.Join(c.TypeParams, ", ") + ") take any JSON value."
	}
	return obj{"type": "object", "properties": props, "description": desc}
}
