// Package summary describes what an IDL schema declares — its services with their methods, and
// its message, enum and class types with their members — as plain text lines that two versions
// of a schema can be compared by (Compare). It is what the admin API shows for one stored
// version and what a diff between two versions is computed from.
//
// Protobuf is summarized from the descriptors, without the files rpcbridge supplies itself
// (google/protobuf/*, google/api/*): methods with their request and response types, streaming
// and google.api.http bindings; messages with their fields (label, type, number, oneof); enums
// with their values. Java is summarized from the Java model: interface methods with parameter
// names and types and the return type (overloads apart), DTO classes with their superclass and
// fields, enums with their constants.
package summary

import (
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/rpcbridge/rpcbridge/idl"
	protoidl "github.com/rpcbridge/rpcbridge/idl/proto"
)

// Summary is what one schema declares.
type Summary struct {
	// Services are sorted by Name.
	Services []Service `json:"services" yaml:"services"`
	// Types are sorted by Name.
	Types []Type `json:"types" yaml:"types"`
}

// Service is a gRPC service or a Dubbo (Java) interface.
type Service struct {
	// Name is the fully qualified service or interface name.
	Name string `json:"name" yaml:"name"`
	// Methods are in declaration order.
	Methods []Method `json:"methods" yaml:"methods"`
}

// Method is one method of a service.
type Method struct {
	// Key identifies the method within its service across versions: the method name for
	// protobuf, name and erased parameter types for Java ("find(long)"), since overloads are
	// different methods.
	Key string `json:"key" yaml:"key"`
	// Signature is the whole declaration on one line; two versions of a method differ when
	// their signatures do.
	Signature string `json:"signature" yaml:"signature"`
}

// Type is a message, enum or class.
type Type struct {
	// Name is the fully qualified name ("greet.v1.HelloRequest", "com.foo.User").
	Name string `json:"name" yaml:"name"`
	// Kind is "message" or "enum" (protobuf), "class" or "enum" (Java).
	Kind string `json:"kind" yaml:"kind"`
	// Members are the fields, values or constants, in declaration order.
	Members []Member `json:"members" yaml:"members"`
}

// Member is one field of a message or class, one enum value, or a class's superclass.
type Member struct {
	// Key identifies the member across versions (the field or value name; "extends").
	Key string `json:"key" yaml:"key"`
	// Text is the member's declaration ("repeated string tags = 4", "java.lang.String name").
	Text string `json:"text" yaml:"text"`
}

