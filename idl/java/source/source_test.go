package source

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/idl/java/reach"
)

func parseOne(t *testing.T, files map[string]string) (idl.Schema, error) {
	t.Helper()
	in := map[string][]byte{}
	for k, v := range files {
		in[k] = []byte(v)
	}
	d, err := Parse(context.Background(), in)
	return reach.Schema(d), err
}

func TestErrorPositions(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want string
	}{
		{"unresolvable type", "package a;\ninterface S {\n  Foo get(int id);\n}\n",
			"S.java:3:3: cannot resolve type Foo"},
		{"unresolvable with wildcard import", "package a;\nimport com.other.*;\ninterface S {\n  void put(java.util.List<Bar> x);\n}\n",
			"S.java:4:27: cannot resolve type Bar (on-demand imports of packages outside the upload are not searched: import the class by name)"},
		{"missing member type", "package a;\nclass Outer { static class In {} }\ninterface S {\n  Outer.Nope get();\n}\n",
			"S.java:4:9: cannot resolve type Nope: a.Outer has no member type Nope"},
		{"unterminated comment", "package a;\n/* never closed\ninterface S {}\n",
			"S.java:2:1: unterminated comment"},
		{"unterminated string", "package a;\nclass C {\n  String s = \"abc;\n}\n",
			"S.java:3:14: unterminated string literal"},
		{"unterminated text block", "package a;\nclass C {\n  String s = \"\"\"\n   abc\n}\n",
			"S.java:3:14: unterminated text block"},
		{"missing semicolon", "package a;\ninterface S {\n  void ping()\n}\n",
			"S.java:4:1: expected \";\" or a method body, found \"}\""},
		{"unclosed type", "package a;\ninterface S {\n  void ping();\n",
			"S.java:4:1: missing \"}\" to close interface S"},
		{"primitive type argument", "package a;\ninterface S {\n  java.util.List<int> ids();\n}\n",
			"S.java:3:18: primitive int cannot be a type argument"},
		{"diamond in declaration", "package a;\ninterface S {\n  java.util.List<> ids();\n}\n",
			"S.java:3:17: the diamond \"<>\" is not allowed in a declaration"},
		{"mismatched bracket", "package a;\nclass C {\n  void f() { int[] x = {1, 2); }\n}\n",
			"S.java:3:29: expected \"}\" to close \"{\" at 3:24, found \")\""},
		{"ambiguous wildcard imports", "package a;\nimport java.util.*;\nimport java.sql.*;\ninterface S {\n  Date now();\n}\n",
			"S.java:5:3: type Date is ambiguous: java.util.Date, java.sql.Date"},
		{"duplicate type", "package a;\nclass C {}\nclass C {}\n",
			"S.java:3:7: duplicate type a.C (first declared at S.java:2:7)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseOne(t, map[string]string{"S.java": c.src})
			if err == nil || err.Error() != c.want {
				t.Errorf("error = %v\nwant    %s", err, c.want)
			}
		})
	}
}

func TestResolutionAndSkipping(t *testing.T) {
	files := map[string]string{
		"a/Base.java": `package a;
public interface Base<T> { T get(long id); boolean ping(); }`,
		"a/S.java": `package a;
import b.Dto;
import java.util.Map;
@FunctionalInterface(value = {"x", "}"})
public interface S extends Base<Dto> {
    boolean ping();
    default String hello() { return "}"; }
    static S create() { return null; }
    private void helper() {}
    <E extends Comparable<E>> E max(E[] items, Map.Entry<String, E> e);
    Dto.Inner inner(Item item);
    Dto<Integer> dto();
    int CONSTANT = 1;
    record Item(String name, int... counts) implements java.io.Serializable {
        Item { }
        static int count;
    }
}`,
		"b/Dto.java": `package b;
public abstract sealed class Dto<K extends Number> extends Parent permits Dto.Sub {
    protected transient int skipped;
    private static final long serialVersionUID = 1L;
    private final java.util.Map<String, Integer> m = new java.util.HashMap<String, Integer>(), other = null;
    K key;
    char c = '\'', d = '{';
    int[] a, b[];
    public static final class Inner { Inner self; }
    static non-sealed class Sub extends Dto<Integer> {}
    { int x = 1; }
    static { System.out.println("}"); }
}
class Parent {}`,
	}
	s, err := parseOne(t, files)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, in := range s.Interfaces {
		for _, m := range in.Methods {
			var params []string
			for _, p := range m.Params {
				params = append(params, p.Name+" "+string(p.Type))
			}
			got[in.Name+"."+m.Name] = string(m.Returns) + "(" + strings.Join(params, ", ") + ")"
		}
	}
	want := map[string]string{
		"a.Base.get":  "T(id long)",
		"a.Base.ping": "boolean()",
		"a.S.ping":    "boolean()",
		"a.S.get":     "T(id long)",
		"a.S.max":     "java.lang.Comparable(items java.lang.Comparable[], e java.util.Map$Entry<java.lang.String,java.lang.Comparable>)",
		"a.S.inner":   "b.Dto$Inner(item a.S$Item)",
		"a.S.dto":     "b.Dto<java.lang.Integer>()",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("methods = %v, want exactly %v", got, want)
	}
	classes := map[string]idl.JavaClass{}
	for _, c := range s.Classes {
		classes[c.Name] = c
	}
	if c := classes["a.S$Item"]; fieldList(c) != "name java.lang.String, counts int[]" {
		t.Errorf("record fields = %q", fieldList(c))
	}
	dto := classes["b.Dto"]
	if fieldList(dto) != "m java.util.Map<java.lang.String,java.lang.Integer>, other java.util.Map<java.lang.String,java.lang.Integer>, key K, c char, d char, a int[], b int[][]" {
		t.Errorf("Dto fields = %q", fieldList(dto))
	}
	if dto.Super != "b.Parent" || strings.Join(dto.TypeParams, ",") != "K" {
		t.Errorf("Dto super/typeParams = %q %q", dto.Super, dto.TypeParams)
	}
	if _, ok := classes["b.Parent"]; !ok {
		t.Error("the superclass b.Parent is not in the schema")
	}
	if fieldList(classes["b.Dto$Inner"]) != "self b.Dto$Inner" {
		t.Errorf("Inner fields = %q", fieldList(classes["b.Dto$Inner"]))
	}
}

func fieldList(c idl.JavaClass) string {
	var fs []string
	for _, f := range c.Fields {
		fs = append(fs, f.Name+" "+string(f.Type))
	}
	return strings.Join(fs, ", ")
}

// FuzzParseSource checks that no input makes the parser panic or loop; seeds are the golden
// API's sources and the error cases above.
func FuzzParseSource(f *testing.F) {
	paths, _ := filepath.Glob("../testdata/*/src/*/*/*/*.java")
	more, _ := filepath.Glob("../testdata/*/src/*/*/*/*/*.java")
	for _, p := range append(paths, more...) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("package a;\ninterface S { java.util.Map<String, java.util.List<? extends Number>> m(int... x); }")
	f.Add("class C { String s = \"\"\"\n x \"\"\"; char c = '\\u0041'; }")
	f.Add("enum E { A(1) { void f() {} }, B; E(int x) {} }")
	f.Fuzz(func(t *testing.T, src string) {
		_, _ = Parse(context.Background(), map[string][]byte{"F.java": []byte(src)})
	})
}
