package dataplane_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/controlplane"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dataplane"
	"github.com/rpcbridge/rpcbridge/internal/bench/peakrss"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
)

// bodyMemChildEnv names the scenario a re-executed test binary runs instead of the tests (see
// TestMain).
const bodyMemChildEnv = "RPCBRIDGE_BODYMEM_CHILD"

// bodyMemScenario is one burst of concurrent large JSON bodies, measured in a process of its own.
type bodyMemScenario struct {
	Name string
	// Providers are the ports of the dubbo-go providers (started by the parent, so that their
	// memory is not the child's).
	Providers []int
	// BodyBytes is the size of each JSON body, Concurrent how many are sent at once.
	BodyBytes  int
	Concurrent int
	// Limits, when set, are the controlplane's downstream limits (the listener the gateway
	// receives over xDS); BufferBudgetBytes is the gateway's global budget (0: its default).
	Limits            *controlplane.DownstreamLimits
	BufferBudgetBytes int64
}

// BenchmarkBodyMemory measures what a burst of large JSON bodies on a REST→Dubbo route costs the
// gateway's process (issue 11 item 6: 20 concurrent 4 MB bodies took RSS from 166 MB to 2.1 GB).
// The parent starts ZooKeeper and two real dubbo-go providers; each scenario runs in a fresh
// child process (the test binary re-executed) holding rpcbridge's real xDS server and the
// embedded gateway that follows it, which settles, takes its idle RSS, resets the kernel's peak
// mark (/proc/self/clear_refs), posts the bodies at once (POST /users → echoUser(User), the body
// a User whose tags list fills it) and reads VmHWM. Linux only. Run it with
//
//	go test ./dataplane -run '^$' -bench BenchmarkBodyMemory -benchtime 1x -count 2
func BenchmarkBodyMemory(b *testing.B) {
	if err := peakrss.Supported(); err != nil {
		b.Skip(err)
	}
	zk := zookeeper.Start(b)
	var ports []int
	for i := range 2 {
		p := dubboprovider.Start(b, dubboprovider.Options{ZooKeeper: zk.Addr(), App: fmt.Sprintf("bodymem-%d", i), Registry: "interface"})
		ports = append(ports, p.Port())
	}
	for _, sc := range bodyMemScenarios(ports) {
		b.Run(sc.Name, func(b *testing.B) { peakrss.Bench(b, bodyMemChildEnv, sc.Name, sc) })
	}
}

// bodyMemScenarios are the bursts measured: the burst with the default limits, bodies
// just within the default buffer limit, and the burst with the buffer limit raised to
// 8 MiB (Dubbo's default payload), once with the default buffer budget and once with the
// budget out of the way (what the gateway did before it had one).
func bodyMemScenarios(ports []int) []bodyMemScenario {
	raised := controlplane.DefaultDownstreamLimits()
	raised.BufferLimitBytes = 8 << 20
	return []bodyMemScenario{
		{Name: "dubbo-4MB-x20-defaults", Providers: ports, BodyBytes: 4 << 20, Concurrent: 20},
		{Name: "dubbo-1000KiB-x20-defaults", Providers: ports, BodyBytes: 1000 << 10, Concurrent: 20},
		{Name: "dubbo-4MB-x20-limit8MiB", Providers: ports, BodyBytes: 4 << 20, Concurrent: 20, Limits: &raised},
		{Name: "dubbo-4MB-x20-limit8MiB-nobudget", Providers: ports, BodyBytes: 4 << 20, Concurrent: 20, Limits: &raised,
			BufferBudgetBytes: 1 << 40},
	}
}

// runBodyMemChild is the child process: it sets one scenario up and measures it.
func runBodyMemChild(spec string) int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "body memory child:", err); return 1 }
	var sc bodyMemScenario
	if err := json.Unmarshal([]byte(spec), &sc); err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := startBodyMemGateway(ctx, sc)
	if err != nil {
		return fail(err)
	}
	url := "http://" + addr + "/users"
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: sc.Concurrent}}
	small := bigUserJSON(100)
	deadline := time.Now().Add(30 * time.Second)
	for postJSON(client, url, small) != http.StatusOK {
		if time.Now().After(deadline) {
			return fail(fmt.Errorf("the gateway did not serve POST /users within 30 s"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	payload := bigUserJSON(sc.BodyBytes)
	if err := peakrss.Measure(sc.Concurrent, func() int { return postJSON(client, url, payload) }); err != nil {
		return fail(err)
	}
	return 0
}

// startBodyMemGateway starts rpcbridge's xDS server with an echoUser route to the providers and
// the embedded gateway following it; it returns the gateway's address once it listens.
func startBodyMemGateway(ctx context.Context, sc bodyMemScenario) (string, error) {
	var endpoints []ir.Endpoint
	for _, p := range sc.Providers {
		endpoints = append(endpoints, ir.Endpoint{Address: "127.0.0.1", Port: uint32(p), Weight: 100, Healthy: true})
	}
	gateway := ir.Gateway{
		Clusters: []ir.Cluster{{Name: greeterCluster, Protocol: ir.UpstreamDubbo, ConnectTimeout: time.Second, Endpoints: endpoints}},
		Routes: []ir.Route{greeterRoute("echoUser", "POST", "/users", greeterCluster,
			ir.DubboParam{Name: "user", Type: "org.rpcbridge.test.User", From: ir.FromWholeBody})},
		JavaClasses: dubboprovider.JavaClasses(),
	}
	cp := controlplane.NewServer(bodyMemServerOptions(sc))
	if err := cp.Update(gateway); err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go func() { _ = cp.Serve(ctx, ln) }()
	gw := dataplane.New(bodyMemGatewayOptions(sc, ln.Addr().String()))
	go func() { _ = gw.Run(ctx) }()
	for gw.Addr() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	return gw.Addr().String(), nil
}

// bodyMemServerOptions are the control plane's options of a scenario.
func bodyMemServerOptions(sc bodyMemScenario) controlplane.ServerOptions {
	return controlplane.ServerOptions{Translate: controlplane.Options{Downstream: sc.Limits}}
}

// bodyMemGatewayOptions are the gateway's options of a scenario.
func bodyMemGatewayOptions(sc bodyMemScenario, xds string) dataplane.Options {
	return dataplane.Options{XDSAddress: xds, NodeID: "bodymem", NodeCluster: gatewayv1.EmbeddedNodeCluster,
		ListenAddress: "127.0.0.1:0", BufferBudgetBytes: sc.BufferBudgetBytes}
}

// bigUserJSON is an org.rpcbridge.test.User of about size bytes: a tags list fills it.
func bigUserJSON(size int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"id":1,"name":"Ada","level":"GOLD","tags":[`)
	for i := 0; b.Len() < size-16; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"tag-%07d"`, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// postJSON posts body and returns the status code, or -1 when the request failed.
func postJSON(client *http.Client, url string, body []byte) int {
	resp, err := client.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return -1
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}
