package load

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// giveUp bounds waits that would otherwise hang a broken generator; never a pass criterion.
const giveUp = 10 * time.Second

func TestGenerateInterleavesTargetsInTurn(t *testing.T) {
	const perTarget = 30
	var mu sync.Mutex
	seqs := make([][]int, 3)
	var targets []Target
	for i := range 3 {
		targets = append(targets, Target{Name: string(rune('a' + i)), Send: func(_ context.Context, seq int) error {
			mu.Lock()
			defer mu.Unlock()
			seqs[i] = append(seqs[i], seq)
			return nil
		}})
	}
	rec, err := Generate(context.Background(), Options{Rate: 20000, PerTarget: perTarget}, targets)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]int, perTarget)
	for i := range want {
		want[i] = i
	}
	for i, got := range seqs {
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("target %d received seqs %v, want 0..%d once each", i, got, perTarget-1)
		}
	}
	if len(rec.Samples) != 3*perTarget {
		t.Fatalf("%d samples, want %d", len(rec.Samples), 3*perTarget)
	}
	if rec.Interval != 50*time.Microsecond {
		t.Errorf("interval %v at 20000/s, want 50µs", rec.Interval)
	}
	for i, s := range rec.Samples {
		if s.Target != i%3 || s.Scheduled != time.Duration(i)*rec.Interval || s.Err != nil {
			t.Fatalf("sample %d = %+v, want target %d scheduled at %v without error", i, s, i%3, time.Duration(i)*rec.Interval)
		}
	}
	if counts, first := rec.Errors(); slices.Max(counts) != 0 || first != nil {
		t.Errorf("errors %v (%v), want none", counts, first)
	}
}

// A request that has not answered must not hold back the next sends (a closed loop would
// deadlock here: the first request waits for the sixth), and its latency covers the whole wait.
func TestGenerateIsOpenLoop(t *testing.T) {
	sixth := make(chan struct{})
	var blocked time.Duration
	send := func(_ context.Context, seq int) error {
		switch seq {
		case 0:
			began := time.Now()
			select {
			case <-sixth:
			case <-time.After(giveUp):
				return errors.New("the sixth request was never sent while the first was outstanding")
			}
			blocked = time.Since(began)
		case 5:
			close(sixth)
		}
		return nil
	}
	rec, err := Generate(context.Background(), Options{Rate: 1000, PerTarget: 10}, []Target{{Name: "only", Send: send}})
	if err != nil {
		t.Fatal(err)
	}
	if _, first := rec.Errors(); first != nil {
		t.Fatal(first)
	}
	if got := rec.Samples[0].Latency; got < blocked {
		t.Errorf("first request's latency %v is shorter than the %v it was blocked", got, blocked)
	}
	for i, s := range rec.Samples {
		if s.Lag < 0 || s.Lag > s.Latency {
			t.Errorf("sample %d: lag %v outside [0, latency %v]", i, s.Lag, s.Latency)
		}
	}
}

func TestGenerateRecordsFailures(t *testing.T) {
	boom := errors.New("boom")
	targets := []Target{
		{Name: "ok", Send: func(context.Context, int) error { return nil }},
		{Name: "odd-fails", Send: func(_ context.Context, seq int) error {
			if seq%2 == 1 {
				return boom
			}
			return nil
		}},
	}
	rec, err := Generate(context.Background(), Options{Rate: 10000, PerTarget: 10}, targets)
	if err != nil {
		t.Fatal(err)
	}
	counts, first := rec.Errors()
	if !slices.Equal(counts, []int{0, 5}) || !errors.Is(first, boom) {
		t.Errorf("errors %v, first %v; want [0 5] and boom", counts, first)
	}
	sum := Summarize(rec, 1)
	if sum.Targets[1].Count != 5 || sum.Targets[1].Errors != 5 {
		t.Errorf("summary of the failing target: %d ok, %d errors; want 5 and 5", sum.Targets[1].Count, sum.Targets[1].Errors)
	}
}

func TestGenerateStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	send := func(context.Context, int) error {
		calls++ // the generator only runs one request at a time here: the rate is 1 per hour
		cancel()
		return nil
	}
	done := make(chan struct{})
	var rec *Recording
	var err error
	go func() {
		rec, err = Generate(ctx, Options{Rate: 1.0 / 3600, PerTarget: 5}, []Target{{Name: "t", Send: send}})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(giveUp):
		t.Fatal("Generate kept waiting for the next tick after its context was cancelled")
	}
	if !errors.Is(err, context.Canceled) || len(rec.Samples) != 1 || calls != 1 {
		t.Errorf("err %v, %d samples, %d calls; want context.Canceled after exactly one request", err, len(rec.Samples), calls)
	}
}

func TestQuantile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i + 1)
	}
	cases := []struct {
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{nil, 0.99, 0},
		{[]time.Duration{7}, 0.5, 7},
		{hundred, 0.5, 50},
		{hundred, 0.99, 99},
		{hundred, 1, 100},
		{hundred[:10], 0.99, 10},
	}
	for _, c := range cases {
		if got := Quantile(c.sorted, c.q); got != c.want {
			t.Errorf("Quantile(%d values, %g) = %v, want %v", len(c.sorted), c.q, got, c.want)
		}
	}
}

func TestSummarizeAddsPerPercentileAndPerWindow(t *testing.T) {
	// Two targets, 200 requests each, interleaved; two windows of 100 requests per target.
	// Baseline: 1 ms everywhere except 5 ms for its last two requests of each window.
	// Other: baseline + 1 ms, except 20 ms for its last two requests of the second window.
	const ms = time.Millisecond
	rec := &Recording{Names: []string{"base", "other"}, Interval: ms}
	for i := range 400 {
		target, seq := i%2, i/2
		inWindow := seq % 100
		lat := 1 * ms
		if inWindow >= 98 {
			lat = 5 * ms
		}
		if target == 1 {
			lat += ms
			if seq >= 198 {
				lat = 20 * ms
			}
		}
		rec.Samples = append(rec.Samples, Sample{Target: target, Scheduled: time.Duration(i) * ms, Latency: lat, Lag: time.Duration(i)})
	}
	sum := Summarize(rec, 2)
	base, other := sum.Targets[0], sum.Targets[1]
	if base.P50 != ms || base.P99 != 5*ms || base.AddedP99 != 0 {
		t.Errorf("baseline p50 %v p99 %v added %v; want 1ms 5ms 0", base.P50, base.P99, base.AddedP99)
	}
	if other.P50 != 2*ms || other.AddedP50 != ms || other.P99 != 6*ms || other.AddedP99 != ms {
		t.Errorf("other p50 %v (+%v) p99 %v (+%v); want 2ms (+1ms) 6ms (+1ms)", other.P50, other.AddedP50, other.P99, other.AddedP99)
	}
	if !slices.Equal(other.WindowAddedP99, []time.Duration{ms, 15 * ms}) {
		t.Errorf("per-window added p99 %v, want [1ms 15ms]", other.WindowAddedP99)
	}
	if lo, hi := other.MinMaxWindowAddedP99(); lo != ms || hi != 15*ms {
		t.Errorf("window min/max %v/%v, want 1ms/15ms", lo, hi)
	}
	if med := other.MedianWindowAddedP99(); med != 15*ms {
		t.Errorf("window median %v, want the upper middle value 15ms", med)
	}
	metrics := map[string]float64{}
	for _, m := range sum.Metrics() {
		metrics[m.Unit] = m.Value
	}
	if metrics["other_added_p99_ms"] != 1 || metrics["other_added_p99_window_max_ms"] != 15 || metrics["base_p50_ms"] != 1 {
		t.Errorf("metrics %v: want other_added_p99_ms 1, other_added_p99_window_max_ms 15, base_p50_ms 1", metrics)
	}
	if _, ok := metrics["base_added_p99_ms"]; ok {
		t.Errorf("metrics %v report an added latency for the baseline itself", metrics)
	}
	if sum.P99Lag != 395 || sum.MaxLag != 399 {
		t.Errorf("lag p99 %v max %v, want 395ns and 399ns", sum.P99Lag, sum.MaxLag)
	}
}
