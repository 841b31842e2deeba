package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	testgrpc "google.golang.org/grpc/interop/grpc_testing"

	openloop "github.com/rpcbridge/rpcbridge/internal/bench/load"
	consulpeer "github.com/rpcbridge/rpcbridge/internal/testpeers/consul"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/nacosdouble"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
)

// storePeer is a real store the replicas share, which the test can stop and start again.
type storePeer struct {
	// yaml is the store section of rpcbridge.yaml.
	yaml string
	typ  string
	// keepsData is false for a store that comes back empty (a Consul dev agent).
	keepsData bool
	stop      func()
	restart   func()
}

// TestReplicasOnZooKeeperStore: three `serve` replicas on one real ZooKeeper store.
func TestReplicasOnZooKeeperStore(t *testing.T) {
	zk := zookeeper.Start(t)
	runStoreFleet(t, storePeer{typ: "zookeeper",
		yaml: fmt.Sprintf("store:\n  type: zookeeper\n  zookeeper: {servers: [%q], root: /rpcbridge/fleet}\n  rules: true\n", zk.Addr()),
		stop: zk.Stop, restart: zk.Restart, keepsData: true})
}

// TestReplicasOnConsulStore: three `serve` replicas on one real Consul KV store. The dev agent
// keeps its data in memory, so a restart comes back empty: the replicas then converge on what
// the store holds, an upload made after the restart.
func TestReplicasOnConsulStore(t *testing.T) {
	agent := consulpeer.Start(t)
	runStoreFleet(t, storePeer{typ: "consul",
		yaml: fmt.Sprintf("store:\n  type: consul\n  consul: {address: %q, root: rpcbridge/fleet, wait: 5s, requestTimeout: 3s}\n  rules: true\n", agent.Addr()),
		stop: agent.Stop, restart: agent.Restart})
}

// TestReplicasOnNacosStore: three `serve` replicas on the Nacos config service, through the
// official SDK, against the Nacos protocol double (internal/testpeers/nacosdouble) in this test
// process. The gap, stated plainly: no Nacos server can be installed here, so this is the real
// SDK and rpcbridge's real Nacos store against a double of the Nacos 2.x gRPC config API
// (query, publish with casMd5, remove, batch listen, change pushes), not a Nacos server. Unlike
// a server its reads are strongly consistent (a real server may briefly answer a read from its
// dump cache with the previous content; casMd5 is checked against the database either way),
// and it has no cluster, no history and no gray publishing. Its data survives Restart, as a
// server's database does.
func TestReplicasOnNacosStore(t *testing.T) {
	d := nacosdouble.Start(t)
	runStoreFleet(t, storePeer{typ: "nacos",
		yaml: fmt.Sprintf("store:\n  type: nacos\n  nacos: {servers: [%q], group: RPCBRIDGE_FLEET, root: rpcbridge.fleet, requestTimeout: 3s, resync: 2s}\n  rules: true\n", d.Addr()),
		stop: d.Stop, restart: d.Restart, keepsData: true})
}

