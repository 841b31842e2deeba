package backoff

import (
	"context"
	"testing"
	"time"
)

func TestBackoffWithoutJitter(t *testing.T) {
	c := Config{BaseDelay: 100 * time.Millisecond, Multiplier: 2, MaxDelay: 30 * time.Second}
	for retries, want := range map[int]time.Duration{
		-1: 100 * time.Millisecond, 0: 100 * time.Millisecond, 1: 200 * time.Millisecond,
		8: 25600 * time.Millisecond, 9: 30 * time.Second, 1000: 30 * time.Second,
	} {
		if got := c.Backoff(retries); got != want {
			t.Errorf("Backoff(%d) = %s, want %s", retries, got, want)
		}
	}
}

func TestBackoffJitterStaysInBounds(t *testing.T) {
	c := Config{BaseDelay: time.Second, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 10 * time.Second}
	varied := false
	for i := range 1000 {
		retries := i % 12
		base := Config{BaseDelay: c.BaseDelay, Multiplier: c.Multiplier, MaxDelay: c.MaxDelay}.Backoff(retries)
		got := c.Backoff(retries)
		if lo, hi := time.Duration(0.8*float64(base)), time.Duration(1.2*float64(base)); got < lo || got > hi {
			t.Fatalf("Backoff(%d) = %s, outside [%s, %s]", retries, got, lo, hi)
		}
		varied = varied || got != base
	}
	if !varied {
		t.Error("a jitter of 0.2 never changed a delay")
	}
}

func TestBackoffEdgeConfigs(t *testing.T) {
	if got := (Config{}).Backoff(5); got != 0 {
		t.Errorf("zero Config: %s, want 0", got)
	}
	if got := (Config{BaseDelay: time.Second, Multiplier: 0.5}).Backoff(5); got != time.Second {
		t.Errorf("a multiplier below 1 shrank the delay: %s", got)
	}
	if got := (Config{BaseDelay: time.Hour, Multiplier: 10}).Backoff(1000); got <= 0 {
		t.Errorf("an uncapped delay overflowed: %s", got)
	}
	if got := (Config{BaseDelay: 5 * time.Second, Multiplier: 2, MaxDelay: time.Second}).Backoff(0); got != time.Second {
		t.Errorf("a base above the cap: %s, want the cap", got)
	}
}

func TestSleep(t *testing.T) {
	if !Sleep(context.Background(), time.Millisecond) {
		t.Error("Sleep with a live context reported it dead")
	}
	if !Sleep(context.Background(), 0) {
		t.Error("Sleep(0) with a live context reported it dead")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Sleep(ctx, time.Hour) { // returns at once: the test would time out otherwise
		t.Error("Sleep with an ended context reported it alive")
	}
	if Sleep(ctx, 0) {
		t.Error("Sleep(0) with an ended context reported it alive")
	}
}

func TestJitteredFollowsEnvoy(t *testing.T) {
	// Envoy's JitteredBackOffStrategy with base 25 ms and max 250 ms: intervals 25, 50, 100, 200,
	// then 250 (doubling 200 would pass max/2), and 250 from then on.
	base, maxDelay := 25*time.Millisecond, 250*time.Millisecond
	for n, interval := range map[int]time.Duration{1: 25, 2: 50, 3: 100, 4: 200, 5: 250, 9: 250} {
		interval *= time.Millisecond
		var highest time.Duration
		for range 2000 {
			d := Jittered(base, maxDelay, n)
			if d < 0 || d >= interval {
				t.Fatalf("retry %d: %s outside [0, %s)", n, d, interval)
			}
			highest = max(highest, d)
		}
		if highest < interval*3/4 {
			t.Errorf("retry %d: highest of 2000 delays %s, want close to %s", n, highest, interval)
		}
	}
	if d := Jittered(0, time.Second, 3); d != 0 {
		t.Errorf("base 0: %s, want 0", d)
	}
	if d := Jittered(time.Second, time.Millisecond, 4); d >= time.Second {
		t.Errorf("max below base: %s, want below the base", d)
	}
}
