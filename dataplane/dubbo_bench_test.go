package dataplane_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/dubborpc"
	"github.com/rpcbridge/rpcbridge/internal/bench/load"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
)

// dubboBench is the two paths the REST→Dubbo benchmarks compare, over the same two dubbo-go
// providers: the gateway's REST route GET /slow?ms=0 (→ slow(int)), and the same method called
// directly through dubborpc's generic invocation ($invoke), alternating between the providers as
// the gateway's balancer does. Each returns what went wrong instead of failing the benchmark.
type dubboBench struct {
	direct  func(ctx context.Context, seq int) error
	gateway func(ctx context.Context, seq int) error
}

func newDubboBench(tb testing.TB) dubboBench {
	tb.Helper()
	s := startDubboStack(tb)
	client := dubborpc.New(dubborpc.Options{})
	tb.Cleanup(func() { _ = client.Close() })
	var endpoints []*dubborpc.Endpoint
	for _, p := range s.providers {
		endpoints = append(endpoints, client.Endpoint(p.Addr()))
	}
	transport := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	tb.Cleanup(transport.CloseIdleConnections)
	httpClient := &http.Client{Transport: transport, Timeout: giveUp}
	url := "http://" + s.gw.Addr().String() + "/slow?ms=0"
	return dubboBench{
		direct: func(ctx context.Context, seq int) error {
			_, err := endpoints[seq%len(endpoints)].GenericInvoke(ctx, dubboprovider.Interface, dubboprovider.Version, "", "slow",
				[]string{"int"}, []any{int32(0)}, nil)
			return err
		},
		gateway: func(ctx context.Context, _ int) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return err
			}
			resp, err := httpClient.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				return err
			}
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("gateway: %s: %s", resp.Status, body)
			}
			return nil
		},
	}
}

// BenchmarkRESTToDubbo compares, in the same run and interleaved, a REST call through the
// gateway with the same method called directly through dubborpc's generic invocation, one
// request at a time (serial: no queueing). It reports the ratio of mean latencies and the added
// latency at p50 and p99 (gateway minus direct, per percentile).
//
//	go test ./dataplane -run '^$' -bench 'BenchmarkRESTToDubbo$' -benchtime 2000x
func BenchmarkRESTToDubbo(b *testing.B) {
	bench := newDubboBench(b)
	ctx := context.Background()
	for i := range 50 { // warm both paths (connections, caches)
		if err := bench.direct(ctx, i); err != nil {
			b.Fatal(err)
		}
		if err := bench.gateway(ctx, i); err != nil {
			b.Fatal(err)
		}
	}
	directTimes := make([]time.Duration, 0, b.N)
	gatewayTimes := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if err := bench.direct(ctx, i); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if err := bench.gateway(ctx, i); err != nil {
			b.Fatal(err)
		}
		directTimes = append(directTimes, mid.Sub(start))
		gatewayTimes = append(gatewayTimes, time.Since(mid))
	}
	b.StopTimer()
	slices.Sort(directTimes)
	slices.Sort(gatewayTimes)
	mean := func(d []time.Duration) float64 {
		var sum time.Duration
		for _, x := range d {
			sum += x
		}
		return float64(sum) / float64(len(d))
	}
	p := load.Quantile
	b.ReportMetric(mean(gatewayTimes)/mean(directTimes), "gateway/direct")
	b.ReportMetric(float64(p(directTimes, 0.5).Microseconds()), "direct-p50-µs")
	b.ReportMetric(float64(p(gatewayTimes, 0.5).Microseconds()), "gateway-p50-µs")
	b.ReportMetric(float64((p(gatewayTimes, 0.5) - p(directTimes, 0.5)).Microseconds()), "added-p50-µs")
	b.ReportMetric(float64((p(gatewayTimes, 0.99) - p(directTimes, 0.99)).Microseconds()), "added-p99-µs")
}

// Fixed-rate REST→Dubbo load: requests per second over both targets together, requests per
// target (about 50 s), windows for the spread.
const (
	dubboFixedRate      = 400
	dubboFixedPerTarget = 10000
	dubboFixedWindows   = 5
	dubboFixedWarmUp    = 600 // requests per target first sent at the same rate and left out
)

// BenchmarkRESTToDubboFixedRate sends an open-loop load of 400 requests per second,
// interleaved tick by tick between the direct generic Dubbo call (the baseline) and the
// gateway's REST route, 10,000 requests each (about 50 s, after a 3 s warm-up that is left out).
// Latency counts from each request's scheduled send time. It reports both p50/p99, the
// gateway's added p50/p99 (per percentile), the min/median/max of the added p99 over 5
// consecutive windows of the run, and how far the generator's sends fell behind schedule.
//
//	go test ./dataplane -run '^$' -bench BenchmarkRESTToDubboFixedRate -benchtime 1x
func BenchmarkRESTToDubboFixedRate(b *testing.B) {
	bench := newDubboBench(b)
	ctx := context.Background()
	targets := []load.Target{{Name: "direct_dubbo", Send: bench.direct}, {Name: "gateway", Send: bench.gateway}}
	if _, err := load.Generate(ctx, load.Options{Rate: dubboFixedRate, PerTarget: dubboFixedWarmUp}, targets); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		rec, err := load.Generate(ctx, load.Options{Rate: dubboFixedRate, PerTarget: dubboFixedPerTarget}, targets)
		if err != nil {
			b.Fatal(err)
		}
		if _, first := rec.Errors(); first != nil {
			b.Errorf("failed requests, first: %v", first)
		}
		sum := load.Summarize(rec, dubboFixedWindows)
		b.Logf("\n%s", sum)
		for _, m := range sum.Metrics() {
			b.ReportMetric(m.Value, m.Unit)
		}
	}
}

// BenchmarkRESTToDubboPaths runs each path on its own, one request at a time, for its
// allocations per request (-benchmem; the gateway's include the HTTP client's and the test
// server's side) and mean time, and closed-loop with 8 callers (b.RunParallel) for throughput
// ("req/s"; the gateway's over the direct call's in the same run is the closed-loop ratio).
//
//	go test ./dataplane -run '^$' -bench 'BenchmarkRESTToDubboPaths' -benchmem -benchtime 3000x
func BenchmarkRESTToDubboPaths(b *testing.B) {
	bench := newDubboBench(b)
	ctx := context.Background()
	for i := range 50 { // warm both paths (connections, caches)
		if err := bench.direct(ctx, i); err != nil {
			b.Fatal(err)
		}
		if err := bench.gateway(ctx, i); err != nil {
			b.Fatal(err)
		}
	}
	for _, p := range []struct {
		name string
		send func(context.Context, int) error
	}{{"direct", bench.direct}, {"gateway", bench.gateway}} {
		b.Run("serial/"+p.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := range b.N {
				if err := p.send(ctx, i); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, p := range []struct {
		name string
		send func(context.Context, int) error
	}{{"direct", bench.direct}, {"gateway", bench.gateway}} {
		b.Run("closed-loop/"+p.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(4) // 4 × GOMAXPROCS (2 here) callers
			start := time.Now()
			var seq atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := p.send(ctx, int(seq.Add(1))); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
}
