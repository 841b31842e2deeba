// Package idl holds what rpcbridge knows about the methods of services: their request and
// response types, parsed from uploaded IDL (protobuf, Dubbo/Java APIs) or fetched from the
// services and registries themselves. Sub-packages parse each IDL form into a Schema.
package idl

// Schema is the method knowledge from one IDL upload or discovery.
type Schema struct {
	// Name identifies the upload (for example "greeter-protos").
	Name string `json:"name" yaml:"name"`
	// Version increases with every accepted replacement of the same Name.
	Version int64 `json:"version" yaml:"version"`
}
