package idl

import (
	"strings"
	"testing"
)

func TestParseTypeNameCanonicalizes(t *testing.T) {
	cases := map[string]string{
		"int": "int",
		"java.util.Map< java.lang.String , com.foo.User >": "java.util.Map<java.lang.String,com.foo.User>",
		"java.util.List<? extends  com.foo.Base>":          "java.util.List<? extends com.foo.Base>",
		"java.util.List<?>":                                "java.util.List<?>",
		"int [] []":                                        "int[][]",
		"com.foo.Outer$Inner<T>[]":                         "com.foo.Outer$Inner<T>[]",
	}
	for in, want := range cases {
		got, err := ParseTypeName(in)
		if err != nil {
			t.Errorf("ParseTypeName(%q): %v", in, err)
			continue
		}
		if string(got) != want {
			t.Errorf("ParseTypeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseTypeNameRejectsMalformed(t *testing.T) {
	cases := map[string]string{
		"":                        "found the end",
		"java.util.List<":         "found the end",
		"java.util.List<int>":     "primitive int cannot be a type argument",
		"java.util.Map<a,b":       "missing '>'",
		"com..Foo":                "expected an identifier",
		"int<String>":             "cannot take type arguments",
		"?":                       "only allowed as a type argument",
		"java.lang.String[":       "expected ']'",
		"java.lang.String extra":  "unexpected",
		"java.util.List<void>":    "void can only be a return type",
		"java.util.List<? super>": "expected an identifier",
		"1abc":                    "expected an identifier",
	}
	for in, want := range cases {
		_, err := ParseTypeName(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseTypeName(%q) error = %v, want it to mention %q", in, err, want)
		}
	}
}

func TestTypeNameAccessors(t *testing.T) {
	erasures := map[TypeName]string{
		"java.util.List<com.foo.User>":                   "java.util.List",
		"java.util.Map<java.lang.String,com.foo.User>[]": "java.util.Map[]",
		"int[][]":            "int[][]",
		"com.foo.Outer$In":   "com.foo.Outer$In",
		"T":                  "T",
		"java.lang.String[]": "java.lang.String[]",
	}
	for in, want := range erasures {
		if got := in.Erasure(); got != want {
			t.Errorf("%q.Erasure() = %q, want %q", in, got, want)
		}
	}
	m := TypeName("java.util.Map<java.lang.String,java.util.List<? extends com.foo.User>>")
	args := m.Args()
	if len(args) != 2 || args[0] != "java.lang.String" || args[1] != "java.util.List<? extends com.foo.User>" {
		t.Errorf("Args() = %q", args)
	}
	if got := args[1].Args()[0].Erasure(); got != "com.foo.User" {
		t.Errorf("wildcard erasure = %q", got)
	}
	if !TypeName("int[][]").IsArray() || TypeName("int").IsArray() {
		t.Error("IsArray wrong")
	}
	if got := TypeName("java.util.List<java.lang.String>[][]").Elem(); got != "java.util.List<java.lang.String>[]" {
		t.Errorf("Elem() = %q", got)
	}
	if TypeName("int").Elem() != "" {
		t.Error("Elem of a non-array must be empty")
	}
	if !TypeName("long").IsPrimitive() || TypeName("java.lang.Long").IsPrimitive() {
		t.Error("IsPrimitive wrong")
	}
	if !TypeName("T").IsTypeVariable() || TypeName("int").IsTypeVariable() || TypeName("a.B").IsTypeVariable() {
		t.Error("IsTypeVariable wrong")
	}
}

func TestClassNames(t *testing.T) {
	got := TypeName("java.util.Map<java.lang.String,java.util.List<? extends com.foo.Page<T>>>[]").ClassNames()
	want := []string{"java.util.Map", "java.lang.String", "java.util.List", "com.foo.Page"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("ClassNames() = %q, want %q", got, want)
	}
}
