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
	// ProtoDocs are the comments of the elements of Descriptors, by full name without a leading
	// dot: services ("pkg.Greeter"), methods ("pkg.Greeter.SayHello"), messages ("pkg.Hello"),
	// fields ("pkg.Hello.name"), enums and enum values. Each is the element's leading comment,
	// then its trailing comment after a blank line (idl/proto.ExtractDocs). They are kept here,
	// not as the descriptors' SourceCodeInfo, so that the descriptor sets sent to Envoy stay as
	// small as without comments.
	ProtoDocs map[string]string `json:"protoDocs,omitempty" yaml:"protoDocs,omitempty"`
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
	// Doc is the interface's Javadoc description ("" when the IDL form carries none).
	Doc string `json:"doc,omitempty" yaml:"doc,omitempty"`
	// Methods are in declaration order; overloads are separate entries with the same Name.
	Methods []JavaMethod `json:"methods" yaml:"methods"`
}

// JavaMethod is one method of a Java interface.
type JavaMethod struct {
	Name string `json:"name" yaml:"name"`
	// Doc is the main description of the method's Javadoc: Java sources carry it; class files
	// (jars) and metadata-center definitions do not, and leave it "".
	Doc string `json:"doc,omitempty" yaml:"doc,omitempty"`
	// Params are the parameters in order.
	Params []JavaParam `json:"params" yaml:"params"`
	// Returns is the return type ("void" when none).
	Returns TypeName `json:"returns" yaml:"returns"`
	// ReturnsDoc is the text of the Javadoc's @return tag.
	ReturnsDoc string `json:"returnsDoc,omitempty" yaml:"returnsDoc,omitempty"`
}

// JavaParam is one method parameter.
type JavaParam struct {
	// Name is the source name, or "" when the IDL form does not carry names.
	Name string   `json:"name,omitempty" yaml:"name,omitempty"`
	Type TypeName `json:"type" yaml:"type"`
	// Doc is the text of the method Javadoc's @param tag for this parameter.
	Doc string `json:"doc,omitempty" yaml:"doc,omitempty"`
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
	// Doc is the class's Javadoc description ("" when the IDL form carries none).
	Doc string `json:"doc,omitempty" yaml:"doc,omitempty"`
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
	// Doc is the field's Javadoc description ("" when the IDL form carries none).
	Doc string `json:"doc,omitempty" yaml:"doc,omitempty"`
}
