package gatewayv1

import (
	"fmt"

	xdstypev3 "github.com/cncf/xds/go/xds/type/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// packTypedStruct is m as Envoy carries an extension's config it has no descriptor for: an Any
// holding an xds.type.v3.TypedStruct of typeURL whose value is m's JSON (proto field names).
// Equal messages give equal bytes. what names the message in errors.
func packTypedStruct(what, typeURL string, m proto.Message) (*anypb.Any, error) {
	raw, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	value := &structpb.Struct{}
	if err := protojson.Unmarshal(raw, value); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	out := &anypb.Any{}
	ts := &xdstypev3.TypedStruct{TypeUrl: typeURL, Value: value}
	if err := anypb.MarshalFrom(out, ts, proto.MarshalOptions{Deterministic: true}); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// unpackTypedStruct decodes a into m: the TypedStruct packTypedStruct writes or the binary Any
// of typeURL (Envoy accepts both forms for extension configs). Fields this version does not know
// are ignored, as protobuf ignores them. Another type URL is unsupported(url)'s error; a JSON
// value m cannot hold (an enum name of a later version, say) is badValue(err)'s.
func unpackTypedStruct(a *anypb.Any, typeURL string, m proto.Message, unsupported func(url string) error, badValue func(error) error) error {
	switch url := a.GetTypeUrl(); url {
	case typeURL:
		if err := proto.Unmarshal(a.GetValue(), m); err != nil {
			return fmt.Errorf("decoding %s: %w", typeURL, err)
		}
	case typedStructTypeURL:
		ts := &xdstypev3.TypedStruct{}
		if err := proto.Unmarshal(a.GetValue(), ts); err != nil {
			return fmt.Errorf("decoding TypedStruct: %w", err)
		}
		if ts.GetTypeUrl() != typeURL {
			return unsupported(ts.GetTypeUrl())
		}
		raw, err := protojson.Marshal(ts.GetValue())
		if err != nil {
			return fmt.Errorf("decoding TypedStruct value: %w", err)
		}
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, m); err != nil {
			return badValue(err)
		}
	default:
		return unsupported(url)
	}
	return nil
}
