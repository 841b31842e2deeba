package routetable

import (
	"crypto/sha256"
	"fmt"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	grpcjsonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_json_transcoder/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/rpcbridge/rpcbridge/dataplane/grpcjson"
)

var (
	transcoderTypeURL   = "type.googleapis.com/" + string((&grpcjsonv3.GrpcJsonTranscoder{}).ProtoReflect().Descriptor().FullName())
	filterConfigTypeURL = "type.googleapis.com/" + string((&routev3.FilterConfig{}).ProtoReflect().Descriptor().FullName())
)

// transcoders builds the gRPC-JSON transcoders of one table. A transcoder whose configuration
// is byte-for-byte one the previous table had is reused, so descriptors are parsed once per
// configuration, not on every xDS update.
type transcoders struct {
	previous map[[sha256.Size]byte]*grpcjson.Transcoder
	built    map[[sha256.Size]byte]*grpcjson.Transcoder
}

func newTranscoders(previous *Table) *transcoders {
	t := &transcoders{built: map[[sha256.Size]byte]*grpcjson.Transcoder{}}
	if previous != nil {
		t.previous = previous.transcoders
	}
	return t
}

// forRoute returns the transcoder a route runs: its own per-filter config, else its virtual
// host's; nil when neither configures one, it is disabled, or it lists no services (which
// Envoy treats as disabled).
func (t *transcoders) forRoute(route, vhost map[string]*anypb.Any) (*grpcjson.Transcoder, error) {
	typed, ok := route[wellknown.GRPCJSONTranscoder]
	if !ok {
		typed, ok = vhost[wellknown.GRPCJSONTranscoder]
	}
	if !ok {
		return nil, nil
	}
	if typed.GetTypeUrl() == filterConfigTypeURL {
		fc := &routev3.FilterConfig{}
		if err := proto.Unmarshal(typed.GetValue(), fc); err != nil {
			return nil, fmt.Errorf("%s: decode FilterConfig: %w", wellknown.GRPCJSONTranscoder, err)
		}
		if fc.GetDisabled() || fc.GetConfig() == nil {
			return nil, nil
		}
		typed = fc.GetConfig()
	}
	if typed.GetTypeUrl() != transcoderTypeURL {
		return nil, fmt.Errorf("%s: config is %s, want %s", wellknown.GRPCJSONTranscoder, typed.GetTypeUrl(), transcoderTypeURL)
	}
	key := sha256.Sum256(typed.GetValue())
	if tr, ok := t.built[key]; ok {
		return tr, nil
	}
	tr, ok := t.previous[key]
	if !ok {
		cfg := &grpcjsonv3.GrpcJsonTranscoder{}
		if err := proto.Unmarshal(typed.GetValue(), cfg); err != nil {
			return nil, fmt.Errorf("%s: decode: %w", wellknown.GRPCJSONTranscoder, err)
		}
		if len(cfg.GetServices()) == 0 {
			return nil, nil
		}
		if err := cfg.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", wellknown.GRPCJSONTranscoder, err)
		}
		var err error
		if tr, err = grpcjson.New(cfg); err != nil {
			return nil, fmt.Errorf("%s: %w", wellknown.GRPCJSONTranscoder, err)
		}
	}
	t.built[key] = tr
	return tr, nil
}
