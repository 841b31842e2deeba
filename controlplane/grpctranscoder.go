package controlplane

import (
	"fmt"
	"slices"

	transcoderv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_json_transcoder/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// disabledTranscoderFile is the one file of the HCM-level transcoder config. That config lists
// no services, which makes the filter a no-op, and it is disabled anyway; the descriptor set is
// real (and tiny) because Envoy parses it even then.
const disabledTranscoderFile = "rpcbridge/disabled.proto"

// grpcTranscoderHTTPFilter is the HCM entry of the transcoder: disabled by default, enabled per
// route by typed_per_filter_config.
func grpcTranscoderHTTPFilter() (*hcmv3.HttpFilter, error) {
	set, err := proto.MarshalOptions{Deterministic: true}.Marshal(&descriptorpb.FileDescriptorSet{
		File: []*descriptorpb.FileDescriptorProto{{
			Name:    proto.String(disabledTranscoderFile),
			Package: proto.String("rpcbridge.disabled"),
			Syntax:  proto.String("proto3"),
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("marshalling the disabled transcoder descriptor: %w", err)
	}
	cfg, err := typedConfig(&transcoderv3.GrpcJsonTranscoder{
		DescriptorSet: &transcoderv3.GrpcJsonTranscoder_ProtoDescriptorBin{ProtoDescriptorBin: set},
	})
	if err != nil {
		return nil, err
	}
	return &hcmv3.HttpFilter{
		Name:       wellknown.GRPCJSONTranscoder,
		ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: cfg},
		Disabled:   true,
	}, nil
}

// grpcTranscoderPerRoute is the per-route transcoder config of a gRPC route. Print options:
// primitive fields are always printed (clients see zeros and empty strings rather than missing
// keys) and field names are lowerCamelCase, the proto3 JSON mapping. The transcoded request
// stays on the matched route (match_incoming_request_route) and gRPC errors become HTTP statuses
// with a google.rpc.Status JSON body (convert_grpc_status). auto_mapping is on so that the
// default binding of a method without a google.api.http annotation, POST /<pkg>.<Service>/<Method>
// with the request message as body, is transcoded too (without it Envoy passes such requests
// through untouched and the gRPC server answers 415). maxBody (0: unset, which means the stream's
// buffer limit) is max_request_body_size: a larger body is answered 413.
func grpcTranscoderPerRoute(r *ir.GRPCRoute, descriptors []byte, maxBody uint32) (*anypb.Any, error) {
	var maxRequestBody *wrapperspb.UInt32Value
	if maxBody > 0 {
		maxRequestBody = wrapperspb.UInt32(maxBody)
	}
	return typedConfig(&transcoderv3.GrpcJsonTranscoder{
		DescriptorSet: &transcoderv3.GrpcJsonTranscoder_ProtoDescriptorBin{ProtoDescriptorBin: descriptors},
		Services:      []string{r.Service},
		PrintOptions: &transcoderv3.GrpcJsonTranscoder_PrintOptions{
			AlwaysPrintPrimitiveFields: true,
			PreserveProtoFieldNames:    false,
		},
		MatchIncomingRequestRoute: true,
		ConvertGrpcStatus:         true,
		AutoMapping:               true,
		MaxRequestBodySize:        maxRequestBody,
	})
}

// serviceDescriptors returns, for each service of the IR, a serialized FileDescriptorSet
// holding only the file that declares it and that file's transitive imports. It checks what
// Envoy checks at load time: the set parses, every import resolves, the service exists.
func serviceDescriptors(sets []ir.ProtoDescriptors) (map[string][]byte, error) {
	out := make(map[string][]byte, len(sets))
	for _, pd := range sets {
		if _, dup := out[pd.Service]; dup {
			return nil, fmt.Errorf("proto descriptors of %q: given twice", pd.Service)
		}
		b, err := pruneDescriptors(pd.Service, pd.FileDescriptorSet)
		if err != nil {
			return nil, fmt.Errorf("proto descriptors of %q: %w", pd.Service, err)
		}
		out[pd.Service] = b
	}
	return out, nil
}

// pruneDescriptors keeps the files service needs, in dependency order (imports first).
func pruneDescriptors(service string, raw []byte) ([]byte, error) {
	set := &descriptorpb.FileDescriptorSet{}
	if err := proto.Unmarshal(raw, set); err != nil {
		return nil, fmt.Errorf("parsing the FileDescriptorSet: %w", err)
	}
	if len(set.GetFile()) == 0 {
		return nil, fmt.Errorf("empty FileDescriptorSet")
	}
	files, err := protodesc.NewFiles(set)
	if err != nil {
		return nil, fmt.Errorf("resolving the FileDescriptorSet: %w", err)
	}
	d, err := files.FindDescriptorByName(protoreflect.FullName(service))
	if err != nil {
		return nil, fmt.Errorf("service %q is not in the descriptor set", service)
	}
	if _, ok := d.(protoreflect.ServiceDescriptor); !ok {
		return nil, fmt.Errorf("%q is a %T, not a service", service, d)
	}
	byName := make(map[string]*descriptorpb.FileDescriptorProto, len(set.GetFile()))
	for _, f := range set.GetFile() {
		byName[f.GetName()] = f
	}
	var keep []*descriptorpb.FileDescriptorProto
	seen := map[string]bool{}
	var visit func(name string)
	visit = func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		f := byName[name]
		deps := slices.Clone(f.GetDependency())
		slices.Sort(deps)
		for _, dep := range deps {
			visit(dep)
		}
		keep = append(keep, f)
	}
	visit(d.ParentFile().Path())
	return proto.MarshalOptions{Deterministic: true}.Marshal(&descriptorpb.FileDescriptorSet{File: keep})
}
