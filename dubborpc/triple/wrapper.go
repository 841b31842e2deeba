package triple

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// The fields of Triple's wrapper messages (dubbo's TripleWrapper.proto, and dubbo-go's
// protocol/triple/triple_protocol/internal/interoperability):
//
//	message TripleRequestWrapper  { string serializeType = 1; repeated bytes args = 2; repeated string argTypes = 3; }
//	message TripleResponseWrapper { string serializeType = 1; bytes data = 2; string type = 3; }
const (
	fieldSerializeType protowire.Number = 1
	fieldArgs          protowire.Number = 2 // request
	fieldArgTypes      protowire.Number = 3 // request
	fieldData          protowire.Number = 2 // response
	fieldType          protowire.Number = 3 // response
)

// requestWrapper is the protobuf encoding of a TripleRequestWrapper.
func requestWrapper(serializeType string, args [][]byte, argTypes []string) []byte {
	size := protowire.SizeTag(fieldSerializeType) + protowire.SizeBytes(len(serializeType))
	for _, a := range args {
		size += protowire.SizeTag(fieldArgs) + protowire.SizeBytes(len(a))
	}
	for _, t := range argTypes {
		size += protowire.SizeTag(fieldArgTypes) + protowire.SizeBytes(len(t))
	}
	b := make([]byte, 0, size)
	b = protowire.AppendTag(b, fieldSerializeType, protowire.BytesType)
	b = protowire.AppendString(b, serializeType)
	for _, a := range args {
		b = protowire.AppendTag(b, fieldArgs, protowire.BytesType)
		b = protowire.AppendBytes(b, a)
	}
	for _, t := range argTypes {
		b = protowire.AppendTag(b, fieldArgTypes, protowire.BytesType)
		b = protowire.AppendString(b, t)
	}
	return b
}

// responseWrapper is a decoded TripleResponseWrapper.
type responseWrapper struct {
	serializeType string
	data          []byte
	typ           string
}

// parseResponseWrapper decodes a TripleResponseWrapper, skipping unknown fields as protobuf
// does. data aliases b.
func parseResponseWrapper(b []byte) (responseWrapper, error) {
	var w responseWrapper
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return w, fmt.Errorf("triple response wrapper: %w", protowire.ParseError(n))
		}
		b = b[n:]
		if typ == protowire.BytesType && (num == fieldSerializeType || num == fieldData || num == fieldType) {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return w, fmt.Errorf("triple response wrapper field %d: %w", num, protowire.ParseError(n))
			}
			b = b[n:]
			switch num {
			case fieldSerializeType:
				w.serializeType = string(v)
			case fieldData:
				w.data = v
			case fieldType:
				w.typ = string(v)
			}
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return w, fmt.Errorf("triple response wrapper field %d: %w", num, protowire.ParseError(n))
		}
		b = b[n:]
	}
	return w, nil
}

// errNotWrapper is a response that is no TripleResponseWrapper of hessian2.
var errNotWrapper = errors.New("triple response is not a hessian2 TripleResponseWrapper")
