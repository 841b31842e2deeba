package dubborpc

import "testing"

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
