package dataplane

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"google.golang.org/grpc/codes"

	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
	"github.com/rpcbridge/rpcbridge/internal/backoff"
)

// The retry conditions (retry_on) the gateway executes, with the meaning of Envoy's router
// (source/common/router/retry_state_impl.cc: wouldRetryFromHeaders for an answer,
// wouldRetryFromReset for an attempt that failed without one).
const (
	// retryConnectFailure: no connection to the endpoint could be had (refused, unreachable,
	// connect timeout, a Dubbo connection whose handshake heartbeat went unanswered).
	retryConnectFailure = "connect-failure"
	// retryResetBeforeRequest: the connection failed before any byte of the request was written.
	retryResetBeforeRequest = "reset-before-request"
	// retryRefusedStream: the upstream refused the HTTP/2 stream (REFUSED_STREAM).
	retryRefusedStream = "refused-stream"
	// retryReset: the attempt failed without an answer (any of the above, a connection lost after
	// the request was sent, a per-try timeout).
	retryReset = "reset"
	// retry5xx: an answer of 500..599, or any failure without an answer (Envoy counts a reset
	// as a 5xx).
	retry5xx = "5xx"
	// retryGatewayError: an answer of 502, 503 or 504, or any failure without an answer.
	retryGatewayError = "gateway-error"
	// retryRetriable4xx: an answer of 409.
	retryRetriable4xx = "retriable-4xx"
	// retryStatusCodes: an answer whose status is one of retriable_status_codes.
	retryStatusCodes = "retriable-status-codes"
	// retryRateLimited: an answer with x-envoy-ratelimited, which no other condition retries.
	retryRateLimited = "envoy-ratelimited"
)

// grpcRetryConditions are the gRPC retry_on conditions by the status they retry.
var grpcRetryConditions = map[codes.Code]string{
	codes.Canceled: "cancelled", codes.DeadlineExceeded: "deadline-exceeded", codes.Internal: "internal",
	codes.ResourceExhausted: "resource-exhausted", codes.Unavailable: "unavailable",
}

// errPerTryTimeout is the cancellation cause of an attempt whose per_try_timeout expired; the
// error of such an attempt wraps it (answered 504, as Envoy answers upstream_per_try_timeout).
var errPerTryTimeout = errors.New("per-try timeout expired")

// failureKind is how an attempt failed, as Envoy's router tells its retry state.
type failureKind int

const (
	// failedNot: the attempt succeeded, or failed in a way no condition retries (the client went
	// away, the route timeout expired, the gateway refused the request itself).
	failedNot failureKind = iota
	// failedAnswer: the upstream answered with a status (failure.status, failure.grpcStatus).
	failedAnswer
	// failedConnect: no connection (Envoy's reset reason ConnectionFailure).
	failedConnect
	// failedBeforeRequest: the connection failed before the request was written.
	failedBeforeRequest
	// failedRefusedStream: the HTTP/2 stream was refused (RemoteRefusedStreamReset).
	failedRefusedStream
	// failedReset: the connection or stream failed after the request may have been sent.
	failedReset
	// failedPerTryTimeout: the attempt's per_try_timeout expired (a local reset).
	failedPerTryTimeout
)

// failure is what an attempt's outcome says to the route's retry policy.
type failure struct {
	kind failureKind
	// status is the answer's HTTP status (failedAnswer).
	status int
	// grpcStatus is the gRPC status an answer carries in its headers; OK when none (no
	// condition retries OK).
	grpcStatus codes.Code
	// rateLimited is an answer with x-envoy-ratelimited.
	rateLimited bool
}

// answered is the failure of an answer with an HTTP status and no gRPC status.
func answered(status int) failure { return failure{kind: failedAnswer, status: status} }

// grpcAnswered is the failure of a gRPC answer: HTTP status 200 with a gRPC status.
func grpcAnswered(code codes.Code) failure {
	return failure{kind: failedAnswer, status: 200, grpcStatus: code}
}

// attemptResult is one attempt's outcome: its error, what its failure says to the retry policy, and,
// for an answer that can be retried (an HTTP 5xx), how to drop it when it is.
type attemptResult struct {
	err     error
	failure failure
	discard func()
}

