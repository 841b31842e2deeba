package dataplane_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/controlplane"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dataplane"
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

// bodyMemResult is what a child reports: its idle RSS before the burst, the peak RSS during it
// (VmHWM after resetting it at the baseline), what the Go heap allocated and the statuses.
type bodyMemResult struct {
	IdleRSS, PeakRSS, Allocated int64
	Statuses                    map[int]int
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
	if _, err := os.Stat("/proc/self/clear_refs"); err != nil {
		b.Skip("needs Linux /proc/self/clear_refs to reset the peak RSS")
	}
	zk := zookeeper.Start(b)
	var ports []int
	for i := range 2 {
		p := dubboprovider.Start(b, dubboprovider.Options{ZooKeeper: zk.Addr(), App: fmt.Sprintf("bodymem-%d", i), Registry: "interface"})
		ports = append(ports, p.Port())
	}
	for _, sc := range bodyMemScenarios(ports) {
		b.Run(sc.Name, func(b *testing.B) {
			var peak, alloc, idle float64
			for range b.N {
				res := runBodyMemScenario(b, sc)
				peak += float64(res.PeakRSS-res.IdleRSS) / (1 << 20)
				alloc += float64(res.Allocated) / (1 << 20)
				idle += float64(res.IdleRSS) / (1 << 20)
				b.Logf("%s: idle RSS %.1f MiB, peak %.1f MiB (+%.1f MiB), allocated %.1f MiB, statuses %v", sc.Name,
					float64(res.IdleRSS)/(1<<20), float64(res.PeakRSS)/(1<<20), float64(res.PeakRSS-res.IdleRSS)/(1<<20),
					float64(res.Allocated)/(1<<20), res.Statuses)
			}
			n := float64(b.N)
			b.ReportMetric(peak/n, "MiB-peak-RSS-over-idle")
			b.ReportMetric(alloc/n, "MiB-allocated")
			b.ReportMetric(idle/n, "MiB-idle-RSS")
		})
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

// runBodyMemScenario runs sc in a child process and decodes its result.
func runBodyMemScenario(b *testing.B, sc bodyMemScenario) bodyMemResult {
	b.Helper()
	spec, err := json.Marshal(sc)
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), bodyMemChildEnv+"="+string(spec))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("scenario %s: %v", sc.Name, err)
	}
	var res bodyMemResult
	if err := json.Unmarshal(out, &res); err != nil {
		b.Fatalf("scenario %s: bad child output %q: %v", sc.Name, out, err)
	}
	return res
}

// runBodyMemChild is the child process: it measures one scenario and prints a bodyMemResult.
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

	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return fail(fmt.Errorf("reset peak RSS: %w", err))
	}
	idle, err := procStatusBytes("VmRSS")
	if err != nil {
		return fail(err)
	}
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	res := bodyMemResult{IdleRSS: idle, Statuses: map[int]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range sc.Concurrent {
		wg.Go(func() {
			code := postJSON(client, url, payload)
			mu.Lock()
			res.Statuses[code]++
			mu.Unlock()
		})
	}
	wg.Wait()

	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	res.Allocated = int64(after.TotalAlloc - before.TotalAlloc)
	if res.PeakRSS, err = procStatusBytes("VmHWM"); err != nil {
		return fail(err)
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
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

// procStatusBytes reads one "kB" field of /proc/self/status.
func procStatusBytes(field string) (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		return kb << 10, err
	}
	return 0, fmt.Errorf("/proc/self/status has no %s", field)
}
