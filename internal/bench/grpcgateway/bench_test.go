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
	"github.com/rpcbridge/rpcbridge/internal/bench/load"
)

// Load shape; each benchmark stays within about a minute.
const (
	workers     = 16
	closedRound = time.Second
	rounds      = 6
	// fixedRate requests per second over the three fixed-rate targets together (a third each),
	// fixedPerTarget requests each, the spread over fixedWindows consecutive windows.
	fixedRate      = 600
	fixedPerTarget = 10000
	fixedWindows   = 5
	fixedWarmUp    = 600 // requests per target first sent at the same rate and left out
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

// closedLoop runs workers that each send requests back to back (GET and POST alternating) to base
// for d, and returns their latencies and the time taken.
func closedLoop(tb testing.TB, client *http.Client, base string, d time.Duration) ([]time.Duration, time.Duration) {
	tb.Helper()
	var mu sync.Mutex
	var all []time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(d)
	for w := range workers {
		wg.Go(func() {
			var mine []time.Duration
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
	return all, time.Since(start)
}

// BenchmarkClosedLoop sends the same closed-loop load (16 concurrent clients, GET and POST
// alternating) through grpc-gateway and through rpcbridge's embedded gateway in six 1 s rounds
// each, alternating which goes first (ABBA…), and reports each one's throughput and latency
// quantiles, their ratio and difference.
// Run it once: go test ./internal/bench/grpcgateway -run '^$' -bench ClosedLoop -benchtime 1x
func BenchmarkClosedLoop(b *testing.B) {
	client, grpcGateway, rpcbridge, _ := targets(b)
	for range b.N {
		var gg, rb []time.Duration
		var ggTime, rbTime time.Duration
		for r := range rounds {
			order := []string{grpcGateway, rpcbridge}
			if r%2 == 1 {
				order[0], order[1] = order[1], order[0]
			}
			for _, base := range order {
				l, took := closedLoop(b, client, base, closedRound)
				if base == grpcGateway {
					gg, ggTime = append(gg, l...), ggTime+took
				} else {
					rb, rbTime = append(rb, l...), rbTime+took
				}
			}
		}
		slices.Sort(gg)
		slices.Sort(rb)
		ggRPS, rbRPS := float64(len(gg))/ggTime.Seconds(), float64(len(rb))/rbTime.Seconds()
		b.ReportMetric(ggRPS, "grpcgateway_req/s")
		b.ReportMetric(rbRPS, "rpcbridge_req/s")
		b.ReportMetric(rbRPS/ggRPS, "throughput_ratio")
		b.ReportMetric(load.Millis(load.Quantile(gg, 0.5)), "grpcgateway_p50_ms")
		b.ReportMetric(load.Millis(load.Quantile(gg, 0.99)), "grpcgateway_p99_ms")
		b.ReportMetric(load.Millis(load.Quantile(rb, 0.5)), "rpcbridge_p50_ms")
		b.ReportMetric(load.Millis(load.Quantile(rb, 0.99)), "rpcbridge_p99_ms")
	}
}

// BenchmarkFixedRate sends an open-loop load of 600 requests per second (GET and POST
// alternating per target), interleaved tick by tick over three targets: a direct gRPC call (the
// baseline), grpc-gateway and rpcbridge's embedded gateway, 10,000 requests each (about 50 s,
// after a 3 s warm-up that is left out).
// Latency counts from each request's scheduled send time. It reports each target's p50/p99,
// what each gateway adds to the direct call at the same percentile, and the smallest and
// largest added p99 over 5 consecutive windows of the run (its stability), and how far the
// generator's sends fell behind schedule (large when the machine held the process up).
// Run it once: go test ./internal/bench/grpcgateway -run '^$' -bench FixedRate -benchtime 1x
func BenchmarkFixedRate(b *testing.B) {
	client, grpcGateway, rpcbridge, upstream := targets(b)
	conn, err := grpc.NewClient(upstream, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	echo := echopb.NewEchoServiceClient(conn)
	direct := func(ctx context.Context, seq int) error {
		req := &echopb.EchoRequest{Id: 1234567890123, Text: "hello world", Meta: &echopb.Meta{Trace: "t-1", At: 42}}
		var err error
		if seq%2 == 0 {
			_, err = echo.Get(ctx, req)
		} else {
			_, err = echo.Post(ctx, req)
		}
		return err
	}
	through := func(base string) func(context.Context, int) error {
		return func(_ context.Context, seq int) error { _, err := call(client, base, seq%2 == 0); return err }
	}
	loadTargets := []load.Target{
		{Name: "direct_grpc", Send: direct},
		{Name: "grpcgateway", Send: through(grpcGateway)},
		{Name: "rpcbridge", Send: through(rpcbridge)},
	}
	if _, err := load.Generate(context.Background(), load.Options{Rate: fixedRate, PerTarget: fixedWarmUp}, loadTargets); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		rec, err := load.Generate(context.Background(), load.Options{Rate: fixedRate, PerTarget: fixedPerTarget}, loadTargets)
		if err != nil {
			b.Fatal(err)
		}
		if _, first := rec.Errors(); first != nil {
			b.Errorf("failed requests, first: %v", first)
		}
		reportFixedRate(b, load.Summarize(rec, fixedWindows))
	}
}

// reportFixedRate reports a fixed-rate summary as benchmark metrics and logs its table.
func reportFixedRate(b *testing.B, sum load.Summary) {
	b.Logf("\n%s", sum)
	for _, m := range sum.Metrics() {
		b.ReportMetric(m.Value, m.Unit)
	}
}
