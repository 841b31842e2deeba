package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	testgrpc "google.golang.org/grpc/interop/grpc_testing"

	openloop "github.com/rpcbridge/rpcbridge/internal/bench/load"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
)

// fleetConfig is the configuration every replica shares: a static registry with a real grpc-go
// server and the real dubbo-go provider (which registers into ZooKeeper, but the replicas know it
// from the static list only).
func fleetConfig(grpcPort string, dubboPort int) string {
	return grpcServiceConfig(grpcPort) + fmt.Sprintf(`        - name: %s
          protocol: dubbo
          interface: %s
          version: %s
          endpoints:
            - {address: 127.0.0.1, port: %d}
`, dubboprovider.Interface, dubboprovider.Interface, dubboprovider.Version, dubboPort)
}

// fleetRule is a route rule added to the configuration while the gateway runs: a GET route for
// the other sayHello overload, which leaves the routes of the traffic alone.
var fleetRule = fmt.Sprintf(`rpcRoutes:
  - service: %q
    method: sayHello
    paramTypes: [java.lang.String, int]
    http: {method: GET, path: "/hello/{name}"}
    params: [{arg: name, from: path}, {arg: times, from: query}]
`, greeterID)

// pushFleetIDL uploads the gRPC descriptors and the Dubbo provider's Java API to a replica.
func pushFleetIDL(t *testing.T, r *replica, descriptors string) {
	t.Helper()
	for _, args := range [][]string{{"grpc-testing", descriptors}, {"greeter-api", greeterAPI}} {
		cmd := append([]string{"idl", "push"}, args...)
		if code, out, stderr := runCLI(t, context.Background(), append(cmd, "--admin", "http://"+r.admin)...); code != exitOK {
			t.Fatalf("idl push %s to replica %s: exit %d %s %s", args[0], r.name, code, out, stderr)
		}
	}
}

// fleetCalls are the two calls of the traffic: REST to gRPC and REST to Dubbo.
func fleetCalls(client *http.Client, gw string) []openloop.Target {
	call := func(path, body, want string) func(context.Context, int) error {
		return func(context.Context, int) error {
			// Not the load's context: requests in flight when the load stops must finish.
			ctx, cancel := context.WithTimeout(context.Background(), giveUp)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, gw+path, strings.NewReader(body))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(got), want) {
				return fmt.Errorf("POST %s: %d %s %v", path, resp.StatusCode, got, err)
			}
			return nil
		}
	}
	return []openloop.Target{
		{Name: "rest-to-grpc", Send: call("/grpc.testing.TestService/UnaryCall", `{"responseSize": 0}`, `"hostname":"fleet-grpc"`)},
		{Name: "rest-to-dubbo", Send: call(greeterBase+"sayHello~java.lang.String", `{"name":"Ada"}`, `"Hello, Ada"`)},
	}
}

// counting wraps targets so that done counts the requests that have completed.
func counting(targets []openloop.Target, done *atomic.Int64) []openloop.Target {
	out := make([]openloop.Target, len(targets))
	for i, tg := range targets {
		out[i] = openloop.Target{Name: tg.Name, Send: func(ctx context.Context, seq int) error {
			defer done.Add(1)
			return tg.Send(ctx, seq)
		}}
	}
	return out
}