// retryCondition returns the condition of policy under which f is retried, "" when none.
func retryCondition(policy *routetable.RetryPolicy, f failure) string {
	if policy == nil {
		return ""
	}
	on := policy.RetriesOn
	switch f.kind {
	case failedNot:
		return ""
	case failedAnswer:
		if f.rateLimited { // an upstream Envoy limited the request: only envoy-ratelimited retries it
			return pick(on(retryRateLimited), retryRateLimited)
		}
		switch {
		case on(retry5xx) && f.status >= 500 && f.status <= 599:
			return retry5xx
		case on(retryGatewayError) && f.status >= 502 && f.status <= 504:
			return retryGatewayError
		case on(retryRetriable4xx) && f.status == 409:
			return retryRetriable4xx
		case on(retryStatusCodes) && slices.Contains(policy.RetriableStatusCodes, f.status):
			return retryStatusCodes
		}
		if c, ok := grpcRetryConditions[f.grpcStatus]; ok && on(c) {
			return c
		}
		return ""
	}
	// A failure without an answer: Envoy's wouldRetryFromReset.
	switch {
	case f.kind == failedConnect && on(retryConnectFailure):
		return retryConnectFailure
	case f.kind == failedRefusedStream && on(retryRefusedStream):
		return retryRefusedStream
	case (f.kind == failedConnect || f.kind == failedBeforeRequest) && on(retryResetBeforeRequest):
		return retryResetBeforeRequest
	case on(retryReset):
		return retryReset
	case on(retry5xx):
		return retry5xx
	case on(retryGatewayError):
		return retryGatewayError
	}
	return ""
}

// pick is condition when ok, else "".
func pick(ok bool, condition string) string {
	if ok {
		return condition
	}
	return ""
}

// attempt is one try of a request on one host, within ctx (the request's, bounded by the
// policy's per_try_timeout). It must call release when the host is done with the request: at
// once, or when a streamed response ends.
type attempt func(ctx context.Context, h *host, release func()) attemptResult

// try runs a request on the hosts the pool picks: once, and again while an attempt failed under
// one of the route's retry conditions, up to NumRetries retries, while the cluster's retry limit
// allows (max_retries, or its retry_budget), after Envoy's fully jittered exponential back-off.
// It returns the last attempt's error (nil when its answer is to be sent, a 5xx included), or
// the pick's (errNoEndpoint, errOverflow) when no attempt could start. The route's
// retriable_request_headers are the caller's to check (policy nil: no retries).
func (p *pool) try(ctx context.Context, policy *routetable.RetryPolicy, run attempt) error {
	var tried []*host
	var last error
	for n := 0; ; n++ {
		h, release, err := p.pick(ctx, tried, policy != nil && policy.OtherHosts)
		if err != nil {
			if n > 0 {
				p.retries.Add(-1)
			}
			if last != nil {
				return last
			}
			return err
		}
		actx, cancel := ctx, context.CancelFunc(func() {})
		if policy != nil && policy.PerTryTimeout > 0 {
			actx, cancel = context.WithTimeoutCause(ctx, policy.PerTryTimeout, errPerTryTimeout)
		}
		res := run(actx, h, func() { release(); cancel() })
		if n > 0 {
			p.retries.Add(-1) // the retry is over
		}
		if res.err != nil && ctx.Err() == nil && errors.Is(context.Cause(actx), errPerTryTimeout) {
			res = attemptResult{err: fmt.Errorf("%w: %w", errPerTryTimeout, res.err), failure: failure{kind: failedPerTryTimeout}}
			cancel()
		}
		if res.err == nil && res.failure.kind == failedNot {
			return nil
		}
		last = res.err
		condition := retryCondition(policy, res.failure)
		if condition == "" || n >= policy.NumRetries || ctx.Err() != nil {
			return res.err
		}
		if p.retries.Add(1) > p.retryLimit() {
			p.retries.Add(-1)
			p.metrics.retryOverflow.WithLabelValues(p.cluster).Inc()
			return res.err
		}
		if res.discard != nil {
			res.discard()
		}
		p.metrics.retries.WithLabelValues(p.cluster, condition).Inc()
		if !backoff.Sleep(ctx, backoff.Jittered(policy.BackOffBase, policy.BackOffMax, n+1)) {
			p.retries.Add(-1)
			return fmt.Errorf("retry back-off: %w", context.Cause(ctx))
		}
		tried = append(tried, h)
	}
}

// retryLimit is how many retries the cluster may have in flight now: max_retries, or with a
// retry_budget a share of the requests in flight (Envoy's RetryBudgetImpl::max, which then
// ignores max_retries).
func (p *pool) retryLimit() int64 {
	if b := p.limits.RetryBudget; b.Set {
		return b.Limit(p.active.Load())
	}
	return int64(p.limits.MaxRetries)
}

// timedOut reports whether ctx ended for the route timeout or an attempt's per-try timeout,
// which outlier detection counts as a local-origin timeout.
func timedOut(ctx context.Context) bool {
	cause := context.Cause(ctx)
	return errors.Is(cause, errRouteTimeout) || errors.Is(cause, errPerTryTimeout)
}

// retryFor is the retry policy of a request on a route: without any retry condition when the
// route's retriable_request_headers do not match it (Envoy clears the request's retry_on; its
// per_try_timeout still applies).
func retryFor(policy *routetable.RetryPolicy, r *http.Request) *routetable.RetryPolicy {
	if policy == nil || policy.Retriable(r) {
		return policy
	}
	cleared := *policy
	cleared.RetryOn = nil
	return &cleared
}
