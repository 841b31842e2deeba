// Package consulwatch follows a Consul blocking query by the rules of Consul's documentation
// (https://developer.hashicorp.com/consul/api-docs/features/blocking): the index goes back to
// 0 when it moves backwards, a 0 index is never sent back, requests are spaced so that a query
// that returns at once cannot spin, and failures back off. The registry adapter and the store
// backend both watch Consul through it.
package consulwatch

import (
	"context"
	"time"

	"github.com/rpcbridge/rpcbridge/internal/backoff"
)

// minQueryInterval spaces the requests of one loop, so that a query that keeps returning at once
// (an index reset, a flapping check) cannot spin.
const minQueryInterval = 100 * time.Millisecond

// retry spaces the requests of one loop after failed ones. The jitter keeps the watchers of many
// services, which fail together when the agent goes away, from retrying in step.
var retry = backoff.Config{BaseDelay: 200 * time.Millisecond, Multiplier: 2, Jitter: 0.2, MaxDelay: 5 * time.Second}

// Query asks Consul once, waiting for an index after the given one, and returns the answer with
// the index it carries.
type Query[T any] func(ctx context.Context, index uint64) (T, uint64, error)

// Loop runs query until ctx ends, following Consul's blocking-query rules: the index goes
// back to 0 when it moves backwards (or after an error: the agent may have restarted with a
// fresh index), a 0 index from the server becomes 1, requests are spaced by minQueryInterval,
// and failures back off (see retry).
//
// report is called with every error, with the first answer after start or after an error, and
// with every answer whose index moved; an answer is no guarantee of a change, so the receiver
// compares content. report returns false when the receiver is gone, which ends the loop.
func Loop[T any](ctx context.Context, query Query[T], report func(T, error) bool) {
	var index uint64
	reported := false
	failures := 0
	for ctx.Err() == nil {
		start := time.Now()
		v, got, err := query(ctx, index)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			var zero T
			index, reported = 0, false
			if !report(zero, err) || !backoff.Sleep(ctx, retry.Backoff(failures)) {
				return
			}
			failures++
			continue
		}
		failures = 0
		next := nextIndex(index, got)
		if !reported || got != index {
			if !report(v, nil) {
				return
			}
			reported = true
		}
		index = next
		if !backoff.Sleep(ctx, minQueryInterval-time.Since(start)) {
			return
		}
	}
}

// nextIndex is the index of the next blocking query, given the one just used and the one the
// answer carried.
func nextIndex(used, got uint64) uint64 {
	switch {
	case got < used:
		return 0
	case got == 0:
		return 1
	}
	return got
}

// RequestTimeout bounds one blocking request that waits up to wait: the wait, Consul's jitter
// of up to wait/16, and time for the answer, so that a peer that vanished without closing the
// connection is noticed.
func RequestTimeout(wait time.Duration) time.Duration {
	return wait + wait/16 + 10*time.Second
}
