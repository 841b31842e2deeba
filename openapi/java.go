package openapi

import (
	"sort"
	"strings"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/javatype"
)

// javaSchemas turns Java types into schemas, collecting the classes they reference.
type javaSchemas struct {
	classes map[string]ir.JavaClass
	used    map[string]bool
	// numbers are the limits the gateway applies to BigDecimal and BigInteger values.
	numbers javatype.NumberLimits
}

func newJavaSchemas(classes []ir.JavaClass, limits *ir.DubboValueLimits) *javaSchemas {
	js := &javaSchemas{classes: map[string]ir.JavaClass{}, used: map[string]bool{}}
	if limits != nil {
		js.numbers = javatype.NumberLimits{MaxDecimalDigits: limits.MaxDecimalDigits,
			MaxDecimalScale: limits.MaxDecimalScale, MaxIntegerDigits: limits.MaxIntegerDigits}
	}
	for _, c := range classes {
		js.classes[c.Name] = c
	}
	return js
}

// componentName is a class's schema name: its canonical name ("com.foo.Outer.Inner"), since
// component names may not hold '$'.
func componentName(class string) string { return strings.ReplaceAll(class, "$", ".") }

// schema renders a Java type (its JSON mapping is javatype's; see the package documentation).
func (js *javaSchemas) schema(name string) obj {
	t, err := javatype.Parse(name)
	if err != nil {
		return obj{} // the IR holds parsed names; any JSON value rather than a wrong schema
	}
	return js.schemaOf(t)
}

func (js *javaSchemas) schemaOf(t *javatype.Type) obj {
	if s, ok := t.JSONSchema(js.numbers); ok {
		return fixedSchema(s)
	}
	switch t.Family() {
	case javatype.Array:
		return obj{"type": "array", "items": js.schemaOf(t.Elem())}
	case javatype.Collection:
		s := obj{"type": "array", "items": js.schemaOf(t.Arg(0))}
		if t.Unique() {
			s["uniqueItems"] = true
		}
		return s
	case javatype.Map:
		return obj{"type": "object", "additionalProperties": js.schemaOf(t.Arg(1))}
	case javatype.Future:
		return js.schemaOf(t.Arg(0))
	case javatype.Class:
		if _, ok := js.classes[t.Name]; ok {
			js.used[t.Name] = true
			return obj{"$ref": "#/components/schemas/" + componentName(t.Name)}
		}
	}
	return obj{} // Object, a type variable or a class the IR does not describe: any JSON value
}

// fixedSchema is the OpenAPI form of a fixed JSON schema.
func fixedSchema(s javatype.JSONSchema) obj {
	out := obj{"type": s.Type}
	for k, v := range map[string]string{"format": s.Format, "pattern": s.Pattern, "contentEncoding": s.ContentEncoding, "description": s.Description} {
		if v != "" {
			out[k] = v
		}
	}
	if s.Minimum != nil {
		out["minimum"], out["maximum"] = *s.Minimum, *s.Maximum
	}
	if s.Length > 0 {
		out["minLength"], out["maxLength"] = s.Length, s.Length
	}
	if s.MaxLength > 0 {
		out["maxLength"] = s.MaxLength
	}
	return out
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
		return obj{"type": "string", "enum": constants, "description": or(c.Doc, "Enum "+c.Name+", by constant name.")}
	}
	props := obj{}
	for _, f := range c.Fields {
		props[f.Name] = documented(js.schema(f.Type), f.Doc)
	}
	desc := or(c.Doc, "Class "+c.Name+".")
	if len(c.TypeParams) > 0 {
		desc += " Fields typed by its type parameters (" + strings.Join(c.TypeParams, ", ") + ") take any JSON value."
	}
	return obj{"type": "object", "properties": props, "description": desc}
}
