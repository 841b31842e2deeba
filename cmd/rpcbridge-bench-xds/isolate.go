package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// childResult is how a child process hands its measurement back.
type childResult struct {
	P50, P99, Max, CPUPerChange time.Duration
	HeapPerProxy, RSSPerProxy   float64
}

// measureIsolated runs one measurement in a fresh process of this program, so that one server's
// leftovers (streams still closing, garbage, a grown heap) do not slow or inflate the next.
func measureIsolated(impl string, delta bool, s, n, rounds int) (result, error) {
	mode := "sotw"
	if delta {
		mode = "delta"
	}
	exe, err := os.Executable()
	if err != nil {
		return result{}, fmt.Errorf("finding this program: %w", err)
	}
	cmd := exec.Command(exe, "-child", "-impls", impl, "-modes", mode,
		"-scenarios", strconv.Itoa(s)+"x"+strconv.Itoa(n), "-rounds", strconv.Itoa(rounds))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return result{}, fmt.Errorf("child %s %s %dx%d: %w", impl, mode, s, n, err)
	}
	var cr childResult
	if err := json.Unmarshal(bytes.TrimSpace(out), &cr); err != nil {
		return result{}, fmt.Errorf("child %s %s %dx%d printed %q: %w", impl, mode, s, n, out, err)
	}
	return result{p50: cr.P50, p99: cr.P99, max: cr.Max, cpuPerChange: cr.CPUPerChange,
		heapPerProxy: cr.HeapPerProxy, rssPerProxy: cr.RSSPerProxy}, nil
}

// runChild measures the one scenario, mode and server it was given and prints the result as
// JSON.
func runChild(scenario, mode, impl string, rounds int) error {
	s, n, err := parseScenario(scenario)
	if err != nil {
		return err
	}
	r, err := measure(impl, mode == "delta", s, n, rounds)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(childResult{P50: r.p50, P99: r.p99, Max: r.max,
		CPUPerChange: r.cpuPerChange, HeapPerProxy: r.heapPerProxy, RSSPerProxy: r.rssPerProxy})
}
