package dataplane_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/bridge"
	"github.com/rpcbridge/rpcbridge/controlplane"
	"github.com/rpcbridge/rpcbridge/dataplane"
	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/idl/java"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
	"github.com/rpcbridge/rpcbridge/internal/yamltime"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/registrytest"
	zkregistry "github.com/rpcbridge/rpcbridge/registries/zookeeper"
	"github.com/rpcbridge/rpcbridge/transcoding"
)

// canaryStack is the whole canary path: a catalog and rules through transcoding.Build (which
// derives the subset clusters and routes), rpcbridge's xDS server, and the embedded gateway,
// whose weighted-cluster random values come from a seeded source that a test can reset.
type canaryStack struct {
	t       *testing.T
	xds     *controlplane.Server
	gw      *dataplane.Gateway
	schemas []idl.Schema
	rules   transcoding.Rules

	mu  sync.Mutex
	rng *rand.Rand
}

// startCanaryStack serves what transcoding builds for cat.
func startCanaryStack(t *testing.T, cat bridge.Catalog, schemas []idl.Schema, rules transcoding.Rules) *canaryStack {
	t.Helper()
	s := &canaryStack{t: t, xds: controlplane.NewServer(controlplane.ServerOptions{}), schemas: schemas, rules: rules}
	s.reseed()
	s.serve(cat)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.xds.Serve(ctx, ln) }()
	s.gw = dataplane.New(dataplane.Options{XDSAddress: ln.Addr().String(), NodeID: "canary-test",
		NodeCluster: gatewayv1.EmbeddedNodeCluster, ListenAddress: "127.0.0.1:0", LocalAddress: localAddress,
		Logger: slog.New(slog.DiscardHandler), RandomValue: s.random})
	done := make(chan error, 1)
	go func() { done <- s.gw.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway Run: %v", err)
		}
		<-served
	})
	eventually(t, "gateway ready", func() error {
		if !s.gw.Ready() || s.gw.Addr() == nil {
			return fmt.Errorf("not ready")
		}
		return nil
	})
	return s
}

// serve builds the gateway for cat and serves it; Build must report no error.
func (s *canaryStack) serve(cat bridge.Catalog) {
	s.t.Helper()
	g, ds := transcoding.Build(cat, s.schemas, s.rules)
	for _, d := range ds {
		if d.Severity == diag.Error {
			s.t.Fatalf("Build: %s", d.Message)
		}
	}
	if err := s.xds.Update(g); err != nil {
		s.t.Fatal(err)
	}
}

// random is the gateway's random source: PCG seeded (1, 2) since the last reseed.
func (s *canaryStack) random() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.Uint64()
}

// reseed restarts the random sequence, so that what follows draws the same values every run.
func (s *canaryStack) reseed() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rng = rand.New(rand.NewPCG(1, 2))
}

// get sends GET path with header and returns the status and body.
func (s *canaryStack) get(path string, header http.Header) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+s.gw.Addr().String()+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header = header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// server is the echo server that answered GET path, or the failure.
func (s *canaryStack) server(path string, header http.Header) (string, error) {
	status, body := s.get(path, header)
	if status != http.StatusOK {
		return "", fmt.Errorf("GET %s: %d %s", path, status, body)
	}
	var e echo
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		return "", fmt.Errorf("echo body %s: %w", body, err)
	}
	return e.Server, nil
}

// servers counts which echo server answered n GETs of path with header.
func (s *canaryStack) servers(n int, path string, header http.Header) map[string]int {
	s.t.Helper()
	counts := map[string]int{}
	for range n {
		name, err := s.server(path, header)
		if err != nil {
			s.t.Fatal(err)
		}
		counts[name]++
	}
	return counts
}

// catalogEndpoint is a catalog endpoint at addr ("host:port") with labels.
func catalogEndpoint(t *testing.T, addr string, labels map[string]string) bridge.Endpoint {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		t.Fatal(err)
	}
	return bridge.Endpoint{Source: "static", Endpoint: registries.Endpoint{Address: host, Port: uint32(p), Weight: 1, Healthy: true, Labels: labels}}
}

