package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	benchload "github.com/rpcbridge/rpcbridge/internal/bench/load"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/peerproc"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
)

// The stall scenario of issue 11 item 3: fixed-rate REST traffic to a service with two real
// providers in the static registry, one of which is frozen (SIGSTOP) for a while and then thawed.
// The figure is the share of requests that fail. Rate and stall length can be changed with
// RPCBRIDGE_STALL_RATE (requests per second) and RPCBRIDGE_STALL_SECONDS; RPCBRIDGE_STALL_UPSTREAMS
// is appended to the configuration as its upstreams: block, to compare policies (for example
// `{rpc: {loadBalancer: {fullScan: false}}}` for Envoy's two random choices).
const (
	stallDefaultRate    = 100
	stallDefaultSeconds = 75
	stallBefore         = 5 * time.Second  // normal traffic before the freeze
	stallAfter          = 10 * time.Second // traffic after the thaw
	stallClientTimeout  = 60 * time.Second // longer than any route timeout: the gateway answers first
)

// stallOutcome is what one stall run measured.
type stallOutcome struct {
	total, failed int
	byStatus      map[string]int
	p50, p99, max time.Duration
}

func (o stallOutcome) String() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(o.byStatus)) {
		parts = append(parts, fmt.Sprintf("%s×%d", k, o.byStatus[k]))
	}
	return fmt.Sprintf("%d requests, %d failed (%.2f%%) [%s], latency p50 %v p99 %v max %v",
		o.total, o.failed, 100*float64(o.failed)/float64(o.total), strings.Join(parts, " "),
		o.p50.Round(time.Millisecond), o.p99.Round(time.Millisecond), o.max.Round(time.Millisecond))
}

// stallStatusError is a request that got an answer other than 200.
type stallStatusError struct{ code int }

func (e stallStatusError) Error() string { return strconv.Itoa(e.code) }

// runStall sends traffic to url (method with body) at the configured rate for stallBefore + the
// stall + stallAfter, calling freeze after stallBefore and thaw when the stall has passed.
func runStall(b *testing.B, method, url, body string, freeze, thaw func() error) stallOutcome {
	b.Helper()
	rate := envInt(b, "RPCBRIDGE_STALL_RATE", stallDefaultRate)
	stall := time.Duration(envInt(b, "RPCBRIDGE_STALL_SECONDS", stallDefaultSeconds)) * time.Second
	transport := &http.Transport{MaxIdleConnsPerHost: 512, DisableCompression: true}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: stallClientTimeout}
	send := func(ctx context.Context, _ int) error {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, url, rd)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK {
			return stallStatusError{resp.StatusCode}
		}
		return nil
	}
	freezeErr, thawErr := make(chan error, 1), make(chan error, 1)
	frozen := time.AfterFunc(stallBefore, func() { freezeErr <- freeze() })
	thawed := time.AfterFunc(stallBefore+stall, func() { thawErr <- thaw() })
	defer frozen.Stop()
	defer thawed.Stop()
	perTarget := int((stallBefore + stall + stallAfter).Seconds() * float64(rate))
	rec, err := benchload.Generate(context.Background(), benchload.Options{Rate: float64(rate), PerTarget: perTarget},
		[]benchload.Target{{Name: "gateway", Send: send}})
	if err != nil {
		b.Fatal(err)
	}
	if err := <-freezeErr; err != nil {
		b.Fatal(err)
	}
	if err := <-thawErr; err != nil {
		b.Fatal(err)
	}
	out := stallOutcome{total: len(rec.Samples), byStatus: map[string]int{}}
	latencies := make([]time.Duration, 0, len(rec.Samples))
	for _, s := range rec.Samples {
		latencies = append(latencies, s.Latency)
		if s.Err == nil {
			continue
		}
		out.failed++
		key := "transport-error"
		if se, ok := s.Err.(stallStatusError); ok {
			key = se.Error()
		}
		out.byStatus[key]++
	}
	slices.Sort(latencies)
	out.p50, out.p99, out.max = benchload.Quantile(latencies, 0.5), benchload.Quantile(latencies, 0.99), latencies[len(latencies)-1]
	return out
}

// stallUpstreams is the upstreams: line of the configuration, from RPCBRIDGE_STALL_UPSTREAMS.
func stallUpstreams() string {
	if u := os.Getenv("RPCBRIDGE_STALL_UPSTREAMS"); u != "" {
		return "upstreams: " + u + "\n"
	}
	return ""
}

// reportStall logs and reports one run's outcome.
func reportStall(b *testing.B, o stallOutcome) {
	b.Helper()
	b.Logf("stall: %s", o)
	b.ReportMetric(100*float64(o.failed)/float64(o.total), "failed-%")
	b.ReportMetric(float64(o.failed), "failed")
	b.ReportMetric(float64(o.total), "requests")
	b.ReportMetric(float64(o.p99.Milliseconds()), "p99-ms")
	b.ReportMetric(float64(o.max.Milliseconds()), "max-ms")
}

