// Package peakrss measures what a burst of requests costs a process's memory, in a process of
// its own: a benchmark re-executes its test binary with a scenario in an environment variable
// (Bench), the child sets the scenario up, settles, takes its idle RSS as the baseline, resets the
// kernel's peak mark (/proc/self/clear_refs), runs the burst and reports the peak (VmHWM), what
// the Go heap allocated and the status codes answered (Measure). A fresh process keeps earlier
// scenarios' heap out of the figure. Linux only.
package peakrss

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Result is what one burst cost.
type Result struct {
	// IdleRSS is the child's RSS just before the burst, PeakRSS its peak during it.
	IdleRSS, PeakRSS int64
	// Allocated is what the Go heap allocated during the burst.
	Allocated int64
	// Statuses counts the status codes answered (-1: the request failed).
	Statuses map[int]int
}

// Supported says why peaks cannot be measured here, or nil.
func Supported() error {
	if _, err := os.Stat("/proc/self/clear_refs"); err != nil {
		return fmt.Errorf("needs Linux /proc/self/clear_refs to reset the peak RSS: %w", err)
	}
	return nil
}

// Bench runs the scenario spec (JSON-encoded into the environment variable env of a child,
// which must run it: see Measure) b.N times and reports the means of the peak over idle, the
// allocation and the idle RSS, in MiB.
func Bench(b *testing.B, env, name string, spec any) {
	b.Helper()
	raw, err := json.Marshal(spec)
	if err != nil {
		b.Fatal(err)
	}
	var peak, alloc, idle float64
	for range b.N {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), env+"="+string(raw))
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("scenario %s: %v", name, err)
		}
		var res Result
		if err := json.Unmarshal(out, &res); err != nil {
			b.Fatalf("scenario %s: bad child output %q: %v", name, out, err)
		}
		peak += mib(res.PeakRSS - res.IdleRSS)
		alloc += mib(res.Allocated)
		idle += mib(res.IdleRSS)
		b.Logf("%s: idle RSS %.1f MiB, peak %.1f MiB (+%.1f MiB), allocated %.1f MiB, statuses %v", name,
			mib(res.IdleRSS), mib(res.PeakRSS), mib(res.PeakRSS-res.IdleRSS), mib(res.Allocated), res.Statuses)
	}
	n := float64(b.N)
	b.ReportMetric(peak/n, "MiB-peak-RSS-over-idle")
	b.ReportMetric(alloc/n, "MiB-allocated")
	b.ReportMetric(idle/n, "MiB-idle-RSS")
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// Measure is the child's part: once the scenario is set up, it settles the process, takes the
// baseline, runs concurrent calls of request at once, reads the peak and prints the Result on
// stdout for Bench. request returns the status code it got (-1 when it failed).
func Measure(concurrent int, request func() int) error {
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return fmt.Errorf("reset peak RSS: %w", err)
	}
	idle, err := procStatusBytes("VmRSS")
	if err != nil {
		return err
	}
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	res := Result{IdleRSS: idle, Statuses: map[int]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range concurrent {
		wg.Go(func() {
			code := request()
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
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(res)
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
