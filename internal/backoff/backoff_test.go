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
