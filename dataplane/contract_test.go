package dataplane_test

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	xdstypev3 "github.com/cncf/xds/go/xds/type/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/dataplane"
	"github.com/rpcbridge/rpcbridge/dataplane/internal/xdsfixture"
)

// TestWithholdsRouteOfNewerContract plays a control plane of a later rpcbridge version during
// an upgrade: it sends a REST-to-Dubbo route whose contract message is
// rpcbridge.gateway.v2.DubboRoute, next to a plain route. The gateway must not misread it (as a
// plain HTTP route to the Dubbo cluster, whose endpoint here is an HTTP echo server that would
// answer 200) nor let the catch-all route take its requests: it answers 503 route_unavailable,
// logs the reason once (not again on the next xDS update), keeps serving the other route, and
// does not reject the configuration.
func TestWithholdsRouteOfNewerContract(t *testing.T) {
	cp := startControlPlane(t)
	dubboAsHTTP := startUpstream(t, "dubbo-cluster-spoken-to-as-http")
	web := startUpstream(t, "web")
	v2, err := anypb.New(&xdstypev3.TypedStruct{
		TypeUrl: "type.googleapis.com/rpcbridge.gateway.v2.DubboRoute",
		Value: &structpb.Struct{Fields: map[string]*structpb.Value{
			"interface": structpb.NewStringValue("com.foo.Users"), "method": structpb.NewStringValue("get"),
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ls, rcs := basicConfig(
		xdsfixture.PrefixRoute("/users/", "dubbo", xdsfixture.TypedMetadata(gatewayv1.DubboRouteKey, v2)),
		xdsfixture.PrefixRoute("/", "web"))
	clusters := []*clusterv3.Cluster{xdsfixture.Cluster("dubbo", "dubbo", false), xdsfixture.Cluster("web", "web", false)}
	cp.push(ls, rcs, clusters, []*endpointv3.ClusterLoadAssignment{
		xdsfixture.Assignment("dubbo", dubboAsHTTP), xdsfixture.Assignment("web", web)})

	logs := &syncBuffer{}
	gw := runGateway(t, dataplane.Options{XDSAddress: cp.addr, NodeID: nodeID, NodeCluster: "test",
		ListenAddress: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(logs, nil))})
	waitFor(t, gw, "the plain route", "GET", "/index.html", fromServer("web"))

	r, err := do(t, gw, "GET", "/users/7", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.code != http.StatusServiceUnavailable || r.error.Error.Status != dataplane.StatusRouteUnavailable ||
		!strings.Contains(r.error.Error.Message, "rpcbridge.gateway.v2.DubboRoute") {
		t.Fatalf("GET /users/7 = %d %s, want 503 %s naming the contract version", r.code, r.raw, dataplane.StatusRouteUnavailable)
	}

	// Another update (an endpoint change) rebuilds the table: the route stays withheld and is not
	// logged again.
	cp.push(ls, rcs, clusters, []*endpointv3.ClusterLoadAssignment{
		xdsfixture.Assignment("dubbo", dubboAsHTTP), xdsfixture.Assignment("web", web, startUpstream(t, "web-2"))})
	waitFor(t, gw, "the new endpoint", "GET", "/index.html", fromServer("web-2"))
	if r, _ := do(t, gw, "GET", "/users/7", nil); r.code != http.StatusServiceUnavailable {
		t.Errorf("after the update GET /users/7 = %d %s", r.code, r.raw)
	}
	logged := logs.String()
	if n := strings.Count(logged, "route withheld"); n != 1 || !strings.Contains(logged, "rpcbridge.gateway.v2.DubboRoute") ||
		!strings.Contains(logged, "upgrade the gateway") {
		t.Errorf("logged %d \"route withheld\" lines, want 1 naming the version and what to upgrade:\n%s", n, logged)
	}
	if n := len(cp.nacked()); n != 0 {
		t.Errorf("the gateway NACKed %d updates; a route it does not read must not reject the configuration", n)
	}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if !slices.Contains(cp.features, gatewayv1.ClientFeature) {
		t.Errorf("node client_features %v, want %q: the gateway announces the contract version it reads", cp.features, gatewayv1.ClientFeature)
	}
}
