// Package metadata reads the service definitions Java Dubbo providers write to a metadata center
// (FullServiceDefinition JSON: canonicalName, methods[{name, parameterTypes, returnType}],
// types[{type, properties, items, enum}]) into declarations.
//
// What the metadata center carries is less than the API itself, because Dubbo's
// TypeDefinitionBuilder writes:
//   - no parameter names (they come back as "");
//   - methods in reflection order (Class.getMethods), which is neither declaration order nor
//     stable between JVM runs: methods are sorted by name and parameter types here;
//   - properties from a HashMap: field order is lost, so fields are sorted by name here; fields of
//     superclasses are flattened into the class (no Super);
//   - canonical names ("com.foo.Outer.Inner"): they are turned back into binary names by Java's
//     naming convention (the first upper-case segment is the top-level class, later ones nested);
//   - a generic DTO used as a parameter or return type is written raw ("com.foo.Page", not
//     "com.foo.Page<com.foo.User>"); only collections and maps keep their type arguments;
//   - a field whose type is a bare type variable is written as java.lang.Object; type parameters
//     are not written at all and are inferred here from the type variables that fields mention.
package metadata

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/idl/java/reach"
	"github.com/rpcbridge/rpcbridge/javatype"
)

// serviceDefinition is Dubbo's FullServiceDefinition as JSON; unknown keys (codeSource,
// annotations, parameters, typeBuilderName, ...) are ignored because Dubbo versions differ.
type serviceDefinition struct {
	CanonicalName string `json:"canonicalName"`
	Methods       []struct {
		Name           string   `json:"name"`
		ParameterTypes []string `json:"parameterTypes"`
		ReturnType     string   `json:"returnType"`
	} `json:"methods"`
	Types []typeDefinition `json:"types"`
}

type typeDefinition struct {
	Type string `json:"type"`
	// Properties map a field name to its type: a string (Dubbo ≥ 2.7.6) or a nested type
	// definition object (older versions).
	Properties map[string]json.RawMessage `json:"properties"`
	// Enums is spelled "enum" by Dubbo's Gson mapping; "enums" is accepted too.
	Enums  []string `json:"enum"`
	Enums2 []string `json:"enums"`
}

// Parse reads service definitions, one JSON document each.
func Parse(ctx context.Context, docs [][]byte) (reach.Decls, error) {
	var out reach.Decls
	seenClasses := map[string]bool{}
	seenIfaces := map[string]bool{}
	for i, doc := range docs {
		if err := ctx.Err(); err != nil {
			return reach.Decls{}, fmt.Errorf("read service definitions: %w", err)
		}
		var sd serviceDefinition
		if err := json.Unmarshal(doc, &sd); err != nil {
			return reach.Decls{}, fmt.Errorf("service definition %d: %w", i, err)
		}
		if sd.CanonicalName == "" {
			return reach.Decls{}, fmt.Errorf("service definition %d: no canonicalName", i)
		}
		in, err := convertService(sd)
		if err != nil {
			return reach.Decls{}, fmt.Errorf("service definition %d (%s): %w", i, sd.CanonicalName, err)
		}
		if !seenIfaces[in.Name] {
			seenIfaces[in.Name] = true
			out.Interfaces = append(out.Interfaces, in)
		}
		for _, td := range sd.Types {
			c, ok, err := convertType(td)
			if err != nil {
				return reach.Decls{}, fmt.Errorf("service definition %d (%s): type %s: %w", i, sd.CanonicalName, td.Type, err)
			}
			if ok && !seenClasses[c.Name] {
				seenClasses[c.Name] = true
				out.Classes = append(out.Classes, c)
			}
		}
	}
	return out, nil
}

