package triple

import (
	"fmt"

	"google.golang.org/grpc/encoding"
)

// wireCodec passes the wrapper messages' bytes through gRPC as they are. Its name is the
// content-subtype: "application/grpc+proto", what Java Dubbo 3 clients send in wrapper mode
// (the outer message is protobuf) and what dubbo-go's Triple server routes to its hessian2
// wrapper codec for a service exported with serialization hessian2.
type wireCodec struct{}

var _ encoding.Codec = wireCodec{}

// Marshal implements encoding.Codec.
func (wireCodec) Marshal(v any) ([]byte, error) {
	b, ok := v.(*[]byte)
	if !ok {
		return nil, fmt.Errorf("triple wire codec: cannot marshal %T", v)
	}
	return *b, nil
}

// Unmarshal implements encoding.Codec.
func (wireCodec) Unmarshal(data []byte, v any) error {
	b, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("triple wire codec: cannot unmarshal into %T", v)
	}
	*b = append((*b)[:0], data...)
	return nil
}

// Name implements encoding.Codec.
func (wireCodec) Name() string { return "proto" }
