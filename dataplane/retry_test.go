package dataplane

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc/codes"

	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
	"github.com/rpcbridge/rpcbridge/dubborpc"
)

// TestRetryConditionsFollowEnvoy: which failure each retry_on condition retries, as Envoy's
// retry_state_impl.cc decides it (wouldRetryFromHeaders, wouldRetryFromReset), Dubbo failures
// mapped by dubboFailure.
func TestRetryConditionsFollowEnvoy(t *testing.T) {
	dubbo := func(err error) failure { return dubboFailure(context.Background(), err) }
	for _, c := range []struct {
		name    string
		retryOn []string
		codes   []int
		f       failure
		want    string
	}{
		{"503 under 5xx", []string{"5xx"}, nil, answered(503), "5xx"},
		{"500 is no gateway error", []string{"gateway-error"}, nil, answered(500), ""},
		{"504 gateway error", []string{"gateway-error"}, nil, answered(504), "gateway-error"},
		{"409 retriable-4xx", []string{"retriable-4xx"}, nil, answered(409), "retriable-4xx"},
		{"listed status", []string{"retriable-status-codes"}, []int{429}, answered(429), "retriable-status-codes"},
		{"unlisted status", []string{"retriable-status-codes"}, []int{429}, answered(503), ""},
		{"rate limited only under envoy-ratelimited", []string{"5xx"}, nil, failure{kind: failedAnswer, status: 503, rateLimited: true}, ""},
		{"rate limited", []string{"envoy-ratelimited"}, nil, failure{kind: failedAnswer, status: 429, rateLimited: true}, "envoy-ratelimited"},
		{"grpc unavailable", []string{"unavailable"}, nil, grpcAnswered(codes.Unavailable), "unavailable"},
		{"grpc answer is HTTP 200 to 5xx", []string{"5xx"}, nil, grpcAnswered(codes.Internal), ""},
		{"grpc not listed", []string{"unavailable", "cancelled"}, nil, grpcAnswered(codes.DeadlineExceeded), ""},
		{"connect failure under 5xx", []string{"5xx"}, nil, failure{kind: failedConnect}, "5xx"},
		{"connect failure", []string{"reset", "connect-failure"}, nil, failure{kind: failedConnect}, "connect-failure"},
		{"reset is not a connect failure", []string{"connect-failure", "reset-before-request"}, nil, failure{kind: failedReset}, ""},
		{"reset", []string{"reset"}, nil, failure{kind: failedReset}, "reset"},
		{"reset is no gRPC unavailable", []string{"unavailable"}, nil, failure{kind: failedReset}, ""},
		{"per-try timeout under gateway-error", []string{"gateway-error"}, nil, failure{kind: failedPerTryTimeout}, "gateway-error"},
		{"per-try timeout is no connect failure", []string{"connect-failure"}, nil, failure{kind: failedPerTryTimeout}, ""},
		{"refused stream", []string{"refused-stream"}, nil, failure{kind: failedRefusedStream}, "refused-stream"},
		{"dubbo not connected", []string{"connect-failure"}, nil, dubbo(dubborpc.ErrUnavailable), "connect-failure"},
		{"dubbo not sent", []string{"reset-before-request"}, nil, dubbo(dubborpc.ErrNotSent), "reset-before-request"},
		{"dubbo connection lost", []string{"reset"}, nil, dubbo(dubborpc.ErrConnectionLost), "reset"},
		{"dubbo exception is a 500", []string{"5xx", "internal"}, nil, dubbo(&dubborpc.RemoteError{Class: "java.lang.IllegalStateException"}), "5xx"},
		{"dubbo exception is no gRPC internal", []string{"internal"}, nil, dubbo(&dubborpc.RemoteError{Class: "java.lang.IllegalStateException"}), ""},
		{"dubbo thread pool exhausted", []string{"resource-exhausted"}, nil, dubbo(&dubborpc.StatusError{Status: dubborpc.StatusServerThreadpoolExhausted}), "resource-exhausted"},
		{"dubbo server timeout", []string{"deadline-exceeded"}, nil, dubbo(&dubborpc.StatusError{Status: dubborpc.StatusServerTimeout}), "deadline-exceeded"},
		{"dubbo service not found", []string{"gateway-error"}, nil, dubbo(&dubborpc.StatusError{Status: dubborpc.StatusServiceNotFound}), "gateway-error"},
		{"dubbo payload refused", []string{"5xx", "reset", "reset-before-request"}, nil, dubbo(dubborpc.ErrPayloadTooLarge), ""},
	} {
		p := &routetable.RetryPolicy{RetryOn: c.retryOn, RetriableStatusCodes: c.codes, NumRetries: 1}
		if got := retryCondition(p, c.f); got != c.want {
			t.Errorf("%s: retryCondition(%v, %+v) = %q, want %q", c.name, c.retryOn, c.f, got, c.want)
		}
	}
}

