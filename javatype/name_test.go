package javatype

import (
	"strings"
	"testing"
)

func TestParseNameCanonicalizes(t *testing.T) {
	cases := map[string]string{
		"int": "int",
		"java.util.Map< java.lang.String , com.foo.User >": "java.util.Map<java.lang.String,com.foo.User>",
		"java.util.List<? extends  com.foo.Base>":          "java.util.List<? extends com.foo.Base>",
		"java.util.List<?>":                                "java.util.List<?>",
		"int [] []":                                        "int[][]",
		"com.foo.Outer$Inner<T>[]":                         "com.foo.Outer$Inner<T>[]",
	}
	for in, want := range cases {
		got, err := ParseName(in)
		if err != nil {
			t.Errorf("ParseName(%q): %v", in, err)
			continue
		}
		if string(got) != want {
			t.Errorf("ParseName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseNameRejectsMalformed(t *testing.T) {
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
		_, err := ParseName(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseName(%q) error = %v, want it to mention %q", in, err, want)
		}
	}
}

func TestNameAccessors(t *testing.T) {
	erasures := map[Name]string{
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
	m := Name("java.util.Map<java.lang.String,java.util.List<? extends com.foo.User>>")
	args := m.Args()
	if len(args) != 2 || args[0] != "java.lang.String" || args[1] != "java.util.List<? extends com.foo.User>" {
		t.Errorf("Args() = %q", args)
	}
	if got := args[1].Args()[0].Erasure(); got != "com.foo.User" {
		t.Errorf("wildcard erasure = %q", got)
	}
	if !Name("int[][]").IsArray() || Name("int").IsArray() {
		t.Error("IsArray wrong")
	}
	if got := Name("java.util.List<java.lang.String>[][]").Elem(); got != "java.util.List<java.lang.String>[]" {
		t.Errorf("Elem() = %q", got)
	}
	if Name("int").Elem() != "" {
		t.Error("Elem of a non-array must be empty")
	}
	if !Name("long").IsPrimitive() || Name("java.lang.Long").IsPrimitive() {
		t.Error("IsPrimitive wrong")
	}
	if !Name("T").IsTypeVariable() || Name("int").IsTypeVariable() || Name("a.B").IsTypeVariable() {
		t.Error("IsTypeVariable wrong")
	}
}

func TestClassNames(t *testing.T) {
	got := Name("java.util.Map<java.lang.String,java.util.List<? extends com.foo.Page<T>>>[]").ClassNames()
	want := []string{"java.util.Map", "java.lang.String", "java.util.List", "com.foo.Page"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("ClassNames() = %q, want %q", got, want)
	}
}

func TestSubstituteAndArg(t *testing.T) {
	box, err := Parse("com.foo.Box<T,java.util.List<T[]>,? extends E,?>")
	if err != nil {
		t.Fatal(err)
	}
	long, _ := Parse("java.lang.Long")
	got := box.Substitute(map[string]*Type{"T": long, "E": {Name: "com.foo.User"}})
	if want := "com.foo.Box<java.lang.Long,java.util.List<java.lang.Long[]>,? extends com.foo.User,?>"; got.String() != want {
		t.Errorf("Substitute = %s, want %s", got, want)
	}
	for i, want := range []string{"java.lang.Long", "java.util.List<java.lang.Long[]>", "com.foo.User", "java.lang.Object", "java.lang.Object"} {
		if a := got.Arg(i).String(); a != want {
			t.Errorf("Arg(%d) = %s, want %s", i, a, want)
		}
	}
	if box.String() != "com.foo.Box<T,java.util.List<T[]>,? extends E,?>" {
		t.Errorf("Substitute changed its receiver: %s", box)
	}
}

func TestDescriptor(t *testing.T) {
	cases := map[string]string{
		"java.lang.String":                       "Ljava/lang/String;",
		"int":                                    "I",
		"long[]":                                 "[J",
		"int[][]":                                "[[I",
		"[Ljava.lang.String;":                    "[Ljava/lang/String;",
		"[I":                                     "[I",
		"java.util.Map<String, List<Integer>>[]": "[Ljava/util/Map;",
		"java.lang.Object...":                    "[Ljava/lang/Object;",
		"org.rpcbridge.test.Outer$Inner":         "Lorg/rpcbridge/test/Outer$Inner;",
	}
	for in, want := range cases {
		if got, err := Descriptor(in); err != nil || got != want {
			t.Errorf("Descriptor(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "void", "java.lang.String;", "[Q", "[Ljava.lang.String", "java.util.List<String", "a b"} {
		if got, err := Descriptor(bad); err == nil {
			t.Errorf("Descriptor(%q) = %q, want an error", bad, got)
		}
	}
}
