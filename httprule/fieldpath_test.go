package httprule

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/types/descriptorpb"
)

func TestFieldPath(t *testing.T) {
	// FileDescriptorProto: name (string), options (FileOptions message), message_type (repeated).
	md := (&descriptorpb.FileDescriptorProto{}).ProtoReflect().Descriptor()
	fds, err := FieldPath(md, "options.java_package")
	if err != nil || len(fds) != 2 || fds[1].Name() != "java_package" {
		t.Fatalf("options.java_package = %v, %v", fds, err)
	}
	for path, want := range map[string]string{
		"nope":                   `has no field "nope"`,
		"name.x":                 `is string, so "name.x" cannot reach into it`,
		"message_type.name":      `is repeated, so`,
		"options.java_package.x": `is string`,
	} {
		if _, err := FieldPath(md, path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error containing %q", path, err, want)
		}
	}
}
