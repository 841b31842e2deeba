package grpcgateway_test

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/rpcbridge/rpcbridge/internal/bench/grpcgateway/echopb"
)

// Load shape; the whole benchmark run stays around a minute.
const (
	workers     = 16
	closedRound = 3 * time.Second
	rounds      = 2
	fixedRate   = 500 // requests per second
	fixedFor    = 3 * time.Second
)

// targets starts the gRPC server and both gateways in front of it and checks that both answer
// the load's requests correctly.
func targets(tb testing.TB) (client *http.Client, grpcGateway, rpcbridge string, upstream string) {
	tb.Helper()
	addr := startGRPC(tb)
	client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4 * workers, DisableCompression: true}, Timeout: giveUp}
	tb.Cleanup(client.CloseIdleConnections)
	grpcGateway, rpcbridge = startGRPCGateway(tb, addr), startEmbedded(tb, addr)
	checkAnswers(tb, client, grpcGateway)
	checkAnswers(tb, client, rpcbridge)
	return client, grpcGateway, rpcbridge, addr.String()
}

// TestBothGatewaysTranscodeTheLoad: the benchmark's requests get the same, correct answers
// through grpc-gateway and through rpcbridge's embedded gateway.
func TestBothGatewaysTranscodeTheLoad(t *testing.T) {
	targets(t)
}

// latencies is a sorted sample of request durations.
type latencies []time.Duration

func (l latencies) quantile(q float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	return l[min(len(l)-1, int(q*float64(len(l))))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// closedLoop runs workers that each send requests back to back (GET and POST alternating) to base
// for d, and returns the requests per second and their latencies.
func closedLoop(tb testing.TB, client *http.Client, base string, d time.Duration) (float64, latencies) {
	tb.Helper()
	var mu sync.Mutex
	var all latencies
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(d)
	for w := range workers {
		wg.Go(func() {
			var mine latencies
			for i := w; time.Now().Before(end); i++ {
				t0 := time.Now()
				if _, err := call(client, base, i%2 == 0); err != nil {
					tb.Errorf("%s: %v", base, err)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(all)
	return float64(len(all)) / elapsed.Seconds(), all
}

// BenchmarkClosedLoop sends the same closed-loop load (16 concurrent clients, GET and POST
// alternating) through grpc-gateway and through rpcbridge's embedded gateway, in alternating
// rounds, and reports each one's throughput and latency quantiles, their ratio and difference.
// Run it once: go test ./internal/bench/grpcgateway -run '^$' -bench . -benchtime 1x
func BenchmarkClosedLoop(b *testing.B) {
	client, grpcGateway, rpcbridge, _ := targets(b)
	for range b.N {
		var gg, rb latencies
		var ggSecs, rbSecs float64
		for range rounds {
			rps, l := closedLoop(b, client, grpcGateway, closedRound)
			gg, ggSecs = append(gg, l...), ggSecs+float64(len(l))/rps
			rps, l = closedLoop(b, client, rpcbridge, closedRound)
			rb, rbSecs = append(rb, l...), rbSecs+float64(len(l))/rps
		}
		slices.Sort(gg)
		slices.Sort(rb)
		ggRPS, rbRPS := float64(len(gg))/ggSecs, float64(len(rb))/rbSecs
		b.ReportMetric(ggRPS, "grpcgateway_req/s")
		b.ReportMetric(rbRPS, "rpcbridge_req/s")
		b.ReportMetric(rbRPS/ggRPS, "throughput_ratio")
		b.ReportMetric(ms(gg.quantile(0.5)), "grpcgateway_p50_ms")
		b.ReportMetric(ms(gg.quantile(0.99)), "grpcgateway_p99_ms")
		b.ReportMetric(ms(rb.quantile(0.5)), "rpcbridge_p50_ms")
		b.ReportMetric(ms(rb.quantile(0.99)), "rpcbridge_p99_ms")
		b.ReportMetric(ms(rb.quantile(0.99)-gg.quantile(0.99)), "p99_diff_ms")
	}
}

// fixedRateLoad sends rate requests per second (GET and POST alternating) for d through send,
// each on its own goroutine, and returns their latencies.
func fixedRateLoad(tb testing.TB, rate int, d time.Duration, send func(get bool) error) latencies {
	tb.Helper()
	var mu sync.Mutex
	var all latencies
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	end := time.Now().Add(d)
	for i := 0; time.Now().Before(end); i++ {
		<-tick.C
		wg.Go(func() {
			t0 := time.Now()
			if err := send(i%2 == 0); err != nil {
				tb.Errorf("fixed-rate request: %v", err)
				return
			}
			took := time.Since(t0)
			mu.Lock()
			all = append(all, took)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(all)
	return all
}

// BenchmarkFixedRate sends 500 requests per second for 3 s directly over gRPC (the baseline),
// through grpc-gateway and through rpcbridge's embedded gateway, and reports each gateway's
// p50/p99 latency and what it adds to the direct call.
// Run it once: go test ./internal/bench/grpcgateway -run '^$' -bench . -benchtime 1x
func BenchmarkFixedRate(b *testing.B) {
	client, grpcGateway, rpcbridge, upstream := targets(b)
	conn, err := grpc.NewClient(upstream, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	echo := echopb.NewEchoServiceClient(conn)
	direct := func(get bool) error {
		req := &echopb.EchoRequest{Id: 1234567890123, Text: "hello world", Meta: &echopb.Meta{Trace: "t-1", At: 42}}
		var err error
		if get {
			_, err = echo.Get(context.Background(), req)
		} else {
			_, err = echo.Post(context.Background(), req)
		}
		return err
	}
	through := func(base string) func(bool) error {
		return func(get bool) error { _, err := call(client, base, get); return err }
	}
	for range b.N {
		base := fixedRateLoad(b, fixedRate, fixedFor, direct)
		gg := fixedRateLoad(b, fixedRate, fixedFor, through(grpcGateway))
		rb := fixedRateLoad(b, fixedRate, fixedFor, through(rpcbridge))
		for _, q := range []struct {
			name string
			q    float64
		}{{"p50", 0.5}, {"p99", 0.99}} {
			b.ReportMetric(ms(base.quantile(q.q)), "direct_grpc_"+q.name+"_ms")
			b.ReportMetric(ms(gg.quantile(q.q)), "grpcgateway_"+q.name+"_ms")
			b.ReportMetric(ms(rb.quantile(q.q)), "rpcbridge_"+q.name+"_ms")
			b.ReportMetric(ms(gg.quantile(q.q)-base.quantile(q.q)), "grpcgateway_added_"+q.name+"_ms")
			b.ReportMetric(ms(rb.quantile(q.q)-base.quantile(q.q)), "rpcbridge_added_"+q.name+"_ms")
		}
	}
}