func envInt(b *testing.B, name string, def int) int {
	b.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// BenchmarkDubboProviderStall runs `rpcbridge serve` with two real dubbo-go providers of one
// service in the static registry and a REST route to sayHello, sends 100 requests per second for
// 90 s, and freezes one provider (SIGSTOP) from 5 s to 80 s. It reports the share of failed
// requests and the latency tail.
//
//	go test ./cmd/rpcbridge -run '^$' -bench BenchmarkDubboProviderStall -benchtime 1x -timeout 20m
func BenchmarkDubboProviderStall(b *testing.B) {
	zk := zookeeper.Start(b)
	var providers []*dubboprovider.Provider
	var endpoints []string
	for i := range 2 {
		p := dubboprovider.Start(b, dubboprovider.Options{ZooKeeper: zk.Addr(), App: fmt.Sprintf("greeter-%d", i), Registry: "interface"})
		providers = append(providers, p)
		endpoints = append(endpoints, fmt.Sprintf("            - {address: 127.0.0.1, port: %d}", p.Port()))
	}
	srv := startServe(b, fmt.Sprintf(`registries:
  - name: local
    type: static
    static:
      services:
        - name: greeter
          protocol: dubbo
          interface: %s
          version: %s
          endpoints:
%s
rpcRoutes:
  - service: %q
    method: sayHello
    paramTypes: [java.lang.String]
    http: {method: GET, path: "/hello/{name}"}
    params: [{arg: name, from: path}]
%s`, dubboprovider.Interface, dubboprovider.Version, strings.Join(endpoints, "\n"), greeterID, stallUpstreams()))
	if code, out, stderr := runCLI(b, context.Background(), "idl", "push", "greeter-api", greeterAPI, "--admin", "http://"+srv.admin); code != exitOK {
		b.Fatalf("idl push: exit %d %s %s", code, out, stderr)
	}
	url := "http://" + srv.gateway + "/hello/Ada"
	waitFor(b, "the REST route", func() error {
		code, body, err := send("GET", url, "")
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("%d %q %v", code, body, err)
		}
		return nil
	})
	b.ResetTimer()
	for range b.N {
		reportStall(b, runStall(b, "GET", url, "", providers[1].Freeze, providers[1].Thaw))
	}
}

// BenchmarkGRPCServerStall is BenchmarkDubboProviderStall with two real grpc-go servers (the
// quickstart's greeter, grpc.testing.TestService) behind the REST route POST
// /grpc.testing.TestService/UnaryCall.
//
//	go test ./cmd/rpcbridge -run '^$' -bench BenchmarkGRPCServerStall -benchtime 1x -timeout 20m
func BenchmarkGRPCServerStall(b *testing.B) {
	dir := b.TempDir()
	bin := filepath.Join(dir, "greeter")
	if out, err := exec.Command("go", "build", "-o", bin, "../../examples/quickstart/greeter").CombinedOutput(); err != nil {
		b.Fatalf("build the greeter: %v\n%s", err, out)
	}
	descriptors := filepath.Join(dir, "grpc-testing.pb")
	if out, err := exec.Command(bin, "-descriptor-set", descriptors).CombinedOutput(); err != nil {
		b.Fatalf("greeter -descriptor-set: %v\n%s", err, out)
	}
	var servers []*peerproc.Process
	var endpoints []string
	for i := range 2 {
		port := peerproc.FreePort(b)
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		cmd := exec.Command(bin, "-listen", addr, "-name", fmt.Sprintf("greeter-%d", i))
		p, err := peerproc.Start(cmd, filepath.Join(dir, fmt.Sprintf("greeter-%d.log", i)), "grpc-go greeter", giveUp, func() bool {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				_ = c.Close()
			}
			return err == nil
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(p.Kill)
		servers = append(servers, p)
		endpoints = append(endpoints, fmt.Sprintf("            - {address: 127.0.0.1, port: %d}", port))
	}
	srv := startServe(b, fmt.Sprintf(`registries:
  - name: local
    type: static
    static:
      services:
        - name: grpc.testing.TestService
          protocol: grpc
          endpoints:
%s
%s`, strings.Join(endpoints, "\n"), stallUpstreams()))
	if code, out, stderr := runCLI(b, context.Background(), "idl", "push", "grpc-testing", descriptors, "--admin", "http://"+srv.admin); code != exitOK {
		b.Fatalf("idl push: exit %d %s %s", code, out, stderr)
	}
	url := "http://" + srv.gateway + "/grpc.testing.TestService/UnaryCall"
	waitFor(b, "the REST route", func() error {
		code, body, err := send("POST", url, `{"responseSize": 1}`)
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("%d %q %v", code, body, err)
		}
		return nil
	})
	b.ResetTimer()
	for range b.N {
		reportStall(b, runStall(b, "POST", url, `{"responseSize": 1}`, servers[1].Pause, servers[1].Resume))
	}
}
