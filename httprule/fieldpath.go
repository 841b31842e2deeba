package httprule

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// FieldPath resolves a google.api.http field path ("a.b.c", proto field names, as a template
// variable or a body names it) in md and returns the fields along it. Every field but the last
// must be a singular message.
func FieldPath(md protoreflect.MessageDescriptor, path string) ([]protoreflect.FieldDescriptor, error) {
	parts := strings.Split(path, ".")
	fds := make([]protoreflect.FieldDescriptor, 0, len(parts))
	for i, p := range parts {
		fd := md.Fields().ByName(protoreflect.Name(p))
		if fd == nil {
			return nil, fmt.Errorf("message %s has no field %q", md.FullName(), p)
		}
		fds = append(fds, fd)
		if i == len(parts)-1 {
			break
		}
		if fd.Message() == nil || fd.IsList() || fd.IsMap() {
			return nil, fmt.Errorf("field %s is %s, so %q cannot reach into it", fd.FullName(), FieldKind(fd), path)
		}
		md = fd.Message()
	}
	return fds, nil
}

// FieldKind describes what a field holds, for messages: "a map", "repeated", "a message
// (pkg.Msg)" or its scalar kind ("string", "int64", ...).
func FieldKind(fd protoreflect.FieldDescriptor) string {
	switch {
	case fd.IsMap():
		return "a map"
	case fd.IsList():
		return "repeated"
	case fd.Message() != nil:
		return "a message (" + string(fd.Message().FullName()) + ")"
	}
	return fd.Kind().String()
}