// TestGatewayFailsOverBetweenReplicas: a standalone `rpcbridge gateway` follows two `serve`
// replicas with identical configuration (a static registry, a real grpc-go server, the real
// dubbo-go provider, the same IDL pushed to both) while fixed-rate REST-to-gRPC and
// REST-to-Dubbo traffic runs through it. The replica it follows is killed: it moves to the
// other and holds the same versions (no resource changed). Both are killed: it keeps serving
// its last configuration. One comes back: it reconnects and follows a configuration change
// made there. Not one request fails.
func TestGatewayFailsOverBetweenReplicas(t *testing.T) {
	zk := zookeeper.Start(t)
	provider := dubboprovider.Start(t, dubboprovider.Options{ZooKeeper: zk.Addr(), App: "fleet-provider", Registry: "interface"})
	cfg := fleetConfig(startGRPC(t, "fleet-grpc"), provider.Port())
	set, err := proto.MarshalOptions{Deterministic: true}.Marshal(descriptorSet(testgrpc.File_grpc_testing_test_proto))
	if err != nil {
		t.Fatal(err)
	}
	descriptors := writeFile(t, t.TempDir(), "testing.pb", string(set))
	a, b := startReplica(t, "a", cfg), startReplica(t, "b", cfg)
	for _, r := range []*replica{a, b} {
		pushFleetIDL(t, r, descriptors)
	}
	// The replicas compute the same routes (and so, translation being a pure function, the
	// same xDS resources with the same content-derived versions).
	waitFor(t, "both replicas serving the same routes", func() error {
		_, routesA, errA := get("http://" + a.admin + "/api/v1/routes")
		_, routesB, errB := get("http://" + b.admin + "/api/v1/routes")
		switch {
		case errA != nil || errB != nil:
			return fmt.Errorf("%v %v", errA, errB)
		case !strings.Contains(routesA, "sayHello~java.lang.String") || !strings.Contains(routesA, "/grpc.testing.TestService/UnaryCall"):
			return fmt.Errorf("replica a lacks the routes: %.300s", routesA)
		case routesA != routesB:
			return fmt.Errorf("the replicas' routes differ")
		}
		return nil
	})

	gw := startStandalone(t, "--xds", a.xds+","+b.xds, "--node-id", "fleet-gateway-1")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()
	calls := fleetCalls(client, "http://"+gw.listen)
	waitFor(t, "the gateway to serve both kinds of call", func() error {
		for _, c := range calls {
			if err := c.Send(context.Background(), 0); err != nil {
				return err
			}
		}
		return nil
	})
	waitFor(t, "the gateway to follow replica a", gw.connectedTo(a.xds, a.xds, b.xds))
	if code, body, _ := get("http://" + gw.admin + "/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz = %d %s", code, body)
	}
	versions := func() map[string]string {
		t.Helper()
		v, err := gw.metrics("rpcbridge_gateway_xds_version_hash")
		if err != nil || len(v) != 4 {
			t.Fatalf("version hashes %v %v", v, err)
		}
		changed, err := gw.metrics("rpcbridge_gateway_xds_resources_changed_total")
		if err != nil {
			t.Fatal(err)
		}
		maps.Copy(v, changed)
		return v
	}
	before := versions()

	var done atomic.Int64
	ctx, stopLoad := context.WithCancel(context.Background())
	defer stopLoad()
	recorded := make(chan *openloop.Recording, 1)
	go func() {
		rec, _ := openloop.Generate(ctx, openloop.Options{Rate: 40, PerTarget: 50_000}, counting(calls, &done))
		recorded <- rec
	}()
	// progress waits until n more requests have completed: the traffic overlaps each phase.
	progress := func(what string, n int64) {
		t.Helper()
		target := done.Load() + n
		waitFor(t, what, func() error {
			if got := done.Load(); got < target {
				return fmt.Errorf("%d of %d requests completed", got, target)
			}
			return nil
		})
	}
	progress("traffic before the kill", 20)

	a.kill()
	waitFor(t, "the gateway to move to replica b", gw.connectedTo(b.xds, a.xds, b.xds))
	progress("traffic after the failover", 40)
	if after := versions(); !maps.Equal(after, before) {
		t.Errorf("moving to an identical replica changed the configuration:\nbefore %v\nafter  %v", before, after)
	}

	b.kill()
	waitFor(t, "the gateway to notice that no replica is left", gw.connectedTo("", a.xds, b.xds))
	progress("traffic with no control plane", 40)
	if code, body, _ := get("http://" + gw.admin + "/readyz"); code != http.StatusOK {
		t.Errorf("without a control plane the gateway must stay ready with its last configuration: /readyz = %d %s", code, body)
	}
	if after := versions(); !maps.Equal(after, before) {
		t.Errorf("losing every replica changed the configuration:\nbefore %v\nafter  %v", before, after)
	}

	a.start()
	waitFor(t, "the gateway to reconnect to replica a", gw.connectedTo(a.xds, a.xds, b.xds))
	progress("traffic after the reconnection", 40)
	if after := versions(); !maps.Equal(after, before) {
		t.Errorf("reconnecting to a restarted identical replica changed the configuration:\nbefore %v\nafter  %v", before, after)
	}
	a.rewrite(a.cfgTemplate + fleetRule)
	waitFor(t, "the restarted replica's new rule through the gateway", func() error {
		code, body, err := get("http://" + gw.listen + "/hello/Bob?times=2")
		if err != nil || code != http.StatusOK || body != "\"Hello, Bob Hello, Bob\"\n" {
			return fmt.Errorf("GET /hello/Bob?times=2 = %d %q %v", code, body, err)
		}
		return nil
	})
	progress("traffic after the change", 20)

	stopLoad()
	rec := <-recorded
	counts, first := rec.Errors()
	t.Logf("%d requests at %v intervals; failures per target %v", len(rec.Samples), rec.Interval, counts)
	if first != nil {
		t.Fatalf("requests failed (per target %v), first: %v", counts, first)
	}

	if code := gw.stop(); code != exitOK {
		t.Fatalf("gateway exit code %d after SIGTERM-like cancel, want 0", code)
	}
	// The log tells the same story: a, then b, then a again.
	var followed []string
	for _, m := range regexp.MustCompile(`msg="xds connected"[^\n]* server=(\S+)`).FindAllStringSubmatch(gw.stderr.String(), -1) {
		followed = append(followed, m[1])
	}
	if want := []string{a.xds, b.xds, a.xds}; !slices.Equal(followed, want) {
		t.Errorf("the gateway connected to %v, want %v", followed, want)
	}
	if !strings.Contains(gw.stderr.String(), "gateway draining") {
		t.Error("the gateway did not log its drain")
	}
}