// failConnect is an attempt whose host refused the connection.
func failConnect(_ context.Context, _ *host, release func()) attemptResult {
	release()
	return attemptResult{err: errors.New("connection refused"), failure: failure{kind: failedConnect}}
}

// TestRetryBudget: with a retry budget (50 %, at least 1) the retries in flight may be half the
// requests in flight, and max_retries (0 here) no longer applies. One retry in flight with one
// request in flight leaves no room for a second (counted as overflow, the request fails); with
// four more requests in flight there is room for two.
func TestRetryBudget(t *testing.T) {
	p := testPool([]routetable.Endpoint{{Address: "a:1", Weight: 1}, {Address: "b:1", Weight: 1}, {Address: "c:1", Weight: 1}},
		routetable.LoadBalancing{}, routetable.CircuitBreakers{MaxRetries: 0,
			RetryBudget: routetable.RetryBudget{Set: true, BudgetPercent: 50, MinRetryConcurrency: 1}}, nil)
	policy := &routetable.RetryPolicy{RetryOn: []string{"connect-failure"}, NumRetries: 2, OtherHosts: true}
	ctx := context.Background()

	// A: its first attempt fails, its retry stays in flight until unblock.
	retrying, unblock, doneA := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		n := 0
		doneA <- p.try(ctx, policy, func(ctx context.Context, h *host, release func()) attemptResult {
			if n++; n == 1 {
				return failConnect(ctx, h, release)
			}
			close(retrying)
			<-unblock
			release()
			return attemptResult{}
		})
	}()
	select {
	case <-retrying:
	case err := <-doneA:
		t.Fatalf("A ended (%v) without its retry: the budget's minimum admits one", err)
	}
	if err := p.try(ctx, policy, failConnect); err == nil {
		t.Fatal("B was retried with the budget's one retry in flight")
	}
	if got := testutil.ToFloat64(p.metrics.retryOverflow.WithLabelValues("c")); got != 1 {
		t.Errorf("retry overflows = %v, want 1", got)
	}

	// Four more requests in flight: five in all, room for two retries.
	held, release := make(chan struct{}), make(chan struct{})
	for range 4 {
		go func() {
			_ = p.try(ctx, nil, func(_ context.Context, _ *host, done func()) attemptResult {
				held <- struct{}{}
				<-release
				done()
				return attemptResult{}
			})
		}()
		<-held
	}
	n := 0
	err := p.try(ctx, policy, func(ctx context.Context, h *host, done func()) attemptResult {
		if n++; n == 1 {
			return failConnect(ctx, h, done)
		}
		done()
		return attemptResult{}
	})
	if err != nil {
		t.Errorf("C with five requests in flight: %v, want its retry admitted", err)
	}
	close(release)
	close(unblock)
	if err := <-doneA; err != nil {
		t.Errorf("A: %v", err)
	}
	if got := testutil.ToFloat64(p.metrics.retries.WithLabelValues("c", "connect-failure")); got != 2 {
		t.Errorf("retries = %v, want 2 (A's and C's)", got)
	}
	if got := testutil.ToFloat64(p.metrics.retryOverflow.WithLabelValues("c")); got != 1 {
		t.Errorf("retry overflows = %v, want still 1", got)
	}
}

// TestPerTryTimeout: an attempt that outlives the per-try timeout is cut short and retried under
// reset (Envoy retries a per-try timeout as a reset); without a condition that covers it the
// request fails with errPerTryTimeout.
func TestPerTryTimeout(t *testing.T) {
	p := testPool([]routetable.Endpoint{{Address: "a:1", Weight: 1}, {Address: "b:1", Weight: 1}}, routetable.LoadBalancing{}, routetable.CircuitBreakers{MaxRetries: 3}, nil)
	stall := func(n *int) attempt {
		return func(ctx context.Context, _ *host, release func()) attemptResult {
			defer release()
			if *n++; *n == 1 {
				<-ctx.Done() // the first attempt hangs until its per-try timeout
				return attemptResult{err: ctx.Err()}
			}
			return attemptResult{}
		}
	}
	var n int
	policy := &routetable.RetryPolicy{RetryOn: []string{"reset"}, NumRetries: 1, OtherHosts: true, PerTryTimeout: 10 * time.Millisecond}
	if err := p.try(context.Background(), policy, stall(&n)); err != nil || n != 2 {
		t.Errorf("under reset: %v after %d attempts, want success on the second", err, n)
	}
	n = 0
	policy.RetryOn = []string{"connect-failure"}
	if err := p.try(context.Background(), policy, stall(&n)); !errors.Is(err, errPerTryTimeout) || n != 1 {
		t.Errorf("under connect-failure: %v after %d attempts, want the per-try timeout after one", err, n)
	}
	if got := testutil.ToFloat64(p.metrics.retries.WithLabelValues("c", "reset")); got != 1 {
		t.Errorf("retries under reset = %v, want 1", got)
	}
}
