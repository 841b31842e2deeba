package java

import (
	"slices"
	"strings"
	"testing"

	"github.com/rpcbridge/rpcbridge/idl"
)

// dubboCollections are the JDK types whose type arguments Dubbo's CollectionTypeBuilder and
// MapTypeBuilder keep; every other parameterized type is written raw.
var dubboCollections = map[string]bool{
	"java.util.List": true, "java.util.Set": true, "java.util.Collection": true, "java.util.Map": true,
	"java.util.ArrayList": true, "java.util.LinkedList": true, "java.util.HashSet": true,
	"java.util.LinkedHashSet": true, "java.util.TreeSet": true, "java.util.SortedSet": true,
	"java.util.HashMap": true, "java.util.LinkedHashMap": true, "java.util.TreeMap": true,
	"java.util.SortedMap": true, "java.util.Queue": true, "java.util.Deque": true,
}

// metadataView is what a Dubbo metadata center keeps of s, written independently of package
// metadata from Dubbo's ServiceDefinitionBuilder/TypeDefinitionBuilder rules: no parameter
// names, methods in no particular order (sorted here), fields in no particular order (sorted by
// name), parameterized non-collection types raw, bare type-variable fields as java.lang.Object,
// type parameters only as far as fields still mention them.
func metadataView(t *testing.T, s idl.Schema) idl.Schema {
	t.Helper()
	var out idl.Schema
	for _, in := range s.Interfaces {
		v := idl.JavaInterface{Name: in.Name, Methods: []idl.JavaMethod{}}
		for _, m := range in.Methods {
			vm := idl.JavaMethod{Name: m.Name, Params: []idl.JavaParam{}, Returns: dubboType(m.Returns, false)}
			for _, p := range m.Params {
				vm.Params = append(vm.Params, idl.JavaParam{Type: dubboType(p.Type, false)})
			}
			v.Methods = append(v.Methods, vm)
		}
		slices.SortStableFunc(v.Methods, func(a, b idl.JavaMethod) int { return strings.Compare(signature(a), signature(b)) })
		out.Interfaces = append(out.Interfaces, v)
	}
	for _, c := range s.Classes {
		if c.Super != "" {
			t.Fatalf("class %s has a superclass: the metadata center flattens its fields, extend metadataView first", c.Name)
		}
		v := idl.JavaClass{Name: c.Name, Kind: c.Kind, Constants: c.Constants}
		for _, f := range c.Fields {
			v.Fields = append(v.Fields, idl.JavaField{Name: f.Name, Type: dubboType(f.Type, true)})
		}
		slices.SortStableFunc(v.Fields, func(a, b idl.JavaField) int { return strings.Compare(a.Name, b.Name) })
		for _, f := range v.Fields {
			for _, tp := range c.TypeParams {
				if strings.Contains(string(f.Type), "<"+tp+">") && !slices.Contains(v.TypeParams, tp) {
					v.TypeParams = append(v.TypeParams, tp)
				}
			}
		}
		out.Classes = append(out.Classes, v)
	}
	return out
}

func signature(m idl.JavaMethod) string {
	var b strings.Builder
	b.WriteString(m.Name)
	for _, p := range m.Params {
		b.WriteString("|" + string(p.Type))
	}
	return b.String()
}

func dubboType(t idl.TypeName, field bool) idl.TypeName {
	switch {
	case t.IsArray():
		return dubboType(t.Elem(), false) + "[]"
	case t.IsTypeVariable():
		if field {
			return "java.lang.Object"
		}
		return t
	case dubboCollections[t.Erasure()] && len(t.Args()) > 0:
		var args []string
		for _, a := range t.Args() {
			if a.IsWildcard() {
				args = append(args, string(a))
			} else {
				args = append(args, string(dubboType(a, false)))
			}
		}
		return idl.TypeName(t.Erasure() + "<" + strings.Join(args, ",") + ">")
	}
	return idl.TypeName(t.Erasure())
}
