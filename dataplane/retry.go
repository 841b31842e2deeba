package dataplane

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
)

// The retry conditions the gateway executes: those under which the request never reached the
// upstream, so that trying another endpoint cannot run a call twice (Envoy's router filter,
// x-envoy-retry-on). A route's other conditions (5xx, gateway-error, reset, retriable-status-codes,
// ...) are not executed: they would resend requests that may have been processed.
const (
	// retryConnectFailure: no connection to the endpoint could be had (refused, unreachable,
	// connect timeout, a Dubbo connection whose handshake heartbeat went unanswered).
	retryConnectFailure = "connect-failure"
	// retryResetBeforeRequest: the connection failed before any byte of the request was written.
	retryResetBeforeRequest = "reset-before-request"
	// retryRefusedStream: the upstream refused the HTTP/2 stream (REFUSED_STREAM).
	retryRefusedStream = "refused-stream"
)

// attempt is one try of a request on one host. It returns the attempt's error and, when the
// request did not reach the host, which never-sent condition held ("" when it may have reached
// it). It must call release when the host is done with the request: at once, or when a streamed
// response ends.
type attempt func(ctx context.Context, h *host, release func()) (neverSent string, err error)

// try runs a request on the hosts the pool picks: once, and again on other hosts while the
// attempt never reached its host under one of the route's retry conditions, up to NumRetries
// retries, within the cluster's max_retries, after Envoy's fully jittered exponential back-off
// (a random wait in [0, (2^n − 1) × base), at most max). It returns the last attempt's error,
// or the pick's (errNoEndpoint, errOverflow) when no attempt could start.
func (p *pool) try(ctx context.Context, policy *routetable.RetryPolicy, run attempt) error {
	var tried []*host
	var last error
	for n := 0; ; n++ {
		h, release, err := p.pick(tried, policy != nil && policy.OtherHosts)
		if err != nil {
			if n > 0 {
				p.retries.Add(-1)
			}
			if last != nil {
				return last
			}
			return err
		}
		neverSent, err := run(ctx, h, release)
		if n > 0 {
			p.retries.Add(-1) // the retry is over
		}
		if err == nil {
			return nil
		}
		last = err
		if neverSent == "" || !policy.RetriesOn(neverSent) || n >= policy.NumRetries || ctx.Err() != nil {
			return err
		}
		if p.retries.Add(1) > int64(p.limits.MaxRetries) {
			p.retries.Add(-1)
			p.metrics.retryOverflow.WithLabelValues(p.cluster).Inc()
			return err
		}
		p.metrics.retries.WithLabelValues(p.cluster, neverSent).Inc()
		if !backOff(ctx, n+1, policy) {
			p.retries.Add(-1)
			return err
		}
		tried = append(tried, h)
	}
}

// backOff waits before retry n (1, 2, ...) and reports false when ctx ended first.
func backOff(ctx context.Context, n int, policy *routetable.RetryPolicy) bool {
	ceiling := policy.BackOffBase * time.Duration(1<<min(n, 20)-1)
	if ceiling > policy.BackOffMax {
		ceiling = policy.BackOffMax
	}
	if ceiling <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(rand.N(ceiling))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
