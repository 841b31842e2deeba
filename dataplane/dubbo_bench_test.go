package dataplane_test

import (
	"context"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/dubborpc"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
)

// BenchmarkRESTToDubbo compares, in the same run and interleaved, a REST call through the
// gateway (GET /slow?ms=0 → slow(int) on the dubbo-go provider) with the same method called
// directly through dubborpc's generic invocation. It reports the ratio of mean latencies and
// the added latency at p50 and p99 (gateway minus direct, per percentile).
//
//	go test ./dataplane -run '^$' -bench BenchmarkRESTToDubbo -benchtime 2000x
func BenchmarkRESTToDubbo(b *testing.B) {
	s := startDubboStack(b)
	client := dubborpc.New(dubborpc.Options{})
	defer client.Close()
	ep := client.Endpoint(s.providers[0].Addr())
	httpClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	url := "http://" + s.gw.Addr().String() + "/slow?ms=0"
	ctx := context.Background()

	direct := func() {
		if _, err := ep.GenericInvoke(ctx, dubboprovider.Interface, dubboprovider.Version, "", "slow",
			[]string{"int"}, []any{int32(0)}, nil); err != nil {
			b.Fatal(err)
		}
	}
	gateway := func() {
		resp, err := httpClient.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("gateway status %d", resp.StatusCode)
		}
	}
	for range 50 { // warm both paths (connections, JIT-free but caches)
		direct()
		gateway()
	}
	directTimes := make([]time.Duration, 0, b.N)
	gatewayTimes := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		direct()
		mid := time.Now()
		gateway()
		directTimes = append(directTimes, mid.Sub(start))
		gatewayTimes = append(gatewayTimes, time.Since(mid))
	}
	b.StopTimer()
	slices.Sort(directTimes)
	slices.Sort(gatewayTimes)
	pct := func(d []time.Duration, p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }
	mean := func(d []time.Duration) float64 {
		var sum time.Duration
		for _, x := range d {
			sum += x
		}
		return float64(sum) / float64(len(d))
	}
	b.ReportMetric(mean(gatewayTimes)/mean(directTimes), "gateway/direct")
	b.ReportMetric(float64(pct(directTimes, 0.5).Microseconds()), "direct-p50-µs")
	b.ReportMetric(float64(pct(gatewayTimes, 0.5).Microseconds()), "gateway-p50-µs")
	b.ReportMetric(float64((pct(gatewayTimes, 0.5) - pct(directTimes, 0.5)).Microseconds()), "added-p50-µs")
	b.ReportMetric(float64((pct(gatewayTimes, 0.99) - pct(directTimes, 0.99)).Microseconds()), "added-p99-µs")
}