// Of summarizes a schema.
func Of(s idl.Schema) Summary {
	out := Summary{Services: []Service{}, Types: []Type{}}
	for _, f := range s.Descriptors.GetFile() {
		if supplied(f.GetName()) {
			continue
		}
		proto2 := f.GetSyntax() == "" || f.GetSyntax() == "proto2"
		for _, m := range f.GetMessageType() {
			out.Types = appendMessage(out.Types, qualify(f.GetPackage(), m.GetName()), m, proto2)
		}
		for _, e := range f.GetEnumType() {
			out.Types = append(out.Types, protoEnum(qualify(f.GetPackage(), e.GetName()), e))
		}
	}
	for _, svc := range protoidl.Services(s.Descriptors) {
		if supplied(svc.File) {
			continue
		}
		service := Service{Name: svc.Name, Methods: []Method{}}
		for _, m := range svc.Methods {
			service.Methods = append(service.Methods, Method{Key: m.Name, Signature: protoSignature(m)})
		}
		out.Services = append(out.Services, service)
	}
	for _, iface := range s.Interfaces {
		service := Service{Name: iface.Name, Methods: []Method{}}
		for _, m := range iface.Methods {
			service.Methods = append(service.Methods, javaMethod(m))
		}
		out.Services = append(out.Services, service)
	}
	for _, c := range s.Classes {
		out.Types = append(out.Types, javaClass(c))
	}
	slices.SortStableFunc(out.Services, func(a, b Service) int { return strings.Compare(a.Name, b.Name) })
	slices.SortStableFunc(out.Types, func(a, b Type) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// supplied reports whether a file is one of the imports rpcbridge provides to every upload.
func supplied(file string) bool {
	return strings.HasPrefix(file, "google/protobuf/") || strings.HasPrefix(file, "google/api/")
}

func qualify(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// protoSignature renders "rpc SayHello(greet.v1.HelloRequest) returns (stream greet.v1.HelloReply)"
// followed by its HTTP bindings ("GET /v1/hello/{name}").
func protoSignature(m protoidl.MethodInfo) string {
	stream := func(on bool) string {
		if on {
			return "stream "
		}
		return ""
	}
	sig := fmt.Sprintf("rpc %s(%s%s) returns (%s%s)", m.Name, stream(m.ClientStreaming), m.Input, stream(m.ServerStreaming), m.Output)
	for _, h := range m.HTTP {
		sig += "; " + h.Method + " " + h.Pattern
		if h.Body != "" {
			sig += " body " + h.Body
		}
		if h.ResponseBody != "" {
			sig += " response_body " + h.ResponseBody
		}
	}
	return sig
}

// appendMessage adds a message and its nested messages and enums (map entries excepted).
func appendMessage(types []Type, name string, m *descriptorpb.DescriptorProto, proto2 bool) []Type {
	entries := map[string]*descriptorpb.DescriptorProto{}
	for _, nested := range m.GetNestedType() {
		if nested.GetOptions().GetMapEntry() {
			entries["."+name+"."+nested.GetName()] = nested
		}
	}
	t := Type{Name: name, Kind: "message", Members: []Member{}}
	for _, f := range m.GetField() {
		t.Members = append(t.Members, Member{Key: f.GetName(), Text: protoField(f, m, entries, proto2)})
	}
	types = append(types, t)
	for _, nested := range m.GetNestedType() {
		if !nested.GetOptions().GetMapEntry() {
			types = appendMessage(types, name+"."+nested.GetName(), nested, proto2)
		}
	}
	for _, e := range m.GetEnumType() {
		types = append(types, protoEnum(name+"."+e.GetName(), e))
	}
	return types
}

// protoField renders "repeated string tags = 4", "map<string, int32> scores = 5",
// "optional int64 id = 1" or "string email = 2 (oneof contact)".
func protoField(f *descriptorpb.FieldDescriptorProto, parent *descriptorpb.DescriptorProto, entries map[string]*descriptorpb.DescriptorProto, proto2 bool) string {
	typ, label := protoType(f), ""
	entry, isMap := entries[f.GetTypeName()]
	switch {
	case isMap && len(entry.GetField()) == 2:
		typ = fmt.Sprintf("map<%s, %s>", protoType(entry.GetField()[0]), protoType(entry.GetField()[1]))
	case f.GetLabel() == descriptorpb.FieldDescriptorProto_LABEL_REPEATED:
		label = "repeated "
	case f.GetLabel() == descriptorpb.FieldDescriptorProto_LABEL_REQUIRED:
		label = "required "
	case f.GetProto3Optional() || proto2:
		label = "optional "
	}
	text := fmt.Sprintf("%s%s %s = %d", label, typ, f.GetName(), f.GetNumber())
	if f.OneofIndex != nil && !f.GetProto3Optional() && int(f.GetOneofIndex()) < len(parent.GetOneofDecl()) {
		text += " (oneof " + parent.GetOneofDecl()[f.GetOneofIndex()].GetName() + ")"
	}
	return text
}

// protoType is a field's type: a scalar's keyword or a message or enum's full name.
func protoType(f *descriptorpb.FieldDescriptorProto) string {
	if name := f.GetTypeName(); name != "" {
		return strings.TrimPrefix(name, ".")
	}
	return strings.ToLower(strings.TrimPrefix(f.GetType().String(), "TYPE_"))
}

func protoEnum(name string, e *descriptorpb.EnumDescriptorProto) Type {
	t := Type{Name: name, Kind: "enum", Members: []Member{}}
	for _, v := range e.GetValue() {
		t.Members = append(t.Members, Member{Key: v.GetName(), Text: fmt.Sprintf("%s = %d", v.GetName(), v.GetNumber())})
	}
	return t
}

// javaMethod renders "java.lang.String sayHello(java.lang.String name, int times)", keyed by
// name and erased parameter types.
func javaMethod(m idl.JavaMethod) Method {
	params := make([]string, len(m.Params))
	erased := make([]string, len(m.Params))
	for i, p := range m.Params {
		params[i] = strings.TrimSpace(string(p.Type) + " " + p.Name)
		erased[i] = p.Type.Erasure()
	}
	return Method{
		Key:       m.Name + "(" + strings.Join(erased, ",") + ")",
		Signature: fmt.Sprintf("%s %s(%s)", m.Returns, m.Name, strings.Join(params, ", ")),
	}
}

func javaClass(c idl.JavaClass) Type {
	t := Type{Name: c.Name, Kind: string(c.Kind), Members: []Member{}}
	if len(c.TypeParams) > 0 {
		t.Members = append(t.Members, Member{Key: "<>", Text: "<" + strings.Join(c.TypeParams, ", ") + ">"})
	}
	if c.Super != "" {
		t.Members = append(t.Members, Member{Key: "extends", Text: "extends " + string(c.Super)})
	}
	for _, f := range c.Fields {
		t.Members = append(t.Members, Member{Key: f.Name, Text: string(f.Type) + " " + f.Name})
	}
	for _, k := range c.Constants {
		t.Members = append(t.Members, Member{Key: k, Text: k})
	}
	return t
}
