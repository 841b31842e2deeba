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
	// P99Lag and MaxLag describe how late requests began after their scheduled time, over all
	// targets: when they are large, the generator was held up and the run was disturbed.
	P99Lag time.Duration
	MaxLag time.Duration
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

// MedianWindowAddedP99 returns the median of the per-window added p99 (the upper one of the two
// middle values for an even number of windows), a figure one disturbed window cannot move.
func (t TargetSummary) MedianWindowAddedP99() time.Duration {
	if len(t.WindowAddedP99) == 0 {
		return 0
	}
	sorted := slices.Sorted(slices.Values(t.WindowAddedP99))
	return sorted[len(sorted)/2]
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
	lags := make([]time.Duration, 0, len(rec.Samples))
	span := rec.Span()
	for _, s := range rec.Samples {
		lags = append(lags, s.Lag)
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
	slices.Sort(lags)
	sum := Summary{Windows: windows, P99Lag: Quantile(lags, 0.99)}
	if len(lags) > 0 {
		sum.MaxLag = lags[len(lags)-1]
	}
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
	fmt.Fprintf(&b, "send lag behind schedule: p99 %.3f ms, max %.3f ms\n", Millis(s.P99Lag), Millis(s.MaxLag))
	return b.String()
}

// Millis converts d to (fractional) milliseconds, the unit benchmarks report latencies in.
func Millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Metric is one figure of a Summary in the form testing.B.ReportMetric takes.
type Metric struct {
	Value float64
	Unit  string
}

// Metrics lists the summary's figures in milliseconds, named after the targets: each target's
// p50 and p99; for the others, the added p50/p99 and the min, median and max of the per-window
// added p99; and the generator's send lag.
func (s Summary) Metrics() []Metric {
	var out []Metric
	add := func(d time.Duration, unit string) { out = append(out, Metric{Millis(d), unit}) }
	for i, t := range s.Targets {
		add(t.P50, t.Name+"_p50_ms")
		add(t.P99, t.Name+"_p99_ms")
		if i == 0 {
			continue
		}
		lo, hi := t.MinMaxWindowAddedP99()
		add(t.AddedP50, t.Name+"_added_p50_ms")
		add(t.AddedP99, t.Name+"_added_p99_ms")
		add(lo, t.Name+"_added_p99_window_min_ms")
		add(t.MedianWindowAddedP99(), t.Name+"_added_p99_window_median_ms")
		add(hi, t.Name+"_added_p99_window_max_ms")
	}
	add(s.P99Lag, "send_lag_p99_ms")
	add(s.MaxLag, "send_lag_max_ms")
	return out
}
