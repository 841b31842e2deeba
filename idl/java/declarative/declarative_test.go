package declarative

import (
	"context"
	"testing"
)

func TestStrictErrorsNameFileAndLine(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"unknown key", "interfaces:\n  - name: a.S\n    methods:\n      - name: f\n        retuns: int\n",
			"api.yaml:5: field retuns not found in type declarative.method"},
		{"malformed type", "interfaces:\n  - name: a.S\n    methods:\n      - name: f\n        returns: \"java.util.List<int>\"\n",
			`api.yaml:5: malformed Java type name "java.util.List<int>" at offset 18: primitive int cannot be a type argument`},
		{"missing method name", "interfaces:\n  - name: a.S\n    methods:\n      - returns: int\n",
			"api.yaml: interface a.S: method 1 has no name"},
		{"bad kind", "classes:\n  - name: a.E\n    kind: enumeration\n",
			`api.yaml:2: class a.E: kind "enumeration" is neither class nor enum`},
		{"enum with fields", "classes:\n  - name: a.E\n    kind: enum\n    fields: [{name: x, type: int}]\n",
			"api.yaml:2: enum a.E: only constants are allowed"},
		{"field without type", "classes:\n  - name: a.C\n    fields:\n      - name: x\n",
			"api.yaml:4: class a.C: field x has no type"},
		{"not a name", "interfaces:\n  - name: \"a.S<T>\"\n",
			`api.yaml:2: interface 1: "a.S<T>" is not a name`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(context.Background(), map[string][]byte{"api.yaml": []byte(c.src)})
			if err == nil || err.Error() != c.want {
				t.Errorf("error = %v\nwant    %s", err, c.want)
			}
		})
	}
}

func TestDefaultsAndCanonicalTypes(t *testing.T) {
	src := "interfaces:\n  - name: a.S\n    methods:\n      - name: f\n        params: [{type: \"java.util.Map< java.lang.String , a.C >\"}]\n"
	d, err := Parse(context.Background(), map[string][]byte{"api.yml": []byte(src)})
	if err != nil {
		t.Fatal(err)
	}
	m := d.Interfaces[0].Methods[0]
	if m.Returns != "void" || m.Params[0].Name != "" || m.Params[0].Type != "java.util.Map<java.lang.String,a.C>" {
		t.Errorf("method = %+v", m)
	}
}
