package controlplane

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	transcoderv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_json_transcoder/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// rpcGateway combines the golden gRPC and Dubbo inputs into one gateway with template routes,
// gRPC transcoding and HTTP-to-Dubbo routes.
func rpcGateway(t *testing.T) ir.Gateway {
	t.Helper()
	var g ir.Gateway
	for _, name := range []string{"grpc-transcoding", "dubbo-higress"} {
		part := readTranslateInput(t, name)
		g.Clusters = append(g.Clusters, part.Clusters...)
		g.Routes = append(g.Routes, part.Routes...)
		g.JavaClasses = append(g.JavaClasses, part.JavaClasses...)
	}
	set, err := os.ReadFile(filepath.Join("testdata", "translate", "shelf.binpb"))
	if err != nil {
		t.Fatal(err)
	}
	g.ProtoDescriptors = []ir.ProtoDescriptors{{Service: "example.shelf.v1.Shelves", FileDescriptorSet: set}}
	return g
}

// TestRPCGatewayValidatesInBothFlavors translates a gateway with every kind of RPC route for
// both flavors and checks the result: it validates, every route's cluster exists, and every
// transcoder config's descriptor set declares the services it lists.
func TestRPCGatewayValidatesInBothFlavors(t *testing.T) {
	g := rpcGateway(t)
	for _, flavor := range []Flavor{FlavorEnvoy, FlavorHigress} {
		res, err := Translate(g, Options{Flavor: flavor})
		if err != nil {
			t.Fatalf("%s: %v", flavor, err)
		}
		if err := Validate(res); err != nil {
			t.Fatalf("%s: %v", flavor, err)
		}
		if _, err := newSnapshot(res); err != nil {
			t.Fatalf("%s: %v", flavor, err)
		}
		clusters := map[string]bool{}
		for _, c := range res.Clusters {
			clusters[c.GetName()] = true
		}
		transcoded := 0
		for _, rc := range res.Routes {
			for _, vh := range rc.GetVirtualHosts() {
				for _, r := range vh.GetRoutes() {
					if !clusters[r.GetRoute().GetCluster()] {
						t.Errorf("%s: route %q targets missing cluster %q", flavor, r.GetName(), r.GetRoute().GetCluster())
					}
					cfg := r.GetTypedPerFilterConfig()[wellknown.GRPCJSONTranscoder]
					if cfg == nil {
						continue
					}
					transcoded++
					checkTranscoderServices(t, cfg.GetValue())
				}
			}
		}
		if transcoded != 2 {
			t.Errorf("%s: %d routes with a transcoder config, want 2", flavor, transcoded)
		}
		wantDiags := map[Flavor]int{FlavorEnvoy: 2, FlavorHigress: 0}[flavor]
		if len(res.Diagnostics) != wantDiags {
			t.Errorf("%s: %d diagnostics, want %d: %v", flavor, len(res.Diagnostics), wantDiags, res.Diagnostics)
		}
	}
}

// checkTranscoderServices checks that a GrpcJsonTranscoder's descriptor set resolves and
// declares its services.
func checkTranscoderServices(t *testing.T, raw []byte) {
	t.Helper()
	cfg := &transcoderv3.GrpcJsonTranscoder{}
	if err := proto.Unmarshal(raw, cfg); err != nil {
		t.Fatal(err)
	}
	set := &descriptorpb.FileDescriptorSet{}
	if err := proto.Unmarshal(cfg.GetProtoDescriptorBin(), set); err != nil {
		t.Fatal(err)
	}
	files, err := protodesc.NewFiles(set)
	if err != nil {
		t.Fatalf("descriptor set does not resolve: %v", err)
	}
	if len(cfg.GetServices()) == 0 {
		t.Fatal("transcoder config lists no service")
	}
	for _, svc := range cfg.GetServices() {
		if _, err := files.FindDescriptorByName(protoreflectName(svc)); err != nil {
			t.Errorf("service %q not in its descriptor set", svc)
		}
	}
}

// TestSotWEndpointsSendOnlyWhatChanged: a state-of-the-world client subscribed to several load
// assignments gets only the changed one after an endpoint change.
func TestSotWEndpointsSendOnlyWhatChanged(t *testing.T) {
	srv := startServer(t)
	g := ir.Gateway{Clusters: []ir.Cluster{httpCluster("http:a", 2, 8080), httpCluster("http:b", 2, 8080), httpCluster("http:c", 2, 8080)}}
	if err := srv.Update(g); err != nil {
		t.Fatal(err)
	}
	names := []string{"http:a", "http:b", "http:c"}
	c := srv.openSotW(t, &discoveryv3.DiscoveryRequest{Node: testNode("sotw-eds"), TypeUrl: resource.EndpointType, ResourceNames: names})
	first := c.next()
	if len(first.GetResources()) != 3 {
		t.Fatalf("first EDS response has %d resources, want 3", len(first.GetResources()))
	}
	c.request(resource.EndpointType, first, names...)
	g.Clusters[2].Endpoints[0].Port = 9999
	if err := srv.Update(g); err != nil {
		t.Fatal(err)
	}
	changed := c.next()
	var got []string
	for _, a := range changed.GetResources() {
		cla := &endpointv3.ClusterLoadAssignment{}
		if err := a.UnmarshalTo(cla); err != nil {
			t.Fatal(err)
		}
		got = append(got, cla.GetClusterName())
	}
	if !slices.Equal(got, []string{"http:c"}) {
		t.Fatalf("after changing http:c the EDS response holds %v", got)
	}
}

// protoreflectName converts a service name for descriptor lookups.
func protoreflectName(s string) protoreflect.FullName { return protoreflect.FullName(s) }
