package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/controlplane"
	"github.com/rpcbridge/rpcbridge/internal/jwttest"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/testpki"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
)

// TestStockEnvoyDubboThroughGateways: stock Envoy in front of Dubbo. serve (flavor envoy) lists
// one rpcbridge gateway in envoy.dubboGateways; a standalone gateway of node cluster
// "edge-envoys" stands in for the stock Envoy: it receives and executes the Envoy-flavored
// configuration (no Envoy binary can run here; the gateway executes Envoy's route, cluster and
// jwt_authn configuration with Envoy's semantics, see docs/policies.md), so its Dubbo route goes
// to the static cluster rpcbridge-dubbo-gateways. That cluster is a second standalone gateway
// (node cluster rpcbridge-embedded, the Higress flavor), which does the Dubbo hop to the real
// dubbo-go provider. The greeter's JWT policy runs at the edge (no token: 401 at the edge, never
// at the gateway) and again at the gateway, which sees the token because the edge's copy of the
// policy forwards it; the claim header the gateway derives reaches the provider as an attachment.
//
// The edge reaches the gateway over TLS with a client certificate (envoy.dubboGateways.tls:
// an UpstreamTlsContext the edge executes, dataplane/routetable/upstreamtls.go; the gateway's
// listener requires client certificates of the CA), over HTTP/1.1 and over HTTP/2 by ALPN.
//
// Gap: a real Envoy is not available here; what the edge does is what rpcbridge's gateway does
// with the same Envoy resources, and the resources themselves are checked by goldens and
// go-control-plane's validation (controlplane/testdata/translate/dubbo-envoy-gateways*.yaml).
func TestStockEnvoyDubboThroughGateways(t *testing.T) {
	for _, protocol := range []string{"http1", "http2"} {
		t.Run(protocol, func(t *testing.T) { checkStockEnvoyDubbo(t, protocol) })
	}
}

// checkStockEnvoyDubbo runs the stack with the edge speaking protocol to the gateway over TLS.
func checkStockEnvoyDubbo(t *testing.T, protocol string) {
	zk := zookeeper.Start(t)
	dubboprovider.Start(t, dubboprovider.Options{ZooKeeper: zk.Addr(), App: "greeter-edge", Registry: "interface"})
	key := jwttest.NewEC(t, "k1")
	jwks := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(jwks, []byte(jwttest.JWKS(t, key)), 0o600); err != nil {
		t.Fatal(err)
	}
	gatewayAddr := freeAddr(t)
	ca := testpki.New(t)
	gatewayCert, edgeCert := ca.Server(t, "gateway.test", "gateway.test"), ca.Client(t, "edge")
	srv := startServe(t, zookeeperConfig(zk.Addr())+fmt.Sprintf(`policies:
  - name: corp
    services: [%q]
    jwt:
      providers:
        - name: corp
          issuer: https://id.example.com
          jwks: {file: %q}
          claimHeaders: {sub: x-user-sub}
envoy:
  flavor: envoy
  dubboGateways:
    addresses: [%q]
    protocol: %s
    tls: {caFile: %q, certFile: %q, keyFile: %q, serverName: gateway.test}
`, greeterID, jwks, gatewayAddr, protocol, ca.CAFile, edgeCert.CertFile, edgeCert.KeyFile))
	if code, out, stderr := runCLI(t, t.Context(), "idl", "push", "greeter-api", greeterAPI, "--admin", "http://"+srv.admin); code != exitOK {
		t.Fatalf("idl push: exit %d %s %s", code, out, stderr)
	}
	dubboGateway := startStandalone(t, "--xds", srv.xds, "--listen", gatewayAddr, "--node-id", "dubbo-gateway-1",
		"--tls-cert-file", gatewayCert.CertFile, "--tls-key-file", gatewayCert.KeyFile, "--tls-client-ca-file", ca.CAFile)
	edge := startStandalone(t, "--xds", srv.xds, "--node-cluster", "edge-envoys", "--node-id", "edge-1")
	token := jwttest.Sign(t, key, map[string]any{"iss": "https://id.example.com", "sub": "alice", "exp": time.Now().Add(time.Hour).Unix()})
	edgeURL := "http://" + edge.listen + greeterBase

	// The Dubbo routes exist only once the IDL is in: wait for an answer of the provider.
	waitFor(t, "a Dubbo REST call through the edge and the gateway", func() error {
		code, body, err := getWithToken(edgeURL+"sayHello~java.lang.String?name=Ada", token)
		if err != nil || code != http.StatusOK || body != "\"Hello, Ada\"\n" {
			return fmt.Errorf("%d %q %v", code, body, err)
		}
		return nil
	})

	t.Run("the identity crosses both hops", func(t *testing.T) {
		code, body, err := getWithToken(edgeURL+"attachments", token)
		var attachments map[string]string
		if err != nil || code != http.StatusOK || json.Unmarshal([]byte(body), &attachments) != nil {
			t.Fatalf("GET attachments: %d %q %v", code, body, err)
		}
		if attachments["x-user-sub"] != "alice" {
			t.Errorf("attachments %v: want x-user-sub=alice, the claim the gateway re-verified from the forwarded token", attachments)
		}
	})
	t.Run("the edge refuses what it cannot authenticate", func(t *testing.T) {
		if code, body, err := getWithToken(edgeURL+"attachments", ""); err != nil || code != http.StatusUnauthorized || body != "Jwt is missing" {
			t.Errorf("no token: %d %q %v, want 401 Jwt is missing", code, body, err)
		}
		other := jwttest.Sign(t, jwttest.NewEC(t, "k2"), map[string]any{"iss": "https://id.example.com", "sub": "mallory",
			"exp": time.Now().Add(time.Hour).Unix()})
		if code, body, err := getWithToken(edgeURL+"attachments", other); err != nil || code != http.StatusUnauthorized {
			t.Errorf("token of an unknown key: %d %q %v, want 401", code, body, err)
		}
	})
	t.Run("the gateway enforces the policy on its own clients", func(t *testing.T) {
		code, _, _, _, err := served(tlsClient(t, ca, "gateway.test", &edgeCert), "https://"+gatewayAddr+greeterBase+"attachments")
		if err != nil || code != http.StatusUnauthorized {
			t.Errorf("straight to the gateway without a token: %d %v, want 401", code, err)
		}
	})
	t.Run("the gateway refuses clients without a certificate", func(t *testing.T) {
		if _, _, _, _, err := served(tlsClient(t, ca, "gateway.test", nil), "https://"+gatewayAddr+greeterBase+"attachments"); err == nil {
			t.Errorf("a client without a certificate got an answer from the gateway")
		}
	})
	t.Run("each hop counted its requests", func(t *testing.T) {
		series := func(cluster string, code int) string {
			return fmt.Sprintf("rpcbridge_gateway_requests_total{cluster=%q,code=%q}", cluster, strconv.Itoa(code))
		}
		edgeOK, err := edge.metric(series(controlplane.DubboGatewaysCluster, http.StatusOK))
		if err != nil || edgeOK < 2 {
			t.Errorf("edge: %v requests to the gateways' cluster answered 200 (%v), want at least 2", edgeOK, err)
		}
		if _, err := edge.metric(series(greeterID, http.StatusOK)); err == nil {
			t.Errorf("the edge called the Dubbo cluster itself")
		}
		gatewayOK, err := dubboGateway.metric(series(greeterID, http.StatusOK))
		if err != nil || gatewayOK < 2 {
			t.Errorf("gateway: %v Dubbo calls answered 200 (%v), want at least 2", gatewayOK, err)
		}
	})
}
