package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// giveUp bounds every wait of a run (-giveup).
var giveUp = 3 * time.Minute

// result is what one run measured.
type result struct {
	p50, p99, max             time.Duration
	cpuPerChange              time.Duration
	heapPerProxy, rssPerProxy float64
}

// measure runs one implementation and variant: start its server with s services in a child
// process, connect n proxies, then change one endpoint per round and time its arrival at every
// proxy. Memory and CPU are the server process's alone.
func measure(impl string, delta bool, s, n, rounds int, cpuProfile string) (result, error) {
	var r result
	srv, err := startServerProc(impl, s, cpuProfile)
	if err != nil {
		return r, err
	}
	defer srv.stop()
	// Memory is measured from here: what connected proxies add to a server holding the config.
	heap0, rss0, err := srv.memory()
	if err != nil {
		return r, err
	}
	ctx, cancel := withTimeout(giveUp)
	defer cancel()
	proxies := make([]*proxy, n)
	for i := range proxies {
		if proxies[i], err = dialProxy(ctx, srv.addr, i, delta, s); err != nil {
			return r, err
		}
		defer proxies[i].conn.Close()
	}
	for _, p := range proxies {
		select {
		case <-p.ready:
		case <-ctx.Done():
			return r, fmt.Errorf("proxies did not receive all %d load assignments: %w", s, ctx.Err())
		}
	}
	heap1, rss1, err := srv.memory()
	if err != nil {
		return r, err
	}
	if path := os.Getenv("BENCH_HEAPPROFILE"); path != "" {
		if err := srv.heapProfile(path); err != nil {
			return r, err
		}
	}
	r.heapPerProxy = (heap1 - heap0) / float64(n)
	r.rssPerProxy = (rss1 - rss0) / float64(n)

	var latencies []time.Duration
	cpu0, err := srv.cpu()
	if err != nil {
		return r, err
	}
	if path := os.Getenv("BENCH_CHANGEPROFILE"); path != "" {
		if err := srv.startProfile(path); err != nil {
			return r, err
		}
	}
	for round := range rounds {
		idx := (round*7919 + 1) % s
		port := uint32(10000 + round)
		name := clusterName(idx)
		waits := make([]<-chan time.Time, n)
		for i, p := range proxies {
			waits[i] = p.expect(name, port)
		}
		start := time.Now()
		if err := srv.change(idx, port); err != nil {
			return r, err
		}
		var roundMax time.Duration
		for _, w := range waits {
			select {
			case at := <-w:
				latencies = append(latencies, at.Sub(start))
				roundMax = max(roundMax, at.Sub(start))
			case <-ctx.Done():
				return r, fmt.Errorf("round %d: not every proxy got the change: %w", round, ctx.Err())
			}
		}
		if os.Getenv("BENCH_ROUNDS") != "" {
			fmt.Fprintf(os.Stderr, "round %d max %s\n", round, roundMax)
		}
		// Let stragglers' ACKs settle so rounds do not overlap.
		time.Sleep(50 * time.Millisecond)
	}
	if os.Getenv("BENCH_CHANGEPROFILE") != "" {
		if err := srv.stopProfile(); err != nil {
			return r, err
		}
	}
	cpu1, err := srv.cpu()
	if err != nil {
		return r, err
	}
	r.cpuPerChange = (cpu1 - cpu0) / time.Duration(rounds)
	slices.Sort(latencies)
	r.p50 = latencies[len(latencies)/2]
	r.p99 = latencies[(len(latencies)*99)/100]
	r.max = latencies[len(latencies)-1]
	return r, nil
}

// settledMemory is memory once the heap stops shrinking, so that what a previous run left
// behind (streams still ending) is not counted.
func settledMemory() (heap, rss float64) {
	heap, rss = memory()
	for range 20 {
		time.Sleep(100 * time.Millisecond)
		h, r := memory()
		if h > heap*0.995 {
			return h, r
		}
		heap, rss = h, r
	}
	return heap, rss
}

// memory returns the live heap after a GC and the resident set size, in bytes.
func memory() (heap, rss float64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heap = float64(ms.HeapAlloc)
	status, err := os.ReadFile("/proc/self/status")
	if err == nil {
		for _, line := range strings.Split(string(status), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
				kb, _ := strconv.ParseFloat(f[1], 64)
				rss = kb * 1024
			}
		}
	}
	return heap, rss
}

// cpuTime is the process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
