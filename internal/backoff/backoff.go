// Package backoff is rpcbridge's one retry-delay mechanism: how long to wait after a number of
// consecutive failures (exponential growth from a base delay to a maximum, randomised by a
// jitter factor so that retriers that failed together do not retry in lockstep), and a wait that
// ends early when its context does.
//
// It follows grpc-go's internal/backoff (Exponential.Backoff(retries), configured by
// google.golang.org/grpc/backoff.Config) and the gRPC connection-backoff algorithm
// (https://github.com/grpc/grpc/blob/master/doc/connection-backoff.md). The delay is a pure
// function of the failure count, so every caller keeps its count where it keeps the rest of its
// state (a connection slot, a cache entry, a stream), under its own lock, and nothing here has
// state of its own. Unlike grpc-go, the first delay (retries 0) is jittered too.
package backoff

import (
	"context"
	"math"
	"math/rand/v2"
	"time"
)

// Config says how retry delays grow. Its zero value retries at once.
type Config struct {
	// BaseDelay is the delay after the first failure.
	BaseDelay time.Duration
	// Multiplier is what each further failure multiplies the delay by (values below 1 count as 1).
	Multiplier float64
	// Jitter randomises each delay by up to ±Jitter of it (0: none; gRPC uses 0.2).
	Jitter float64
	// MaxDelay caps the delay before the jitter is applied (0: no cap).
	MaxDelay time.Duration
}

// Backoff returns how long to wait before the next attempt after retries+1 consecutive failures:
// retries 0 is the wait after the first failure. A negative retries counts as 0.
func (c Config) Backoff(retries int) time.Duration {
	d, limit := float64(c.BaseDelay), float64(c.MaxDelay)
	if limit <= 0 {
		limit = math.MaxInt64
	}
	for ; retries > 0 && d < limit && c.Multiplier > 1; retries-- {
		d *= c.Multiplier
	}
	d = min(d, limit)
	d *= 1 + c.Jitter*(2*rand.Float64()-1)
	switch {
	case d <= 0:
		return 0
	case d >= math.MaxInt64:
		return math.MaxInt64
	}
	return time.Duration(d)
}

// Sleep waits for d, or less when ctx ends first; it reports whether ctx is still alive. A d of
// zero or less returns at once.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Jittered is Envoy's fully jittered exponential back-off (source/common/common/
// backoff_strategy.cc JitteredBackOffStrategy, used by the router's retry_back_off): retry n
// (1, 2, ...) waits a random time in [0, interval), where the interval starts at base and
// doubles with each retry until doubling would reach past maxDelay/2, when it becomes maxDelay.
// A base of zero or less waits nothing; a maxDelay below base counts as base.
func Jittered(base, maxDelay time.Duration, n int) time.Duration {
	if base <= 0 {
		return 0
	}
	maxDelay = max(maxDelay, base)
	interval := base
	for i := 1; i < n && interval < maxDelay; i++ {
		if interval < maxDelay/2 {
			interval *= 2
		} else {
			interval = maxDelay
		}
	}
	return rand.N(interval)
}
