package routetable_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	grpcjsonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_json_transcoder/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/rpcbridge/rpcbridge/dataplane/internal/bookstore"
	"github.com/rpcbridge/rpcbridge/dataplane/internal/xdsfixture"
	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
)

// transcoderAny packs a bookstore GrpcJsonTranscoder config (services may be overridden).
func transcoderAny(t *testing.T, descriptor []byte, services ...string) *anypb.Any {
	t.Helper()
	if services == nil {
		services = []string{bookstore.Service}
	}
	a, err := anypb.New(&grpcjsonv3.GrpcJsonTranscoder{
		DescriptorSet: &grpcjsonv3.GrpcJsonTranscoder_ProtoDescriptorBin{ProtoDescriptorBin: descriptor},
		Services:      services, MatchIncomingRequestRoute: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// buildWith builds a table whose routes carry the given per-filter configs (route level) and
// whose virtual host carries vhost (nil for none).
func buildWith(t *testing.T, previous *routetable.Table, vhost *anypb.Any, perRoute ...*anypb.Any) (*routetable.Table, error) {
	t.Helper()
	var routes []*routev3.Route
	for i, typed := range perRoute {
		r := xdsfixture.PathRoute("/r"+string(rune('0'+i)), "c")
		if typed != nil {
			r.TypedPerFilterConfig = map[string]*anypb.Any{wellknown.GRPCJSONTranscoder: typed}
		}
		routes = append(routes, r)
	}
	vh := xdsfixture.VirtualHost("vh", []string{"*"}, routes...)
	if vhost != nil {
		vh.TypedPerFilterConfig = map[string]*anypb.Any{wellknown.GRPCJSONTranscoder: vhost}
	}
	res := resources(nil, []*routev3.RouteConfiguration{xdsfixture.RouteConfig(listenerName, vh)}, nil, nil)
	res.Listeners[listenerName] = xdsfixture.Listener(listenerName, listenerName)
	return routetable.BuildReusing(res, listenerName, previous)
}

func routeAt(t *testing.T, table *routetable.Table, i int) *routetable.Route {
	t.Helper()
	r := table.Match(httptest.NewRequest("GET", "/r"+string(rune('0'+i)), nil))
	if r == nil {
		t.Fatalf("route %d not found", i)
	}
	return r
}

// TestTranscoderConfigs covers decoding of the per-route transcoder: route and virtual host
// level, FilterConfig wrappers, disabled configs, reuse across builds, and bad descriptors.
func TestTranscoderConfigs(t *testing.T) {
	bin, err := proto.Marshal(bookstore.MustDescriptors(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg := transcoderAny(t, bin)
	disabled, _ := anypb.New(&routev3.FilterConfig{Config: cfg, Disabled: true})
	wrapped, _ := anypb.New(&routev3.FilterConfig{Config: cfg})
	noServices := transcoderAny(t, bin, []string{}...)

	first, err := buildWith(t, nil, nil, cfg, cfg, nil, disabled, wrapped, noServices)
	if err != nil {
		t.Fatal(err)
	}
	tr := routeAt(t, first, 0).Transcoder
	if tr == nil {
		t.Fatal("route 0 has no transcoder")
	}
	if routeAt(t, first, 1).Transcoder != tr || routeAt(t, first, 4).Transcoder != tr {
		t.Errorf("equal configs built different transcoders")
	}
	for _, i := range []int{2, 3, 5} {
		if routeAt(t, first, i).Transcoder != nil {
			t.Errorf("route %d (no, disabled or service-less config) has a transcoder", i)
		}
	}
	if b, _, ok := tr.Match("GET", "/v1/shelves/1"); !ok || b.Method.Name() != "GetShelf" {
		t.Errorf("transcoder does not match GET /v1/shelves/1")
	}

	second, err := buildWith(t, first, cfg, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if routeAt(t, second, 0).Transcoder != tr {
		t.Errorf("rebuilding with an unchanged config did not reuse the transcoder")
	}
	if routeAt(t, second, 1).Transcoder != tr {
		t.Errorf("the virtual host's config does not apply to a route without its own")
	}

	for name, bad := range map[string]*anypb.Any{
		"garbage descriptor": transcoderAny(t, []byte("garbage")),
		"unknown service":    transcoderAny(t, bin, "bookstore.v1.Nope"),
		"wrong type":         wrappedWrongType(t),
	} {
		if _, err := buildWith(t, first, nil, bad); err == nil || !strings.Contains(err.Error(), wellknown.GRPCJSONTranscoder) {
			t.Errorf("%s: Build error %v, want a rejection naming the filter", name, err)
		}
	}
}

func wrappedWrongType(t *testing.T) *anypb.Any {
	t.Helper()
	a, err := anypb.New(&routev3.Route{Name: "not a transcoder"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}