// runStoreFleet: an upload on A is served by B and C; concurrent uploads to A and B all
// succeed in order or answer 409, with strictly increasing distinct versions, the last one
// served everywhere; the three replicas serve byte-identical xDS resources with equal versions;
// the store killed mid-traffic: every replica keeps serving and stays ready, uploads answer
// 503 with the reason, rpcbridge_store_up is 0; once the store is back an upload on B is
// served by all three.
func runStoreFleet(t *testing.T, peer storePeer) {
	cfg := grpcServiceConfig(startGRPC(t, "store-grpc")) + peer.yaml
	set, err := proto.MarshalOptions{Deterministic: true}.Marshal(descriptorSet(testgrpc.File_grpc_testing_test_proto))
	if err != nil {
		t.Fatal(err)
	}
	descriptors := writeFile(t, t.TempDir(), "testing.pb", string(set))
	rs := []*replica{startReplica(t, "a", cfg), startReplica(t, "b", cfg), startReplica(t, "c", cfg)}
	a, b := rs[0], rs[1]

	if code, out, stderr := runCLI(t, context.Background(), "idl", "push", "grpc-testing", descriptors, "--admin", "http://"+a.admin); code != exitOK {
		t.Fatalf("idl push to a: exit %d %s %s", code, out, stderr)
	}
	for _, r := range rs {
		waitFor(t, "replica "+r.name+" to serve the upload made on a", servesVersion(r, "grpc-testing", 1))
	}

	// Rules pushed to c are served by a and b; writes are compare-and-set.
	rules := writeFile(t, t.TempDir(), "rules.yaml", `rpcRoutes:
  - service: grpc:grpc.testing.TestService
    method: UnaryCall
    http: {method: POST, path: "/v1/unary"}
    body: "*"
`)
	if code, out, stderr := runCLI(t, context.Background(), "rules", "push", rules, "--create", "--admin", "http://"+rs[2].admin); code != exitOK {
		t.Fatalf("rules push to c: exit %d %s %s", code, out, stderr)
	}
	for _, r := range rs {
		waitFor(t, "replica "+r.name+" to serve the store's rule", func() error {
			if _, routes, err := get("http://" + r.admin + "/api/v1/routes"); err != nil || !strings.Contains(routes, "/v1/unary") {
				return fmt.Errorf("no /v1/unary route: %v", err)
			}
			return nil
		})
	}
	if code, out, stderr := runCLI(t, context.Background(), "rules", "push", rules, "--create", "--admin", "http://"+a.admin); code == exitOK || !strings.Contains(out+stderr, "412") {
		t.Errorf("a second --create: exit %d %s%s, want 412", code, out, stderr)
	}
	if code, out, stderr := runCLI(t, context.Background(), "rules", "push", writeFile(t, t.TempDir(), "bad.yaml", "rpcRoutes:\n  - service: grpc:x\n    bogus: 1\n"), "--admin", "http://"+a.admin); code == exitOK || !strings.Contains(out+stderr, ":3") {
		t.Errorf("an invalid rules document: exit %d %s%s, want its line", code, out, stderr)
	}

	// Concurrent uploads of one name to a and b.
	var mu sync.Mutex
	got := map[int64]string{}
	conflicts := 0
	var wg sync.WaitGroup
	for _, r := range rs[:2] {
		wg.Go(func() {
			for range 5 {
				code, body := putIDL(t, r, "grpc-testing", set)
				mu.Lock()
				switch code {
				case http.StatusOK:
					var answer struct{ Version int64 }
					if err := json.Unmarshal([]byte(body), &answer); err != nil {
						t.Errorf("upload answer %s: %v", body, err)
					}
					if prev, dup := got[answer.Version]; dup {
						t.Errorf("version %d given twice (%s and %s)", answer.Version, prev, r.name)
					}
					got[answer.Version] = r.name
				case http.StatusConflict:
					conflicts++
					if !strings.Contains(body, `"conflict"`) {
						t.Errorf("409 without a clear JSON error: %s", body)
					}
				default:
					t.Errorf("upload to %s: %d %s", r.name, code, body)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	top := int64(1)
	for v := range got {
		if v <= 1 {
			t.Errorf("a concurrent upload got version %d, not above the first one", v)
		}
		top = max(top, v)
	}
	t.Logf("concurrent uploads: %d accepted (versions up to %d), %d conflicts", len(got), top, conflicts)
	if len(got) == 0 {
		t.Fatal("no concurrent upload succeeded")
	}
	for _, r := range rs {
		waitFor(t, fmt.Sprintf("replica %s at version %d", r.name, top), servesVersion(r, "grpc-testing", top))
	}

	// Identical inputs, identical xDS.
	waitFor(t, "byte-identical xDS from the three replicas", func() error {
		for _, typ := range []string{resource.ListenerType, resource.ClusterType, resource.RouteType} {
			var first *discoveryv3.DiscoveryResponse
			for _, r := range rs {
				resp, err := fetchXDS(r.xds, typ)
				if err != nil {
					return err
				}
				if len(resp.GetResources()) == 0 {
					return fmt.Errorf("%s: no %s", r.name, typ)
				}
				if first == nil {
					first = resp
					continue
				}
				if resp.GetVersionInfo() != first.GetVersionInfo() {
					return fmt.Errorf("%s: version %q, a has %q", typ, resp.GetVersionInfo(), first.GetVersionInfo())
				}
				if len(resp.GetResources()) != len(first.GetResources()) {
					return fmt.Errorf("%s: %d resources on %s, %d on a", typ, len(resp.GetResources()), r.name, len(first.GetResources()))
				}
				for i, res := range resp.GetResources() {
					if !bytes.Equal(res.GetValue(), first.GetResources()[i].GetValue()) {
						return fmt.Errorf("%s resource %d differs between a and %s", typ, i, r.name)
					}
				}
			}
		}
		return nil
	})

	// The store goes down mid-traffic: fixed-rate REST-to-gRPC calls through a standalone
	// gateway following the three replicas.
	gw := startStandalone(t, "--xds", a.xds+","+b.xds+","+rs[2].xds, "--node-id", "store-gateway")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	defer client.CloseIdleConnections()
	unary := openloop.Target{Name: "rest-to-grpc", Send: func(context.Context, int) error {
		ctx, cancel := context.WithTimeout(context.Background(), giveUp)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+gw.listen+"/v1/unary", strings.NewReader(`{"responseSize": 0}`))
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
		if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(got), "store-grpc") {
			return fmt.Errorf("POST /v1/unary: %d %s %v", resp.StatusCode, got, err)
		}
		return nil
	}}
	waitFor(t, "the gateway to serve the store's rule", func() error { return unary.Send(context.Background(), 0) })
	var done atomic.Int64
	loadCtx, stopLoad := context.WithCancel(context.Background())
	defer stopLoad()
	recorded := make(chan *openloop.Recording, 1)
	go func() {
		rec, _ := openloop.Generate(loadCtx, openloop.Options{Rate: 20, PerTarget: 50_000}, counting([]openloop.Target{unary}, &done))
		recorded <- rec
	}()
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
	endLoad := func() {
		t.Helper()
		stopLoad()
		rec := <-recorded
		counts, first := rec.Errors()
		t.Logf("%d requests through the gateway across the outage; failures %v", len(rec.Samples), counts)
		if first != nil {
			t.Errorf("requests failed during the store outage (%v), first: %v", counts, first)
		}
	}
	progress("traffic before the outage", 10)
	peer.stop()
	for _, r := range rs {
		waitLong(t, "replica "+r.name+" to report the store down", storeUp(r, peer.typ, "0"))
	}
	code, body := putIDL(t, a, "grpc-testing", set)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "store_unavailable") {
		t.Errorf("upload while the store is down: %d %s, want 503 store_unavailable", code, body)
	}
	for _, r := range rs {
		if err := servesVersion(r, "grpc-testing", top)(); err != nil {
			t.Errorf("replica %s during the outage: %v", r.name, err)
		}
		if code, body, _ := get("http://" + r.admin + "/readyz"); code != http.StatusOK {
			t.Errorf("replica %s not ready during the outage: %d %s", r.name, code, body)
		}
		if _, diags, _ := get("http://" + r.admin + "/api/v1/diagnostics"); !strings.Contains(diags, "store.unreachable") {
			t.Errorf("replica %s shows no store.unreachable diagnostic: %.300s", r.name, diags)
		}
	}
	progress("traffic during the outage", 10)
	if !peer.keepsData {
		endLoad() // the store comes back empty: what it holds (nothing) is served then
	}
	peer.restart()
	for _, r := range rs {
		waitLong(t, "replica "+r.name+" to see the store back", storeUp(r, peer.typ, "1"))
	}
	var after int64
	waitLong(t, "an upload to b once the store is back", func() error {
		code, body := putIDL(t, b, "grpc-testing", set)
		if code != http.StatusOK {
			return fmt.Errorf("%d %s", code, body)
		}
		var answer struct{ Version int64 }
		if err := json.Unmarshal([]byte(body), &answer); err != nil {
			return err
		}
		after = answer.Version
		return nil
	})
	if after <= top {
		t.Errorf("the upload after the outage got version %d, not above %d", after, top)
	}
	for _, r := range rs {
		waitLong(t, fmt.Sprintf("replica %s at version %d after the outage", r.name, after), servesVersion(r, "grpc-testing", after))
	}
	if peer.keepsData {
		progress("traffic after the outage", 10)
		endLoad()
	}
}

// putIDL uploads one descriptor set to r's admin API and returns the status and body.
func putIDL(t testing.TB, r *replica, name string, set []byte) (int, string) {
	t.Helper()
	url := fmt.Sprintf("http://%s/api/v1/idl/%s?kind=descriptor-set&filename=testing.pb", r.admin, name)
	req, err := http.NewRequest(http.MethodPut, url, bytes.NewReader(set))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := (&http.Client{Timeout: giveUp}).Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// servesVersion checks that r lists name at version want and routes the gRPC service.
func servesVersion(r *replica, name string, want int64) func() error {
	return func() error {
		code, body, err := get("http://" + r.admin + "/api/v1/idl/" + name)
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("GET idl/%s: %d %v %s", name, code, err, body)
		}
		var e struct{ Version int64 }
		if err := json.Unmarshal([]byte(body), &e); err != nil || e.Version != want {
			return fmt.Errorf("idl/%s at version %d (%v), want %d", name, e.Version, err, want)
		}
		_, routes, err := get("http://" + r.admin + "/api/v1/routes")
		if err != nil || !strings.Contains(routes, "grpc.testing.TestService") {
			return fmt.Errorf("no route of grpc.testing.TestService: %v %.200s", err, routes)
		}
		return nil
	}
}

// storeUp checks r's rpcbridge_store_up{type} series.
func storeUp(r *replica, typ, want string) func() error {
	return func() error {
		_, body, err := get("http://" + r.admin + "/metrics")
		if err != nil {
			return err
		}
		series := fmt.Sprintf("rpcbridge_store_up{type=%q} %s", typ, want)
		for line := range strings.Lines(body) {
			if strings.TrimSpace(line) == series {
				return nil
			}
		}
		return fmt.Errorf("no %s in /metrics", series)
	}
}

// fetchXDS asks the xDS server at addr for every resource of typ (state of the world) and
// returns the first answer.
func fetchXDS(addr, typ string) (*discoveryv3.DiscoveryResponse, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), giveUp/4)
	defer cancel()
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		return nil, err
	}
	req := &discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: "store-fleet-test", Cluster: "envoy"}, TypeUrl: typ}
	if typ == resource.RouteType {
		req.ResourceNames = []string{"rpcbridge-http"}
	}
	if err := stream.Send(req); err != nil {
		return nil, err
	}
	resp, err := stream.Recv()
	if err != nil {
		return nil, fmt.Errorf("%s from %s: %w", typ, addr, err)
	}
	return resp, nil
}

// waitLong is waitFor with a bound of 3 × giveUp, for what follows a store outage: a session
// to re-establish, SDK reconnect backoff, a resync. Never a pass criterion.
func waitLong(t testing.TB, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(3 * giveUp)
	var err error
	for time.Now().Before(deadline) {
		if err = check(); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("gave up waiting for %s: %v", what, err)
}
