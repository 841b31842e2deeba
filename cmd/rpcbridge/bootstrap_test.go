package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"google.golang.org/protobuf/encoding/protojson"
)

// TestBootstrapListsEveryReplica: --xds-address repeated and comma-separated puts every replica,
// in order, into the one xDS cluster, which Envoy then health-checks; a bad entry is exit 2.
func TestBootstrapListsEveryReplica(t *testing.T) {
	code, out, stderr := runCLI(t, context.Background(), "bootstrap", "--node-id", "envoy-1", "--format", "json",
		"--xds-address", "10.0.0.1:18000,10.0.0.2:18000", "--xds-address", "cp-3.internal:18001")
	if code != exitOK {
		t.Fatalf("bootstrap exit %d: %s", code, stderr)
	}
	var b bootstrapv3.Bootstrap
	if err := protojson.Unmarshal([]byte(out), &b); err != nil {
		t.Fatalf("bootstrap does not decode: %v", err)
	}
	xds := b.GetStaticResources().GetClusters()[0]
	var got []string
	for _, lb := range xds.GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints() {
		sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
		got = append(got, fmt.Sprintf("%s:%d", sa.GetAddress(), sa.GetPortValue()))
	}
	if want := []string{"10.0.0.1:18000", "10.0.0.2:18000", "cp-3.internal:18001"}; !slices.Equal(got, want) {
		t.Errorf("xDS endpoints %v, want %v", got, want)
	}
	if xds.GetType() != clusterv3.Cluster_STRICT_DNS || len(xds.GetHealthChecks()) != 1 || len(b.GetDynamicResources().GetAdsConfig().GetGrpcServices()) != 1 {
		t.Errorf("want one health-checked STRICT_DNS cluster behind one ADS gRPC service:\n%s", out)
	}
	for _, bad := range []string{"10.0.0.1", "10.0.0.1:18000,10.0.0.1:18000", ":18000"} {
		if code, _, stderr := runCLI(t, context.Background(), "bootstrap", "--node-id", "e", "--xds-address", bad); code != exitConfig || !strings.Contains(stderr, "--xds-address") {
			t.Errorf("--xds-address %s: exit %d, stderr %q; want exit %d naming the flag", bad, code, stderr, exitConfig)
		}
	}
}