// TestCanaryByWeightHeaderAndCookie: a policy's canary (version=2.0 of a service with a 1.0
// and a 2.0 HTTP server, weight 10, header x-canary: 1, cookie canary=always) sends 10 % ± 2 %
// of 2,000 requests to the 2.0 server (the random values are seeded, so the figure is the same
// every run), and every request with the header or the cookie to it; a request with another
// header value or cookie is split by weight like any other.
func TestCanaryByWeightHeaderAndCookie(t *testing.T) {
	stable := httptest.NewServer(echoHandler("v1"))
	t.Cleanup(stable.Close)
	canary := httptest.NewServer(echoHandler("v2"))
	t.Cleanup(canary.Close)
	cat := bridge.Catalog{Services: []bridge.Service{{ID: "http:reviews", Name: "reviews", Protocol: registries.ProtocolHTTP,
		Sources: []string{"static"}, Endpoints: []bridge.Endpoint{
			catalogEndpoint(t, stable.Listener.Addr().String(), map[string]string{"version": "1.0"}),
			catalogEndpoint(t, canary.Listener.Addr().String(), map[string]string{"version": "2.0"}),
		}}}}
	rules := transcoding.Rules{Policies: []transcoding.Policy{{Name: "reviews-canary", Services: []string{"reviews"},
		Canary: &transcoding.Canary{Subset: map[string]string{"version": "2.0"}, Weight: 10,
			Header: &transcoding.CanaryMatch{Name: "x-canary", Value: "1"}, Cookie: &transcoding.CanaryMatch{Name: "canary", Value: "always"}}}}}
	s := startCanaryStack(t, cat, nil, rules)
	const path = "/reviews/list"
	// The subset clusters' endpoints come over EDS after the routes.
	eventually(t, "both subsets served", func() error {
		seen := map[string]bool{}
		for range 50 {
			name, err := s.server(path, nil)
			if err != nil {
				return err
			}
			seen[name] = true
		}
		if !seen["v1"] || !seen["v2"] {
			return fmt.Errorf("50 requests reached only %v", seen)
		}
		return nil
	})

	s.reseed()
	counts := s.servers(2000, path, nil)
	share := float64(counts["v2"]) / 2000
	t.Logf("weight 10: %d of 2000 requests (%.2f %%) reached the canary", counts["v2"], 100*share)
	if share < 0.08 || share > 0.12 || counts["v1"]+counts["v2"] != 2000 {
		t.Errorf("weight 10: %v of 2000, want 10 %% ± 2 %% on v2", counts)
	}

	for name, h := range map[string]http.Header{
		"header x-canary: 1":             {"X-Canary": {"1"}},
		"cookie canary=always":           {"Cookie": {"theme=dark; canary=always; lang=en"}},
		"cookie canary=always, first":    {"Cookie": {"canary=always"}},
		"header and an unrelated cookie": {"X-Canary": {"1"}, "Cookie": {"canary=never"}},
	} {
		if got := s.servers(100, path, h); got["v2"] != 100 {
			t.Errorf("%s: %v of 100, want all on v2", name, got)
		}
	}
	for name, h := range map[string]http.Header{
		"header x-canary: 0":      {"X-Canary": {"0"}},
		"cookie canary=alwaysnot": {"Cookie": {"canary=alwaysnot"}},
		"cookie xcanary=always":   {"Cookie": {"xcanary=always"}},
	} {
		s.reseed()
		if got := s.servers(200, path, h); got["v2"] == 200 || got["v1"] < 150 {
			t.Errorf("%s: %v of 200, want the weight split (about 10 %% on v2)", name, got)
		}
	}
}

// dubboCounter is a TCP proxy in front of a Dubbo provider that counts the Dubbo requests (not
// heartbeats or other events) that pass through it, so a test can tell which real provider a
// call reached.
type dubboCounter struct {
	addr  string
	calls atomic.Int64
}

