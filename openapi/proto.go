package openapi

import (
	"fmt"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// protoSchemas resolves the gRPC routes' messages and collects the schemas they use.
type protoSchemas struct {
	files map[string]*protoregistry.Files // by service
	used  map[protoreflect.FullName]protoreflect.Descriptor
	// docs are the comments of the descriptors' elements, by full name.
	docs map[string]string
}

func newProtoSchemas(pds []ir.ProtoDescriptors) (*protoSchemas, error) {
	ps := &protoSchemas{files: map[string]*protoregistry.Files{}, used: map[protoreflect.FullName]protoreflect.Descriptor{}, docs: map[string]string{}}
	for _, pd := range pds {
		for name, doc := range pd.Docs {
			ps.docs[name] = doc
		}
		var fds descriptorpb.FileDescriptorSet
		if err := proto.Unmarshal(pd.FileDescriptorSet, &fds); err != nil {
			return nil, fmt.Errorf("descriptors of %s: %w", pd.Service, err)
		}
		files, err := protodesc.NewFiles(&fds)
		if err != nil {
			return nil, fmt.Errorf("descriptors of %s: %w", pd.Service, err)
		}
		ps.files[pd.Service] = files
	}
	return ps, nil
}

func (ps *protoSchemas) method(service, method string) (protoreflect.MethodDescriptor, error) {
	files, ok := ps.files[service]
	if !ok {
		return nil, fmt.Errorf("no descriptors for service %s", service)
	}
	d, err := files.FindDescriptorByName(protoreflect.FullName(service))
	if err != nil {
		return nil, fmt.Errorf("service %s: %w", service, err)
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil, fmt.Errorf("%s is not a service", service)
	}
	md := sd.Methods().ByName(protoreflect.Name(method))
	if md == nil {
		return nil, fmt.Errorf("service %s has no method %s", service, method)
	}
	return md, nil
}

// doc is the comment of the element named name, "" when it has none.
func (ps *protoSchemas) doc(name protoreflect.FullName) string { return ps.docs[string(name)] }

// documented is a copy of schema whose description is doc, before the schema's own description
// (a well-known type's), or schema itself when doc is "".
func documented(schema obj, doc string) obj {
	if doc == "" {
		return schema
	}
	out := obj{}
	for k, v := range schema {
		out[k] = v
	}
	if own, ok := out["description"].(string); ok && own != "" {
		doc += "\n\n" + own
	}
	out["description"] = doc
	return out
}

// splitDoc divides a comment into an operation's summary (its first paragraph) and
// description (the rest), as protoc-gen-openapiv2 does (updateOpenAPIDataFromComments).
func splitDoc(doc string) (summary, description string) {
	first, rest, _ := strings.Cut(doc, "\n\n")
	return strings.TrimSpace(first), strings.TrimSpace(rest)
}

// wellKnown are the schemas of the well-known types, as protojson renders them.
var wellKnown = map[protoreflect.FullName]func() obj{
	"google.protobuf.Timestamp": func() obj { return obj{"type": "string", "format": "date-time"} },
	"google.protobuf.Duration": func() obj {
		return obj{"type": "string", "pattern": `^-?[0-9]+(\.[0-9]{1,9})?s$`, "description": "A duration in seconds with up to nine fractional digits, such as \"1.5s\"."}
	},
	"google.protobuf.FieldMask":   func() obj { return obj{"type": "string", "description": "Comma-separated lowerCamel field paths."} },
	"google.protobuf.Struct":      func() obj { return obj{"type": "object", "additionalProperties": true} },
	"google.protobuf.Value":       func() obj { return obj{} },
	"google.protobuf.ListValue":   func() obj { return obj{"type": "array", "items": obj{}} },
	"google.protobuf.Empty":       func() obj { return obj{"type": "object"} },
	"google.protobuf.DoubleValue": func() obj { return obj{"type": "number", "format": "double"} },
	"google.protobuf.FloatValue":  func() obj { return obj{"type": "number", "format": "float"} },
	"google.protobuf.Int64Value":  func() obj { return obj{"type": "string", "format": "int64"} },
	"google.protobuf.UInt64Value": func() obj { return obj{"type": "string", "format": "uint64"} },
	"google.protobuf.Int32Value":  func() obj { return obj{"type": "integer", "format": "int32"} },
	"google.protobuf.UInt32Value": func() obj { return obj{"type": "integer", "format": "uint32", "minimum": 0} },
	"google.protobuf.BoolValue":   func() obj { return obj{"type": "boolean"} },
	"google.protobuf.StringValue": func() obj { return obj{"type": "string"} },
	"google.protobuf.BytesValue":  func() obj { return obj{"type": "string", "format": "byte", "contentEncoding": "base64"} },
	"google.protobuf.Any": func() obj {
		return obj{"type": "object", "required": []any{"@type"}, "additionalProperties": true,
			"properties": obj{"@type": obj{"type": "string", "description": "The type URL of the packed message."}}}
	},
}

// messageRef is the schema of a message value: a well-known type inline, others by reference.
func (ps *protoSchemas) messageRef(md protoreflect.MessageDescriptor) obj {
	if wk, ok := wellKnown[md.FullName()]; ok {
		return wk()
	}
	ps.used[md.FullName()] = md
	return obj{"$ref": "#/components/schemas/" + string(md.FullName())}
}

// fieldSchema is the schema of a field's JSON value.
func (ps *protoSchemas) fieldSchema(fd protoreflect.FieldDescriptor) obj {
	switch {
	case fd.IsMap():
		return obj{"type": "object", "additionalProperties": ps.singularSchema(fd.MapValue())}
	case fd.IsList():
		return obj{"type": "array", "items": ps.singularSchema(fd)}
	}
	return ps.singularSchema(fd)
}

// singularSchema is the schema of one value of the field's type.
func (ps *protoSchemas) singularSchema(fd protoreflect.FieldDescriptor) obj {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return ps.messageRef(fd.Message())
	case protoreflect.EnumKind:
		if fd.Enum().FullName() == "google.protobuf.NullValue" {
			return obj{"type": "null"}
		}
		ps.used[fd.Enum().FullName()] = fd.Enum()
		return obj{"$ref": "#/components/schemas/" + string(fd.Enum().FullName())}
	case protoreflect.BoolKind:
		return obj{"type": "boolean"}
	case protoreflect.StringKind:
		return obj{"type": "string"}
	case protoreflect.BytesKind:
		return obj{"type": "string", "format": "byte", "contentEncoding": "base64"}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return obj{"type": "integer", "format": "int32"}
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return obj{"type": "integer", "format": "uint32", "minimum": 0}
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return obj{"type": "string", "format": "int64"}
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return obj{"type": "string", "format": "uint64"}
	case protoreflect.FloatKind:
		return obj{"type": "number", "format": "float"}
	case protoreflect.DoubleKind:
		return obj{"type": "number", "format": "double"}
	}
	return obj{}
}

