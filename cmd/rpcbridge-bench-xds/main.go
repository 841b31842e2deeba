// Command rpcbridge-bench-xds measures how fast one endpoint change reaches many xDS clients.
//
// It connects N simulated proxies (raw ADS clients, each with its own connection, subscribed to
// all clusters and all their load assignments, reading only each load assignment's name) to
// rpcbridge's controlplane.Server over loopback, changes one endpoint among S services, and
// reports the time until each proxy holds it (p50, p99, max over proxies and rounds), the
// process CPU time spent per change, and heap and RSS growth per connected proxy (after a GC,
// from a server that already holds the config to all proxies holding every load assignment,
// divided by the number of proxies). It runs the
// same workload against go-control-plane's stock SnapshotCache and server and prints the ratio.
// Each measurement runs in a fresh process (-shared keeps them in one; -cpuprofile implies it).
// Clients run in the same process as their server, so CPU and memory figures include them:
// per-proxy memory is an upper bound for the server's share. BENCH_ROUNDS=1 prints each round's slowest proxy;
// BENCH_HEAPPROFILE=file writes a heap profile once the proxies are connected (the last run's).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

func main() {
	scenarios := flag.String("scenarios", "1000x200,10000x50", "comma-separated SERVICESxPROXIES")
	modes := flag.String("modes", "delta,sotw", "comma-separated xDS variants: delta, sotw")
	impls := flag.String("impls", "rpcbridge,stock", "comma-separated servers: rpcbridge, stock")
	rounds := flag.Int("rounds", 5, "endpoint changes per run")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	shared := flag.Bool("shared", false, "run every measurement in this process instead of a fresh one each")
	child := flag.Bool("child", false, "internal: measure one scenario, mode and server, print JSON")
	flag.Parse()
	if *child {
		if err := runChild(*scenarios, *modes, *impls, *rounds); err != nil {
			fmt.Fprintln(os.Stderr, "rpcbridge-bench-xds:", err)
			os.Exit(1)
		}
		return
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "rpcbridge-bench-xds:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	measureOne := measureIsolated
	if *shared || *cpuProfile != "" {
		measureOne = measure
	}
	if err := run(measureOne, *scenarios, strings.Split(*modes, ","), strings.Split(*impls, ","), *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "rpcbridge-bench-xds:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// measureFunc measures one server, variant and scenario.
type measureFunc func(impl string, delta bool, s, n, rounds int) (result, error)

func run(measureOne measureFunc, scenarios string, modes, impls []string, rounds int) error {
	fmt.Printf("%-9s %-6s %-5s %-9s %10s %10s %10s %12s %12s %12s\n",
		"impl", "mode", "S", "N", "p50", "p99", "max", "cpu/change", "heap/proxy", "rss/proxy")
	for _, sc := range strings.Split(scenarios, ",") {
		s, n, err := parseScenario(sc)
		if err != nil {
			return err
		}
		for _, mode := range modes {
			results := map[string]result{}
			for _, impl := range impls {
				r, err := measureOne(impl, mode == "delta", s, n, rounds)
				if err != nil {
					return fmt.Errorf("%s %s %s: %w", impl, mode, sc, err)
				}
				results[impl] = r
				fmt.Printf("%-9s %-6s %-5d %-9d %10s %10s %10s %12s %10.3fMB %10.3fMB\n",
					impl, mode, s, n, r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond),
					r.max.Round(time.Microsecond), r.cpuPerChange.Round(time.Microsecond),
					r.heapPerProxy/1e6, r.rssPerProxy/1e6)
			}
			if a, b := results["rpcbridge"], results["stock"]; a.p99 > 0 && b.p99 > 0 {
				fmt.Printf("  ratio stock/rpcbridge (%s, S=%d, N=%d): p99 %.1fx, max %.1fx, cpu %.1fx\n",
					mode, s, n, float64(b.p99)/float64(a.p99), float64(b.max)/float64(a.max),
					float64(b.cpuPerChange)/float64(a.cpuPerChange))
			}
		}
	}
	return nil
}

func parseScenario(sc string) (int, int, error) {
	a, b, ok := strings.Cut(sc, "x")
	s, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || s < 1 || n < 1 {
		return 0, 0, fmt.Errorf("scenario %q: want SERVICESxPROXIES", sc)
	}
	return s, n, nil
}

// gateway has s HTTP services with two endpoints each.
func gateway(s int) ir.Gateway {
	g := ir.Gateway{Clusters: make([]ir.Cluster, s)}
	for i := range s {
		g.Clusters[i] = ir.Cluster{Name: fmt.Sprintf("http:svc-%05d", i), Protocol: ir.UpstreamHTTP1, Endpoints: []ir.Endpoint{
			{Address: fmt.Sprintf("10.%d.%d.1", i/250, i%250), Port: 8080, Weight: 1, Healthy: true},
			{Address: fmt.Sprintf("10.%d.%d.2", i/250, i%250), Port: 8080, Weight: 1, Healthy: true},
		}}
	}
	return g
}

// withTimeout is a give-up bound for waits.
func withTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