// countDubbo starts a counter in front of the provider at target; it stops when the test ends.
func countDubbo(t *testing.T, target string) *dubboCounter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &dubboCounter{addr: ln.Addr().String()}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	track := func(cs ...net.Conn) {
		mu.Lock()
		defer mu.Unlock()
		conns = append(conns, cs...)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			upstream, err := net.Dial("tcp", target)
			if err != nil {
				_ = client.Close()
				continue
			}
			track(client, upstream)
			wg.Add(2)
			go func() { defer wg.Done(); _, _ = io.Copy(client, upstream); _ = client.Close() }()
			go func() { defer wg.Done(); c.relay(upstream, client); _ = upstream.Close() }()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, conn := range conns {
			_ = conn.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return c
}

// relay copies Dubbo frames from client to upstream, counting the requests: a 16-byte header
// (magic 0xdabb, flags with 0x80 for a request and 0x20 for an event, the body length in the
// last four bytes), then the body.
func (c *dubboCounter) relay(upstream io.Writer, client io.Reader) {
	header := make([]byte, 16)
	for {
		if _, err := io.ReadFull(client, header); err != nil {
			return
		}
		if _, err := upstream.Write(header); err != nil {
			return
		}
		if header[0] == 0xda && header[1] == 0xbb && header[2]&0x80 != 0 && header[2]&0x20 == 0 {
			c.calls.Add(1)
		}
		if _, err := io.CopyN(upstream, client, int64(binary.BigEndian.Uint32(header[12:]))); err != nil {
			return
		}
	}
}

// greeterAttachmentsSchema is the provider's attachments() method, as a declarative IDL.
func greeterAttachmentsSchema(t *testing.T) idl.Schema {
	t.Helper()
	s, err := java.ParseDeclarative(context.Background(), map[string][]byte{"api.yaml": []byte(`interfaces:
  - name: ` + dubboprovider.Interface + `
    methods:
      - name: attachments
        params: []
        returns: java.util.Map<java.lang.String,java.lang.String>
`)})
	if err != nil {
		t.Fatal(err)
	}
	s.Name = "greeter"
	return s
}

// zkProviders registers Dubbo provider URLs in a real ZooKeeper by hand, as providers do
// (ephemeral nodes under /dubbo/<interface>/providers), and follows them with rpcbridge's
// ZooKeeper registry adapter.
type zkProviders struct {
	t    *testing.T
	conn *zk.Conn
	rec  *registrytest.Recorder
}

// startZKProviders starts ZooKeeper, a writer session and the registry adapter.
func startZKProviders(t *testing.T) *zkProviders {
	t.Helper()
	server := zookeeper.Start(t)
	conn, _, err := zk.Connect([]string{server.Addr()}, 10*time.Second, zk.WithLogger(log.New(io.Discard, "", 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	src, err := zkregistry.New("zk", zkregistry.Config{Servers: []string{server.Addr()},
		Debounce: yamltime.Duration(50 * time.Millisecond), SessionTimeout: yamltime.Duration(4 * time.Second)}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	z := &zkProviders{t: t, conn: conn}
	dir := "/dubbo/" + dubboprovider.Interface + "/providers"
	for _, p := range []string{"/dubbo", "/dubbo/" + dubboprovider.Interface, dir} {
		z.retry(func() error {
			_, err := conn.Create(p, nil, 0, zk.WorldACL(zk.PermAll))
			if errors.Is(err, zk.ErrNodeExists) {
				return nil
			}
			return err
		})
	}
	z.rec = registrytest.Run(t, src)
	return z
}

// retry runs op until it succeeds, while the session is still connecting.
func (z *zkProviders) retry(op func() error) {
	z.t.Helper()
	deadline := time.Now().Add(giveUp)
	for {
		err := op()
		if err == nil {
			return
		}
		if !errors.Is(err, zk.ErrNoServer) && !errors.Is(err, zk.ErrConnectionClosed) || time.Now().After(deadline) {
			z.t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// node is the ZooKeeper node of the greeter provider at addr, with extra URL parameters.
func (z *zkProviders) node(addr, params string) string {
	u := "dubbo://" + addr + "/" + dubboprovider.Interface + "?interface=" + dubboprovider.Interface +
		"&version=" + dubboprovider.Version + "&methods=attachments&application=greeter&side=provider" + params
	return "/dubbo/" + dubboprovider.Interface + "/providers/" + url.QueryEscape(u)
}

// register and deregister add and remove a provider node.
func (z *zkProviders) register(node string) {
	z.retry(func() error {
		_, err := z.conn.Create(node, nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
		return err
	})
}
func (z *zkProviders) deregister(node string) {
	z.retry(func() error { return z.conn.Delete(node, -1) })
}

// catalog is the catalog once the registry lists the greeter with exactly n providers.
func (z *zkProviders) catalog(n int) bridge.Catalog {
	z.t.Helper()
	snap := z.rec.WaitFor(z.t, fmt.Sprintf("%d greeter providers", n), func(s registries.Snapshot) bool {
		svc, ok := registrytest.Service(s, "providers:"+dubboprovider.Interface+":"+dubboprovider.Version+":")
		return s.Synced && ok && len(svc.Endpoints) == n
	})
	cat, _ := bridge.Merge([]registries.Snapshot{snap}, bridge.Options{})
	return cat
}

// TestDubboTagRouting runs Dubbo's tag routing (TagStateRouter's static tags) against two real
// dubbo-go providers, registered in a real ZooKeeper one with dubbo.tag=gray and one untagged
// and read by rpcbridge's registry adapter: a request tagged gray reaches the gray provider
// only, with the tag as its dubbo.tag attachment; an untagged request reaches the untagged
// provider only; a request tagged with a tag no provider has falls back to the untagged
// provider, unless it forces its tag (x-dubbo-force-tag: true), which is answered 503
// no_healthy_upstream without a call. When the gray provider leaves ZooKeeper, gray requests
// fall back to the untagged provider; when only the gray one is left, untagged requests find no
// provider.
func TestDubboTagRouting(t *testing.T) {
	gray := countDubbo(t, dubboprovider.Start(t, dubboprovider.Options{App: "greeter-gray", Registry: "none"}).Addr())
	plain := countDubbo(t, dubboprovider.Start(t, dubboprovider.Options{App: "greeter-plain", Registry: "none"}).Addr())
	zkp := startZKProviders(t)
	grayNode, plainNode := zkp.node(gray.addr, "&dubbo.tag=gray"), zkp.node(plain.addr, "")
	zkp.register(grayNode)
	zkp.register(plainNode)
	cat := zkp.catalog(2)
	tags := map[string]string{}
	for _, ep := range cat.Services[0].Endpoints {
		tags[net.JoinHostPort(ep.Address, strconv.Itoa(int(ep.Port)))] = ep.Labels[transcoding.DubboTagLabel]
	}
	if tags[gray.addr] != "gray" || tags[plain.addr] != "" {
		t.Fatalf("dubbo.tag labels by endpoint: %v, want gray on %s only", tags, gray.addr)
	}
	rules := transcoding.Rules{Policies: []transcoding.Policy{{Name: "gray-release", Services: []string{greeterCluster},
		Canary: &transcoding.Canary{DubboTag: &transcoding.DubboTagRouting{}}}}}
	s := startCanaryStack(t, cat, []idl.Schema{greeterAttachmentsSchema(t)}, rules)
	const path = "/dubbo/" + dubboprovider.Interface + ":" + dubboprovider.Version + "/attachments"

	// calls sends n GETs with header and returns the calls each provider received, failing on
	// any answer but want.
	calls := func(n int, header http.Header, want int) (grayCalls, plainCalls int64, body string) {
		t.Helper()
		g0, p0 := gray.calls.Load(), plain.calls.Load()
		for range n {
			status, b := s.get(path, header)
			if status != want {
				t.Fatalf("GET %s with %v: %d %s, want %d", path, header, status, b, want)
			}
			body = b
		}
		return gray.calls.Load() - g0, plain.calls.Load() - p0, body
	}
	tagged := http.Header{"X-Dubbo-Tag": {"gray"}}
	eventually(t, "both providers' endpoints", func() error {
		if st, b := s.get(path, tagged); st != http.StatusOK {
			return fmt.Errorf("tagged: %d %s", st, b)
		}
		if st, b := s.get(path, nil); st != http.StatusOK {
			return fmt.Errorf("untagged: %d %s", st, b)
		}
		return nil
	})

	g, p, body := calls(20, tagged, http.StatusOK)
	if g != 20 || p != 0 {
		t.Errorf("tag gray: gray provider %d calls, untagged %d; want 20, 0", g, p)
	}
	var attachments map[string]string
	if err := json.Unmarshal([]byte(body), &attachments); err != nil || attachments["dubbo.tag"] != "gray" {
		t.Errorf("tag gray: the provider received attachments %s (%v), want dubbo.tag=gray", body, err)
	}
	if g, p, _ := calls(20, nil, http.StatusOK); g != 0 || p != 20 {
		t.Errorf("untagged: gray provider %d calls, untagged %d; want 0, 20", g, p)
	}
	if g, p, _ := calls(20, http.Header{"X-Dubbo-Tag": {"blue"}}, http.StatusOK); g != 0 || p != 20 {
		t.Errorf("tag blue (no provider has it): gray %d, untagged %d; want the untagged provider only", g, p)
	}
	if g, p, _ := calls(20, http.Header{"X-Dubbo-Tag": {"blue"}, "X-Dubbo-Force-Tag": {"false"}}, http.StatusOK); g != 0 || p != 20 {
		t.Errorf("tag blue, force false: gray %d, untagged %d; want the untagged provider only", g, p)
	}
	g, p, body = calls(5, http.Header{"X-Dubbo-Tag": {"blue"}, "X-Dubbo-Force-Tag": {"TRUE"}}, http.StatusServiceUnavailable)
	if g != 0 || p != 0 || !containsStatus(body, dataplane.StatusNoHealthyUpstream) {
		t.Errorf("forced tag blue: gray %d, untagged %d calls, body %s; want none and 503 %s", g, p, body, dataplane.StatusNoHealthyUpstream)
	}
	if g, _, _ := calls(5, http.Header{"X-Dubbo-Tag": {"gray"}, "X-Dubbo-Force-Tag": {"true"}}, http.StatusOK); g != 5 {
		t.Errorf("forced tag gray: gray provider %d calls, want 5", g)
	}

	// The gray provider leaves ZooKeeper: the subsets follow.
	zkp.deregister(grayNode)
	s.serve(zkp.catalog(1))
	// (While the gateway moves to the new routes, a call may still go to the provider that
	// left, whose connections are closed: 502.)
	eventually(t, "gray requests fall back once no provider is gray", func() error {
		g0, p0 := gray.calls.Load(), plain.calls.Load()
		if st, b := s.get(path, tagged); st != http.StatusOK {
			return fmt.Errorf("%d %s", st, b)
		}
		if g, p := gray.calls.Load()-g0, plain.calls.Load()-p0; g != 0 || p != 1 {
			return fmt.Errorf("gray %d, untagged %d", g, p)
		}
		return nil
	})
	if g, p, _ := calls(20, tagged, http.StatusOK); g != 0 || p != 20 {
		t.Errorf("no provider gray, tag gray: gray %d, untagged %d; want 0, 20", g, p)
	}

	// Only the gray provider is left.
	zkp.register(grayNode)
	zkp.catalog(2)
	zkp.deregister(plainNode)
	s.serve(zkp.catalog(1))
	eventually(t, "untagged requests find no provider once every provider is gray", func() error {
		if st, b := s.get(path, nil); st != http.StatusServiceUnavailable {
			return fmt.Errorf("untagged: %d %s", st, b)
		}
		if st, b := s.get(path, tagged); st != http.StatusOK { // the gray subset's endpoints are back
			return fmt.Errorf("tagged: %d %s", st, b)
		}
		return nil
	})
	if g, p, _ := calls(5, tagged, http.StatusOK); g != 5 || p != 0 {
		t.Errorf("only gray left, tag gray: gray %d, untagged %d; want 5, 0", g, p)
	}
}

// containsStatus reports whether a JSON error body has the status.
func containsStatus(body, status string) bool {
	var e struct {
		Error struct {
			Status string `json:"status"`
		} `json:"error"`
	}
	return json.Unmarshal([]byte(body), &e) == nil && e.Error.Status == status
}