func convertService(sd serviceDefinition) (reach.Interface, error) {
	name, _, err := normalize(sd.CanonicalName)
	if err != nil {
		return reach.Interface{}, err
	}
	in := reach.Interface{JavaInterface: idl.JavaInterface{Name: string(name), Methods: []idl.JavaMethod{}}}
	for _, m := range sd.Methods {
		jm := idl.JavaMethod{Name: m.Name, Params: []idl.JavaParam{}}
		for j, p := range m.ParameterTypes {
			t, _, err := normalize(p)
			if err != nil {
				return in, fmt.Errorf("method %s: parameter %d: %w", m.Name, j, err)
			}
			jm.Params = append(jm.Params, idl.JavaParam{Type: t})
		}
		ret, _, err := normalize(m.ReturnType)
		if err != nil {
			return in, fmt.Errorf("method %s: return type: %w", m.Name, err)
		}
		jm.Returns = ret
		in.Methods = append(in.Methods, jm)
	}
	slices.SortStableFunc(in.Methods, func(a, b idl.JavaMethod) int { return strings.Compare(methodKey(a), methodKey(b)) })
	return in, nil
}

// convertType turns one type definition into a class; ok is false for types that are not
// classes of the API: primitives, arrays, parameterized types, JDK classes.
func convertType(td typeDefinition) (idl.JavaClass, bool, error) {
	name, _, err := normalize(td.Type)
	if err != nil {
		return idl.JavaClass{}, false, err
	}
	n := string(name)
	if name.IsPrimitive() || strings.ContainsAny(n, "<[") || !strings.Contains(n, ".") ||
		javatype.IsJDK(n) {
		return idl.JavaClass{}, false, nil
	}
	if enums := append(td.Enums, td.Enums2...); len(enums) > 0 {
		return idl.JavaClass{Name: n, Kind: idl.ClassEnum, Constants: enums}, true, nil
	}
	c := idl.JavaClass{Name: n, Kind: idl.ClassDTO}
	fields := make([]string, 0, len(td.Properties))
	for f := range td.Properties {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	for _, f := range fields {
		raw, err := propertyType(td.Properties[f])
		if err != nil {
			return c, false, fmt.Errorf("property %s: %w", f, err)
		}
		t, vars, err := normalize(raw)
		if err != nil {
			return c, false, fmt.Errorf("property %s: %w", f, err)
		}
		for _, v := range vars {
			if !slices.Contains(c.TypeParams, v) {
				c.TypeParams = append(c.TypeParams, v)
			}
		}
		c.Fields = append(c.Fields, idl.JavaField{Name: f, Type: t})
	}
	return c, true, nil
}

func propertyType(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var obj struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil || obj.Type == "" {
		return "", fmt.Errorf("neither a type name nor a type definition: %s", raw)
	}
	return obj.Type, nil
}

// normalize turns a type as Dubbo writes it into a canonical TypeName: binary names for nested
// classes and no ", " separators. It also returns the type variables it mentions.
func normalize(s string) (idl.TypeName, []string, error) {
	var b strings.Builder
	var vars []string
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && (isNameByte(s[j]) || s[j] == '.') {
			j++
		}
		if j == i {
			b.WriteByte(s[i])
			i++
			continue
		}
		word := s[i:j]
		switch {
		case strings.Contains(word, ".") && !strings.Contains(word, "$"):
			word = binaryName(word)
		case word == "extends" || word == "super" || idl.TypeName(word).IsPrimitive() || strings.Contains(word, "."):
		default:
			if !slices.Contains(vars, word) {
				vars = append(vars, word)
			}
		}
		b.WriteString(word)
		i = j
	}
	t, err := javatype.ParseName(b.String())
	return t, vars, err
}

func isNameByte(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// binaryName applies Java's naming convention to a canonical name: segments after the first
// one that starts with an upper-case letter are nested classes.
func binaryName(canonical string) string {
	parts := strings.Split(canonical, ".")
	for i := 0; i < len(parts)-1; i++ {
		if r := []rune(parts[i]); len(r) > 0 && unicode.IsUpper(r[0]) {
			return strings.Join(parts[:i+1], ".") + "$" + strings.Join(parts[i+1:], "$")
		}
	}
	return canonical
}

func methodKey(m idl.JavaMethod) string {
	var b strings.Builder
	b.WriteString(m.Name)
	for _, p := range m.Params {
		b.WriteString("|" + string(p.Type))
	}
	return b.String()
}
