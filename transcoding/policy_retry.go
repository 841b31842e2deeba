package transcoding

// The retry block of a policy: Envoy's route retry_policy for the policy's routes, and the
// rule that keeps retries that may replay a request to idempotent methods.

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/internal/field"
	"github.com/rpcbridge/rpcbridge/internal/yamltime"
)

// RetryBlock is a policy's retries: the route retry_policy of every route of the policy, in
// place of the one its service's upstreams: rules give it (whose numRetries and
// hostSelectionMaxAttempts it keeps when it sets none). Conditions that may send a request twice
// (everything but connect-failure, refused-stream and reset-before-request) apply to the
// idempotent methods only (GET, HEAD, OPTIONS, PUT, DELETE), unless NonIdempotent says
// otherwise: a route of other methods keeps only those three conditions, and a route matching
// both kinds retries only its idempotent requests (Envoy's retriable_request_headers on
// :method).
type RetryBlock struct {
	// RetryOn are Envoy's retry conditions (retry_on): connect-failure, refused-stream,
	// reset-before-request, reset, 5xx, gateway-error, retriable-4xx, retriable-status-codes,
	// envoy-ratelimited, and the gRPC ones cancelled, deadline-exceeded, internal,
	// resource-exhausted, unavailable (Dubbo failures map onto them: docs/policies.md).
	RetryOn []string `yaml:"retryOn"`
	// NumRetries is how many times a request may be retried (num_retries).
	NumRetries *uint32 `yaml:"numRetries,omitempty"`
	// HostSelectionMaxAttempts is how many picks a retry makes to find an endpoint not tried
	// before (host_selection_retry_max_attempts).
	HostSelectionMaxAttempts *uint32 `yaml:"hostSelectionMaxAttempts,omitempty"`
	// PerTryTimeout bounds each attempt, the first included (per_try_timeout); an attempt that
	// runs out is retried under reset, 5xx and gateway-error, and answered 504 when it is the last.
	PerTryTimeout *yamltime.Duration `yaml:"perTryTimeout,omitempty"`
	// BackOff is the wait before each retry (retry_back_off): a random time below
	// baseInterval × 2^(n−1), at most maxInterval; Envoy's 25 ms and 250 ms when left out.
	BackOff *RetryBackOffRule `yaml:"backOff,omitempty"`
	// RetriableStatusCodes are the statuses retriable-status-codes retries
	// (retriable_status_codes).
	RetriableStatusCodes []uint32 `yaml:"retriableStatusCodes,omitempty"`
	// NonIdempotent applies every condition to every method: only for routes whose calls are
	// safe to run twice.
	NonIdempotent bool `yaml:"nonIdempotent,omitempty"`
}

// RetryBackOffRule is Envoy's retry_back_off.
type RetryBackOffRule struct {
	// BaseInterval is the first retry's upper bound (base_interval, more than 0).
	BaseInterval yamltime.Duration `yaml:"baseInterval"`
	// MaxInterval caps the bound (max_interval; 10 × baseInterval when left out).
	MaxInterval *yamltime.Duration `yaml:"maxInterval,omitempty"`
}

// unexecutedRetryConditions are Envoy conditions a policy cannot name: they need fields the
// block has not (retriable_headers) or a protocol the gateway does not speak (HTTP/3).
var unexecutedRetryConditions = []string{"retriable-headers", "http3-post-connect-failure"}

// Validate reports every problem of the block, each a field.Error at its key, joined.
func (b RetryBlock) Validate() error {
	var errs []error
	if len(b.RetryOn) == 0 {
		errs = append(errs, field.Errorf("retryOn", "no retry condition"))
	}
	for i, on := range b.RetryOn {
		if !slices.Contains(ir.RetryConditions, on) || slices.Contains(unexecutedRetryConditions, on) {
			errs = append(errs, field.Errorf(fmt.Sprintf("retryOn[%d]", i), "%q is not a retry condition (one of %s)", on, strings.Join(policyRetryConditions(), ", ")))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	rp := b.policy(nil)
	if err := rp.Validate(); err != nil {
		var pe *ir.PolicyError
		if errors.As(err, &pe) {
			return field.Errorf(pe.Field, "%s", pe.Message)
		}
		return err
	}
	return nil
}

// policyRetryConditions are the conditions a retry block may name.
func policyRetryConditions() []string {
	return slices.DeleteFunc(slices.Clone(ir.RetryConditions), func(c string) bool { return slices.Contains(unexecutedRetryConditions, c) })
}

// policy is the block over current, a route's retry policy from upstreams: (nil when off, then
// the defaults').
func (b RetryBlock) policy(current *ir.RetryPolicy) ir.RetryPolicy {
	rp := *defaultRetry()
	if current != nil {
		rp = *current
	}
	rp.RetryOn = slices.Clone(b.RetryOn)
	set(&rp.NumRetries, b.NumRetries)
	set(&rp.HostSelectionMaxAttempts, b.HostSelectionMaxAttempts)
	rp.PerTryTimeout, rp.BackOff, rp.RetriableMethods = 0, nil, nil
	if b.PerTryTimeout != nil {
		rp.PerTryTimeout = b.PerTryTimeout.Std()
	}
	if bo := b.BackOff; bo != nil {
		rp.BackOff = &ir.RetryBackOff{BaseInterval: bo.BaseInterval.Std()}
		if bo.MaxInterval != nil {
			rp.BackOff.MaxInterval = bo.MaxInterval.Std()
		}
	}
	rp.RetriableStatusCodes = slices.Clone(b.RetriableStatusCodes)
	return rp
}

// forRoute is the retry policy of a route matching methods (all when empty) whose retry policy
// from upstreams: is current.
func (b RetryBlock) forRoute(current *ir.RetryPolicy, methods []string) *ir.RetryPolicy {
	rp := b.policy(current)
	if b.NonIdempotent {
		return &rp
	}
	return idempotentOnly(&rp, methods)
}

// idempotentOnly applies the idempotent-methods rule to a route's retry policy: conditions that
// may replay a request stay for a route of idempotent methods; a route of other methods keeps
// only the never-sent conditions; a route matching both kinds (or every method) keeps its
// conditions for its idempotent methods only (retriable_request_headers on :method, so that its
// other requests are not retried at all: Envoy cannot give one route two sets of conditions).
func idempotentOnly(rp *ir.RetryPolicy, methods []string) *ir.RetryPolicy {
	if rp == nil || !slices.ContainsFunc(rp.RetryOn, func(on string) bool { return !slices.Contains(ir.NeverSentRetryConditions, on) }) {
		return rp
	}
	if len(methods) == 0 {
		methods = nil
	}
	var idempotent []string
	other := methods == nil
	for _, m := range methods {
		if slices.Contains(ir.IdempotentMethods, strings.ToUpper(m)) {
			idempotent = append(idempotent, strings.ToUpper(m))
		} else {
			other = true
		}
	}
	out := *rp
	switch {
	case !other:
	case methods != nil && len(idempotent) == 0:
		out.RetryOn, out.RetriableStatusCodes = slices.Clone(ir.NeverSentRetryConditions), nil
	case methods == nil:
		out.RetriableMethods = slices.Clone(ir.IdempotentMethods)
	default:
		slices.Sort(idempotent)
		out.RetriableMethods = slices.Compact(idempotent)
	}
	return &out
}
