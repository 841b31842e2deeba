package controlplane

import (
	"net/http"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	apikeyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// testDigest is the SHA-256 of "initech-key-0123456789".
const testDigest = "aa67d9f88465b85ef12a2f72059e12da6e822995d254d9a56552dec64036eb70"

// apiKeyGateway has one HTTP route whose API keys are credentials; hashed adds a digest.
func apiKeyGateway(hashed bool) ir.Gateway {
	creds := []ir.APIKeyCredential{{Client: "acme", Key: "acme-key-0123456789"}}
	if hashed {
		creds = append(creds, ir.APIKeyCredential{Client: "initech", Digest: testDigest})
	}
	return ir.Gateway{
		Clusters: []ir.Cluster{{Name: "http:a", Protocol: ir.UpstreamHTTP1, Endpoints: []ir.Endpoint{{Address: "10.0.0.1", Port: 80, Weight: 1, Healthy: true}}}},
		Routes: []ir.Route{{Name: "keys", Match: ir.Match{PathPrefix: "/"}, Cluster: "http:a", Policy: &ir.EdgePolicy{Name: "keys",
			APIKey: &ir.APIKeyAuth{Sources: []ir.APIKeySource{{Header: "x-api-key"}}, Credentials: creds}}}},
	}
}

// fetchHTTPRoute is the route "keys" and the connection manager's filters that nodeCluster gets.
func fetchHTTPRoute(t *testing.T, srv *testServer, nodeCluster string) (*routev3.Route, []*hcmv3.HttpFilter) {
	t.Helper()
	rc := &routev3.RouteConfiguration{}
	resp := sotwFetch(t, srv, nodeCluster, resource.RouteType, gatewayv1.HTTPListener)
	if len(resp.GetResources()) != 1 || resp.GetResources()[0].UnmarshalTo(rc) != nil {
		t.Fatalf("%s: route configurations %v", nodeCluster, resp.GetResources())
	}
	lis := &listenerv3.Listener{}
	resp = sotwFetch(t, srv, nodeCluster, resource.ListenerType, gatewayv1.HTTPListener)
	if len(resp.GetResources()) != 1 || resp.GetResources()[0].UnmarshalTo(lis) != nil {
		t.Fatalf("%s: listeners %v", nodeCluster, resp.GetResources())
	}
	hcm := &hcmv3.HttpConnectionManager{}
	if err := lis.GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(hcm); err != nil {
		t.Fatal(err)
	}
	return rc.GetVirtualHosts()[0].GetRoutes()[0], hcm.GetHttpFilters()
}

// TestAPIKeyDigestsPerNodeCluster: from one Update with a hashed key, whatever the configured
// flavor, rpcbridge's gateways (the embedded node cluster) get the route with the contract's
// digest filter (the digests as keys, no api_key_auth config, the filter not optional), and
// every other node cluster (Envoy, Higress) the route withheld (direct 503): never the digest
// where a key is compared.
func TestAPIKeyDigestsPerNodeCluster(t *testing.T) {
	for _, flavor := range []Flavor{FlavorEnvoy, FlavorHigress} {
		t.Run(string(flavor), func(t *testing.T) {
			srv := startServerWith(t, ServerOptions{Flavor: flavor})
			if err := srv.Update(apiKeyGateway(true)); err != nil {
				t.Fatal(err)
			}
			route, filters := fetchHTTPRoute(t, srv, gatewayv1.EmbeddedNodeCluster)
			if route.GetTypedPerFilterConfig()[apiKeyAuthFilter] != nil {
				t.Error("rpcbridge gateways: the hashed route has an api_key_auth config, which an unaware gateway would run")
			}
			per := &apikeyv3.ApiKeyAuthPerRoute{}
			if err := route.GetTypedPerFilterConfig()[gatewayv1.APIKeyDigestAuthFilter].UnmarshalTo(per); err != nil {
				t.Fatalf("rpcbridge gateways: no digest filter config: %v", err)
			}
			if len(per.GetCredentials()) != 2 || per.GetCredentials()[1].GetKey() != testDigest || per.GetCredentials()[0].GetKey() == "acme-key-0123456789" {
				t.Errorf("rpcbridge gateways: credentials %v, want both as digests", per.GetCredentials())
			}
			found := false
			for _, f := range filters {
				if f.GetName() == gatewayv1.APIKeyDigestAuthFilter {
					found = true
					if f.GetIsOptional() || !f.GetDisabled() {
						t.Errorf("digest filter: is_optional %v disabled %v, want false, true", f.GetIsOptional(), f.GetDisabled())
					}
				}
			}
			if !found {
				t.Error("rpcbridge gateways: the connection manager has no digest filter")
			}

			route, filters = fetchHTTPRoute(t, srv, "edge-envoys")
			if route.GetDirectResponse().GetStatus() != http.StatusServiceUnavailable || len(route.GetTypedPerFilterConfig()) != 0 {
				t.Errorf("Envoy: hashed route not withheld: %v", route)
			}
			for _, f := range filters {
				if f.GetName() == gatewayv1.APIKeyDigestAuthFilter {
					t.Error("Envoy: the connection manager has the digest filter")
				}
			}
		})
	}
}

// TestAPIKeyPlainSharesSnapshot: without a hashed key, rpcbridge's gateways and Envoys of the
// same flavor get one snapshot value (the output of the existing flavors is unchanged).
func TestAPIKeyPlainSharesSnapshot(t *testing.T) {
	srv := startServerWith(t, ServerOptions{Flavor: FlavorHigress})
	if err := srv.Update(apiKeyGateway(false)); err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	shared := srv.current[target{FlavorHigress, true}] == srv.current[target{FlavorHigress, false}]
	srv.mu.Unlock()
	if !shared {
		t.Error("plaintext keys: rpcbridge gateways and Higress got different snapshots")
	}
	if err := srv.Update(apiKeyGateway(true)); err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	shared = srv.current[target{FlavorHigress, true}] == srv.current[target{FlavorHigress, false}]
	srv.mu.Unlock()
	if shared {
		t.Error("hashed keys: rpcbridge gateways and Higress share a snapshot")
	}
}
