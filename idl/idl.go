// Package idl holds what rpcbridge knows about the methods of services: their request and
// response types, parsed from uploaded IDL (protobuf, Dubbo/Java APIs) or fetched from the
// services and registries themselves. Sub-packages parse each IDL form into a Schema; every Java
// form (source, jar, metadata center, declarative YAML) produces the same Java model.
package idl

import (
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/rpcbridge/rpcbridge/javatype"
)

// Schema is the method knowledge from one IDL upload or discovery.
type Schema struct {
	// Name identifies the upload (for example "greeter-protos").
	Name string `json:"name" yaml:"name"`
	// Version increases with every accepted replacement of the same Name.
	Version int64 `json:"version" yaml:"version"`
	// Descriptors holds protobuf files, with every import, when the schema came from protobuf.
	Descriptors *descriptorpb.FileDescriptorSet `json:"-" yaml:"-"`
	// Interfaces holds Dubbo/Java service interfaces, sorted by Name.
	Interfaces []JavaInterface `json:"interfaces,omitempty" yaml:"interfaces,omitempty"`
	// Classes holds the DTO classes and enums the interfaces use, sorted by Name.
	Classes []JavaClass `json:"classes,omitempty" yaml:"classes,omitempty"`
}

// TypeName is a Java type in source syntax with fully qualified names and generic arguments, for
// example "int", "java.lang.String[]" or "java.util.Map<java.lang.String,com.foo.User>".
// javatype owns its grammar and what its values are.
type TypeName = javatype.Name

// JavaInterface is a Dubbo service interface.
type JavaInterface struct {
	// Name is the fully qualified interface name.
	Name string `json:"name" yaml:"name"`
	// Methods are in declaration order; overloads are separate entries with the same Name.
	Methods []JavaMethod `json:"methods" yaml:"methods"`
}

// JavaMethod is one method of a Java interface.
type JavaMethod struct {
	Name string `json:"name" yaml:"name"`
	// Params are the parameters in order.
	Params []JavaParam `json:"params" yaml:"params"`
	// Returns is the return type ("void" when none).
	Returns TypeName `json:"returns" yaml:"returns"`
}

// JavaParam is one method parameter.
type JavaParam struct {
	// Name is the source name, or "" when the IDL form does not carry names.
	Name string   `json:"name,omitempty" yaml:"name,omitempty"`
	Type TypeName `json:"type" yaml:"type"`
}

// JavaClassKind says whether a class is a plain DTO or an enum.
type JavaClassKind string

// The class kinds.
const (
	ClassDTO  JavaClassKind = "class"
	ClassEnum JavaClassKind = "enum"
)

// JavaClass is a DTO class or an enum used by an interface.
type JavaClass struct {
	// Name is the fully qualified class name (nested classes use '$': "com.foo.Outer$Inner").
	Name string        `json:"name" yaml:"name"`
	Kind JavaClassKind `json:"kind" yaml:"kind"`
	// TypeParams are the generic type parameters ("T"), in order.
	TypeParams []string `json:"typeParams,omitempty" yaml:"typeParams,omitempty"`
	// Super is the superclass when it is not java.lang.Object.
	Super TypeName `json:"super,omitempty" yaml:"super,omitempty"`
	// Fields are the serialized (non-static, non-transient) fields in declaration order.
	Fields []JavaField `json:"fields,omitempty" yaml:"fields,omitempty"`
	// Constants are the enum constants in order.
	Constants []string `json:"constants,omitempty" yaml:"constants,omitempty"`
}

// JavaField is one field of a DTO class.
type JavaField struct {
	Name string   `json:"name" yaml:"name"`
	Type TypeName `json:"type" yaml:"type"`
}