// TestGatewayCommandLine: bad --xds lists are command-line errors (exit 2) that name the flag.
func TestGatewayCommandLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--xds", "10.0.0.1"}, `--xds "10.0.0.1": want HOST:PORT`},
		{[]string{"--xds", "10.0.0.1:0"}, `port must be 1..65535`},
		{[]string{"--xds", "a:1,a:1"}, `--xds "a:1": listed twice`},
		{[]string{"--drain-timeout", "0s"}, `--drain-timeout 0s: must be positive`},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // ends a gateway that started by mistake
		code, _, stderr := runCLI(t, ctx, append([]string{"gateway"}, tc.args...)...)
		cancel()
		if code != exitConfig || !strings.Contains(stderr, tc.want) {
			t.Errorf("gateway %v: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, exitConfig, tc.want)
		}
	}
}

// TestGatewayNotReadyBeforeItsConfiguration: a standalone gateway that has never heard from a
// control plane is alive but not ready, says why, and still stops cleanly.
func TestGatewayNotReadyBeforeItsConfiguration(t *testing.T) {
	gw := startStandalone(t, "--xds", freeAddr(t)+","+freeAddr(t))
	if code, body, err := get("http://" + gw.admin + "/healthz"); err != nil || code != http.StatusOK {
		t.Fatalf("/healthz = %d %s %v", code, body, err)
	}
	code, body, err := get("http://" + gw.admin + "/readyz")
	if err != nil || code != http.StatusServiceUnavailable || !strings.Contains(body, "waiting for listener rpcbridge-http") {
		t.Fatalf("/readyz = %d %s %v; want 503 naming what it waits for", code, body, err)
	}
	if code := gw.stop(); code != exitOK {
		t.Fatalf("exit code %d, want 0", code)
	}
}
