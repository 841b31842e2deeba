package load

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Summary is what a Recording says about each target, with target 0 as the baseline.
type Summary struct {
	// Windows is the number of consecutive windows the spread was computed over.
	Windows int
	// Targets are in the Recording's order; Targets[0] is the baseline.
	Targets []TargetSummary
}

// TargetSummary is one target's latency and what it adds to the baseline. Failed requests are
// counted in Errors and left out of the percentiles.
type TargetSummary struct {
	Name   string
	Count  int
	Errors int
	P50    time.Duration
	P99    time.Duration
	// AddedP50 and AddedP99 are this target's percentile minus the baseline's, over the whole
	// run (zero for the baseline itself).
	AddedP50 time.Duration
	AddedP99 time.Duration
	// WindowAddedP99 is the added p99 computed within each window (this target's p99 in the
	// window minus the baseline's p99 in the same window).
	WindowAddedP99 []time.Duration
}

// MinMaxWindowAddedP99 returns the smallest and largest per-window added p99.
func (t TargetSummary) MinMaxWindowAddedP99() (time.Duration, time.Duration) {
	if len(t.WindowAddedP99) == 0 {
		return 0, 0
	}
	return slices.Min(t.WindowAddedP99), slices.Max(t.WindowAddedP99)
}

// Quantile returns the q-quantile (0 < q ≤ 1) of sorted by the nearest-rank method: the
// smallest value with at least q of the sample at or below it. It returns 0 for no sample.
func Quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// Summarize computes every target's percentiles and, over windows consecutive windows of equal
// scheduled length, the spread of its added p99. A sample belongs to the window of its
// scheduled send time.
func Summarize(rec *Recording, windows int) Summary {
	windows = max(windows, 1)
	n := len(rec.Names)
	all := make([][]time.Duration, n)
	byWindow := make([][][]time.Duration, windows)
	for w := range byWindow {
		byWindow[w] = make([][]time.Duration, n)
	}
	errs := make([]int, n)
	span := rec.Span()
	for _, s := range rec.Samples {
		if s.Err != nil {
			errs[s.Target]++
			continue
		}
		all[s.Target] = append(all[s.Target], s.Latency)
		w := 0
		if span > 0 {
			w = min(int(int64(s.Scheduled)*int64(windows)/int64(span)), windows-1)
		}
		byWindow[w][s.Target] = append(byWindow[w][s.Target], s.Latency)
	}
	sum := Summary{Windows: windows}
	for i := range n {
		slices.Sort(all[i])
		sum.Targets = append(sum.Targets, TargetSummary{Name: rec.Names[i], Count: len(all[i]), Errors: errs[i],
			P50: Quantile(all[i], 0.5), P99: Quantile(all[i], 0.99)})
	}
	base := sum.Targets[0]
	for i := range sum.Targets {
		sum.Targets[i].AddedP50 = sum.Targets[i].P50 - base.P50
		sum.Targets[i].AddedP99 = sum.Targets[i].P99 - base.P99
	}
	for _, w := range byWindow {
		for i := range w {
			slices.Sort(w[i])
		}
		baseP99 := Quantile(w[0], 0.99)
		for i := range sum.Targets {
			sum.Targets[i].WindowAddedP99 = append(sum.Targets[i].WindowAddedP99, Quantile(w[i], 0.99)-baseP99)
		}
	}
	return sum
}

// String renders the summary as a small table in milliseconds.
func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-14s %7s %6s %8s %8s %10s %10s  %s\n", "target", "ok", "errors", "p50 ms", "p99 ms",
		"+p50 ms", "+p99 ms", fmt.Sprintf("+p99 per window (%d) ms", s.Windows))
	for _, t := range s.Targets {
		var wins []string
		for _, w := range t.WindowAddedP99 {
			wins = append(wins, fmt.Sprintf("%.2f", Millis(w)))
		}
		fmt.Fprintf(&b, "%-14s %7d %6d %8.3f %8.3f %10.3f %10.3f  %s\n", t.Name, t.Count, t.Errors,
			Millis(t.P50), Millis(t.P99), Millis(t.AddedP50), Millis(t.AddedP99), strings.Join(wins, " "))
	}
	return b.String()
}

// Millis converts d to (fractional) milliseconds, the unit benchmarks report latencies in.
func Millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
