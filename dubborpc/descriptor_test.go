package dubborpc

import (
	"strings"
	"testing"

	"github.com/rpcbridge/rpcbridge/javatype"
)

func TestDescriptor(t *testing.T) {
	cases := []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"java.lang.String"}, "Ljava/lang/String;"},
		{[]string{"java.lang.String", "int"}, "Ljava/lang/String;I"},
		{[]string{"long", "boolean", "double", "byte", "char", "short", "float"}, "JZDBCSF"},
		{[]string{"java.lang.String[]", "int[][]"}, "[Ljava/lang/String;[[I"},
		{[]string{"[Ljava.lang.String;", "[I"}, "[Ljava/lang/String;[I"},
		{[]string{"java.util.List<java.lang.String>", "java.util.Map<String, List<Integer>>[]"}, "Ljava/util/List;[Ljava/util/Map;"},
		{[]string{"java.lang.Object..."}, "[Ljava/lang/Object;"},
		{[]string{"org.rpcbridge.test.Outer$Inner"}, "Lorg/rpcbridge/test/Outer$Inner;"},
	}
	for _, c := range cases {
		got, err := Descriptor(c.in)
		if err != nil || got != c.want {
			t.Errorf("Descriptor(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "void", "java.lang.String;", "[Q", "[Ljava.lang.String", "java.util.List<String", "a b"} {
		if got, err := Descriptor([]string{bad}); err == nil {
			t.Errorf("Descriptor(%q) = %q, want an error", bad, got)
		}
	}
}

func TestInvokeDescriptor(t *testing.T) {
	var b strings.Builder
	for _, p := range invokeParamTypes {
		d, err := javatype.Descriptor(p)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(d)
	}
	if b.String() != invokeDescriptor {
		t.Errorf("$invoke's descriptor is %q, the constant says %q", b.String(), invokeDescriptor)
	}
}
