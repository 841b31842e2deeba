// Command rpcbridge-bench-xds measures how fast one endpoint change reaches many xDS clients.
//
// Each measurement starts the xDS server under test in a child process of its own (rpcbridge's
// controlplane.Server, or go-control-plane's stock SnapshotCache and server as the baseline),
// connects N simulated proxies to it over loopback from this process (raw ADS clients, each
// with its own connection, subscribed to all clusters and all their load assignments, reading
// only each load assignment's name), changes one endpoint among S services, and reports the
// time until each proxy holds it (p50, p99, max over proxies and rounds; from the moment the
// change is sent to the server process), the server process's CPU time per change, and its
// heap and RSS growth per connected proxy (after a GC, from a server that already holds the
// config to all proxies holding every load assignment, divided by N). The clients' memory and
// CPU are not counted: they share the machine's cores, not the server's heap.
// BENCH_ROUNDS=1 prints each round's slowest proxy; BENCH_HEAPPROFILE=file makes the server
// write a heap profile once the proxies are connected (the last run's); BENCH_CHANGEPROFILE=file
// makes it profile its CPU during the rounds of changes only (the last run's).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
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
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of each server process to this file, suffixed .IMPL.MODE.SxN")
	server := flag.String("server", "", "internal: serve this implementation and follow commands on stdin")
	services := flag.Int("services", 0, "internal: the number of services of -server")
	flag.DurationVar(&giveUp, "giveup", giveUp, "bound on every wait of a run (connecting all proxies, a round)")
	flag.Parse()
	if *server != "" {
		if err := runServer(*server, *services, *cpuProfile); err != nil {
			fmt.Fprintln(os.Stderr, "rpcbridge-bench-xds:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*cpuProfile, *scenarios, strings.Split(*modes, ","), strings.Split(*impls, ","), *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "rpcbridge-bench-xds:", err)
		os.Exit(1)
	}
}

func run(cpuProfile, scenarios string, modes, impls []string, rounds int) error {
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
				profile := ""
				if cpuProfile != "" {
					profile = fmt.Sprintf("%s.%s.%s.%s", cpuProfile, impl, mode, sc)
				}
				r, err := measure(impl, mode == "delta", s, n, rounds, profile)
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
				fmt.Printf("  ratio stock/rpcbridge (%s, S=%d, N=%d): p99 %.1fx, max %.1fx, cpu %.1fx, heap %.1fx\n",
					mode, s, n, float64(b.p99)/float64(a.p99), float64(b.max)/float64(a.max),
					float64(b.cpuPerChange)/float64(a.cpuPerChange), b.heapPerProxy/a.heapPerProxy)
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
		g.Clusters[i] = ir.Cluster{Name: clusterName(i), Protocol: ir.UpstreamHTTP1, Endpoints: []ir.Endpoint{
			{Address: fmt.Sprintf("10.%d.%d.1", i/250, i%250), Port: 8080, Weight: 1, Healthy: true},
			{Address: fmt.Sprintf("10.%d.%d.2", i/250, i%250), Port: 8080, Weight: 1, Healthy: true},
		}}
	}
	return g
}

// clusterName is the name of service i.
func clusterName(i int) string { return fmt.Sprintf("http:svc-%05d", i) }

// withTimeout is a give-up bound for waits.
func withTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