// emit adds a component schema for every message and enum used, and those they use in turn.
func (ps *protoSchemas) emit(schemas obj) {
	done := map[protoreflect.FullName]bool{}
	for {
		var next []protoreflect.FullName
		for name := range ps.used {
			if !done[name] {
				next = append(next, name)
			}
		}
		if len(next) == 0 {
			return
		}
		sort.Slice(next, func(i, j int) bool { return next[i] < next[j] })
		for _, name := range next {
			done[name] = true
			switch d := ps.used[name].(type) {
			case protoreflect.MessageDescriptor:
				schemas[string(name)] = ps.messageSchema(d)
			case protoreflect.EnumDescriptor:
				schemas[string(name)] = ps.enumSchema(d)
			}
		}
	}
}

// enumSchema is an enum by value name; its description is the enum's comment and the
// comments of its values, or says what it is.
func (ps *protoSchemas) enumSchema(ed protoreflect.EnumDescriptor) obj {
	var names []any
	var values []string
	for i := 0; i < ed.Values().Len(); i++ {
		v := ed.Values().Get(i)
		names = append(names, string(v.Name()))
		if doc := ps.doc(v.FullName()); doc != "" {
			values = append(values, string(v.Name())+": "+doc)
		}
	}
	desc := ps.doc(ed.FullName())
	if desc == "" {
		desc = "Enum " + string(ed.FullName()) + ", by value name."
	}
	if len(values) > 0 {
		desc += "\n\n" + strings.Join(values, "\n")
	}
	return obj{"type": "string", "enum": names, "description": desc}
}

func (ps *protoSchemas) messageSchema(md protoreflect.MessageDescriptor) obj {
	props := obj{}
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		props[fd.JSONName()] = documented(ps.fieldSchema(fd), ps.doc(fd.FullName()))
	}
	s := obj{"type": "object", "properties": props}
	var notes []string
	oneofs := md.Oneofs()
	for i := 0; i < oneofs.Len(); i++ {
		od := oneofs.Get(i)
		if od.IsSynthetic() {
			continue
		}
		var members []string
		for j := 0; j < od.Fields().Len(); j++ {
			members = append(members, od.Fields().Get(j).JSONName())
		}
		notes = append(notes, "At most one of "+strings.Join(members, ", ")+" (oneof "+string(od.Name())+") may be set.")
	}
	desc := ps.doc(md.FullName())
	if desc == "" {
		desc = "Message " + string(md.FullName()) + "."
	}
	if len(notes) > 0 {
		desc += " " + strings.Join(notes, " ")
	}
	s["description"] = desc
	return s
}
