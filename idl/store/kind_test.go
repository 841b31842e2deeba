package store

import (
	"errors"
	"testing"
)

func TestKindOf(t *testing.T) {
	for _, c := range []struct {
		paths []string
		want  Kind
	}{
		{[]string{"a/b.proto", "c.PROTO"}, KindProto},
		{[]string{"api.pb"}, KindDescriptorSet},
		{[]string{"META-INF/MANIFEST.MF", "com/x/Users.class"}, KindJavaJar},
		{[]string{"com/x/Users.java", "README.md"}, KindJavaSource},
		{[]string{"users.yaml"}, KindJavaYAML},
		{[]string{"defs/a.json"}, KindDubboMetadata},
	} {
		if got, err := KindOf(c.paths); err != nil || got != c.want {
			t.Errorf("KindOf(%v) = %q, %v; want %q", c.paths, got, err, c.want)
		}
	}
	var unknown *UnknownKindError
	if _, err := KindOf([]string{"notes.txt"}); !errors.As(err, &unknown) {
		t.Errorf("KindOf(notes.txt): %v, want *UnknownKindError", err)
	}
	if _, err := KindOf([]string{"a.proto", "B.java"}); err == nil {
		t.Error("KindOf of mixed kinds succeeded")
	}
}
