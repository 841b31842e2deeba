package ir

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The upstream policies of the IR: how a cluster's endpoints are chosen, when one is ejected as an
// outlier, how much may be in flight, and which failed requests are tried again. Each has the
// meaning of the Envoy field it is emitted as (named in its doc comment); the embedded gateway
// executes the same fields with the same semantics. Values are explicit: the IR has no hidden
// defaults, transcoding fills them in.

// LBPolicy is how a cluster chooses among its endpoints.
type LBPolicy string

// The load-balancing policies.
const (
	// LBRoundRobin is Envoy's ROUND_ROBIN: weighted round robin. The empty LBPolicy means it too.
	LBRoundRobin LBPolicy = "round_robin"
	// LBLeastRequest is Envoy's LEAST_REQUEST: the endpoint with the fewest requests in flight
	// among ChoiceCount random ones (or all of them, FullScan) when the weights are equal, else
	// weighted round robin with each weight divided by (requests in flight + 1).
	LBLeastRequest LBPolicy = "least_request"
)

// LoadBalancer is the cluster's lb_policy and load_balancing_policy.
type LoadBalancer struct {
	// Policy is the algorithm; "" means LBRoundRobin.
	Policy LBPolicy `json:"policy,omitempty" yaml:"policy,omitempty"`
	// ChoiceCount is LEAST_REQUEST's choice_count: how many random endpoints are compared
	// (N_CHOICES; at least 2).
	ChoiceCount uint32 `json:"choiceCount,omitempty" yaml:"choiceCount,omitempty"`
	// FullScan compares every endpoint instead of ChoiceCount random ones (LEAST_REQUEST's
	// selection_method FULL_SCAN).
	FullScan bool `json:"fullScan,omitempty" yaml:"fullScan,omitempty"`
}

// OutlierDetection is the cluster's outlier_detection: passive health checking that ejects an
// endpoint from load balancing after consecutive failures, for BaseEjectionTime times the number
// of times it was ejected (at most MaxEjectionTime). Counts of 0 disable that detection; an
// enforcing percentage is the chance that a detected outlier is really ejected.
type OutlierDetection struct {
	// Consecutive5xx and EnforcingConsecutive5xx: consecutive_5xx, enforcing_consecutive_5xx.
	Consecutive5xx          uint32 `json:"consecutive5xx" yaml:"consecutive5xx"`
	EnforcingConsecutive5xx uint32 `json:"enforcingConsecutive5xx" yaml:"enforcingConsecutive5xx"`
	// ConsecutiveGatewayFailure and EnforcingConsecutiveGatewayFailure: consecutive 502, 503 or
	// 504 (consecutive_gateway_failure, enforcing_consecutive_gateway_failure).
	ConsecutiveGatewayFailure          uint32 `json:"consecutiveGatewayFailure" yaml:"consecutiveGatewayFailure"`
	EnforcingConsecutiveGatewayFailure uint32 `json:"enforcingConsecutiveGatewayFailure" yaml:"enforcingConsecutiveGatewayFailure"`
	// SplitExternalLocalOriginErrors counts locally originated failures (connect failures,
	// timeouts, resets) apart from the upstream's answers, in ConsecutiveLocalOriginFailure;
	// without it they count as 503 and 504 answers.
	SplitExternalLocalOriginErrors bool `json:"splitExternalLocalOriginErrors,omitempty" yaml:"splitExternalLocalOriginErrors,omitempty"`
	// ConsecutiveLocalOriginFailure and EnforcingConsecutiveLocalOriginFailure:
	// consecutive_local_origin_failure, enforcing_consecutive_local_origin_failure.
	ConsecutiveLocalOriginFailure          uint32 `json:"consecutiveLocalOriginFailure" yaml:"consecutiveLocalOriginFailure"`
	EnforcingConsecutiveLocalOriginFailure uint32 `json:"enforcingConsecutiveLocalOriginFailure" yaml:"enforcingConsecutiveLocalOriginFailure"`
	// Interval is how often ejected endpoints are checked for return (interval).
	Interval time.Duration `json:"interval" yaml:"interval"`
	// BaseEjectionTime and MaxEjectionTime bound one ejection (base_ejection_time,
	// max_ejection_time).
	BaseEjectionTime time.Duration `json:"baseEjectionTime" yaml:"baseEjectionTime"`
	MaxEjectionTime  time.Duration `json:"maxEjectionTime" yaml:"maxEjectionTime"`
	// MaxEjectionPercent is the share of the cluster's endpoints that may be ejected at once,
	// counting the one about to be (max_ejection_percent).
	MaxEjectionPercent uint32 `json:"maxEjectionPercent" yaml:"maxEjectionPercent"`
	// AlwaysEjectOneHost lets one endpoint be ejected whatever MaxEjectionPercent says
	// (always_eject_one_host).
	AlwaysEjectOneHost bool `json:"alwaysEjectOneHost,omitempty" yaml:"alwaysEjectOneHost,omitempty"`
}

// CircuitBreakers are the cluster's circuit_breakers: limits beyond which requests fail at once
// with 503 instead of queueing.
type CircuitBreakers struct {
	// MaxRequests bounds the cluster's requests in flight (thresholds max_requests).
	MaxRequests uint32 `json:"maxRequests" yaml:"maxRequests"`
	// MaxRetries bounds the retries in flight (max_retries).
	MaxRetries uint32 `json:"maxRetries" yaml:"maxRetries"`
	// MaxRequestsPerEndpoint bounds the requests in flight to one endpoint; 0 means no limit.
	// Envoy's per_host_thresholds only know max_connections: it is emitted as that (Envoy's
	// Dubbo TCP upstream carries one request per connection) and, on HTTP/2 clusters, as
	// max_concurrent_streams of a single connection per endpoint.
	MaxRequestsPerEndpoint uint32 `json:"maxRequestsPerEndpoint,omitempty" yaml:"maxRequestsPerEndpoint,omitempty"`
	// MaxConnections bounds the cluster's upstream connections (thresholds max_connections);
	// 0 leaves it unset (Envoy's 1024).
	MaxConnections uint32 `json:"maxConnections,omitempty" yaml:"maxConnections,omitempty"`
	// MaxPendingRequests bounds the requests waiting for a connection (max_pending_requests);
	// 0 leaves it unset (Envoy's 1024).
	MaxPendingRequests uint32 `json:"maxPendingRequests,omitempty" yaml:"maxPendingRequests,omitempty"`
	// RetryBudget, when set, replaces MaxRetries: the retries in flight may be BudgetPercent of
	// the cluster's requests in flight, and at least MinRetryConcurrency (thresholds
	// retry_budget).
	RetryBudget *RetryBudget `json:"retryBudget,omitempty" yaml:"retryBudget,omitempty"`
}

// RetryBudget is a cluster's retry_budget (circuit_breakers thresholds): a limit on retries in
// flight that grows with the traffic, max(BudgetPercent % of the requests in flight,
// MinRetryConcurrency) (Envoy's source/common/upstream/resource_manager_impl.h RetryBudgetImpl).
type RetryBudget struct {
	// BudgetPercent is budget_percent (Envoy's default 20).
	BudgetPercent float64 `json:"budgetPercent" yaml:"budgetPercent"`
	// MinRetryConcurrency is min_retry_concurrency (Envoy's default 3).
	MinRetryConcurrency uint32 `json:"minRetryConcurrency" yaml:"minRetryConcurrency"`
}

// RetryPolicy is a route's retry_policy: which failed attempts are tried again, how often, and
// never on an endpoint already tried (retry_host_predicate previous_hosts).
type RetryPolicy struct {
	// RetryOn are Envoy's retry_on conditions ("connect-failure", "refused-stream",
	// "reset-before-request", ...).
	RetryOn []string `json:"retryOn" yaml:"retryOn"`
	// NumRetries is how many retries an attempt may have (num_retries).
	NumRetries uint32 `json:"numRetries" yaml:"numRetries"`
	// HostSelectionMaxAttempts is how often a retry's endpoint is chosen again when it is one
	// already tried (host_selection_retry_max_attempts).
	HostSelectionMaxAttempts uint32 `json:"hostSelectionMaxAttempts" yaml:"hostSelectionMaxAttempts"`
	// PerTryTimeout bounds each attempt, the first included (per_try_timeout); 0 means only the
	// route timeout applies. An attempt that runs out is retried under reset, 5xx and
	// gateway-error, as Envoy retries an upstream reset.
	PerTryTimeout time.Duration `json:"perTryTimeout,omitempty" yaml:"perTryTimeout,omitempty"`
	// BackOff is retry_back_off; nil means Envoy's default (25 ms base, 10 × base at most).
	BackOff *RetryBackOff `json:"backOff,omitempty" yaml:"backOff,omitempty"`
	// RetriableStatusCodes are the statuses "retriable-status-codes" retries
	// (retriable_status_codes).
	RetriableStatusCodes []uint32 `json:"retriableStatusCodes,omitempty" yaml:"retriableStatusCodes,omitempty"`
	// RetriableMethods, when set, restricts every retry to requests with one of these methods
	// (retriable_request_headers on ":method": a request of another method is not retried at
	// all, not even under the never-sent conditions).
	RetriableMethods []string `json:"retriableMethods,omitempty" yaml:"retriableMethods,omitempty"`
}

// RetryBackOff is Envoy's retry_back_off: retry n waits a random time in
// [0, min(BaseInterval × 2^(n−1), MaxInterval)) (fully jittered exponential back-off).
type RetryBackOff struct {
	// BaseInterval is base_interval (more than 0).
	BaseInterval time.Duration `json:"baseInterval" yaml:"baseInterval"`
	// MaxInterval is max_interval (at least BaseInterval; 0 means 10 × BaseInterval).
	MaxInterval time.Duration `json:"maxInterval,omitempty" yaml:"maxInterval,omitempty"`
}

// RetryConditions are the retry_on values a RetryPolicy may name: Envoy's HTTP retry conditions
// (router filter, x-envoy-retry-on) and its gRPC ones (GRPCRetryConditions), which Envoy's
// route retry_on accepts alike (source/common/router/config_impl.cc RetryPolicyImpl).
var RetryConditions = append([]string{
	"5xx", "gateway-error", "reset", "reset-before-request", "connect-failure", "envoy-ratelimited",
	"retriable-4xx", "refused-stream", "retriable-status-codes", "retriable-headers", "http3-post-connect-failure",
}, GRPCRetryConditions...)

// GRPCRetryConditions are Envoy's x-envoy-retry-grpc-on conditions: the gRPC status of a
// response whose headers carry it (a trailers-only response, as every unary gRPC error is).
var GRPCRetryConditions = []string{"cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable"}

// NeverSentRetryConditions are the retry conditions under which the request did not reach the
// upstream, so that a retry cannot run a call twice: the only ones a route of non-idempotent
// methods keeps.
var NeverSentRetryConditions = []string{"connect-failure", "refused-stream", "reset-before-request"}

// IdempotentMethods are the HTTP methods whose requests may be sent twice (RFC 9110 §9.2.2,
// without TRACE): the only ones retried under conditions that may replay a request.
var IdempotentMethods = []string{"DELETE", "GET", "HEAD", "OPTIONS", "PUT"}

// MinLeastRequestChoices is the smallest LEAST_REQUEST choice_count (Envoy and grpc-go's gRFC A48
// reject fewer).
const MinLeastRequestChoices = 2

// PolicyError is an invalid policy value; Field is its YAML key ("maxEjectionPercent").
type PolicyError struct {
	Field   string
	Message string
}

// Error implements error.
func (e *PolicyError) Error() string { return e.Field + ": " + e.Message }

func policyError(field, format string, args ...any) error {
	return &PolicyError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Validate reports the first invalid value of lb.
func (lb LoadBalancer) Validate() error {
	switch lb.Policy {
	case "", LBRoundRobin:
		return nil
	case LBLeastRequest:
		if lb.ChoiceCount < MinLeastRequestChoices {
			return policyError("choiceCount", "least_request compares at least %d endpoints, not %d", MinLeastRequestChoices, lb.ChoiceCount)
		}
		return nil
	}
	return policyError("policy", "%q is not one of %s, %s", lb.Policy, LBRoundRobin, LBLeastRequest)
}

// Validate reports the first invalid value of od.
func (od OutlierDetection) Validate() error {
	switch {
	case od.Interval <= 0:
		return policyError("interval", "%s is not positive", od.Interval)
	case od.BaseEjectionTime <= 0:
		return policyError("baseEjectionTime", "%s is not positive", od.BaseEjectionTime)
	case od.MaxEjectionTime < od.BaseEjectionTime:
		return policyError("maxEjectionTime", "%s is shorter than baseEjectionTime %s", od.MaxEjectionTime, od.BaseEjectionTime)
	}
	for _, p := range []struct {
		field string
		value uint32
	}{
		{"enforcingConsecutive5xx", od.EnforcingConsecutive5xx},
		{"enforcingConsecutiveGatewayFailure", od.EnforcingConsecutiveGatewayFailure},
		{"enforcingConsecutiveLocalOriginFailure", od.EnforcingConsecutiveLocalOriginFailure},
		{"maxEjectionPercent", od.MaxEjectionPercent},
	} {
		if p.value > 100 {
			return policyError(p.field, "%d is not a percentage (0..100)", p.value)
		}
	}
	return nil
}

// Validate reports the first invalid value of cb.
func (cb CircuitBreakers) Validate() error {
	if cb.MaxRequests == 0 {
		return policyError("maxRequests", "0 would fail every request")
	}
	if b := cb.RetryBudget; b != nil && (b.BudgetPercent < 0 || b.BudgetPercent > 100) {
		return policyError("retryBudget.budgetPercent", "%g is not a percentage (0..100)", b.BudgetPercent)
	}
	return nil
}

// Validate reports the first invalid value of rp.
func (rp RetryPolicy) Validate() error {
	if len(rp.RetryOn) == 0 {
		return policyError("retryOn", "no retry condition")
	}
	for _, on := range rp.RetryOn {
		if !slices.Contains(RetryConditions, on) {
			return policyError("retryOn", "unknown retry condition %q (one of %s)", on, strings.Join(RetryConditions, ", "))
		}
	}
	if rp.HostSelectionMaxAttempts == 0 {
		return policyError("hostSelectionMaxAttempts", "must be at least 1")
	}
	if rp.PerTryTimeout < 0 {
		return policyError("perTryTimeout", "%s is negative", rp.PerTryTimeout)
	}
	if b := rp.BackOff; b != nil {
		switch {
		case b.BaseInterval <= 0:
			return policyError("backOff.baseInterval", "%s is not positive", b.BaseInterval)
		case b.MaxInterval != 0 && b.MaxInterval < b.BaseInterval:
			return policyError("backOff.maxInterval", "%s is shorter than baseInterval %s", b.MaxInterval, b.BaseInterval)
		}
	}
	statusCodes := slices.Contains(rp.RetryOn, "retriable-status-codes")
	switch {
	case statusCodes && len(rp.RetriableStatusCodes) == 0:
		return policyError("retriableStatusCodes", "retriable-status-codes needs the status codes it retries")
	case !statusCodes && len(rp.RetriableStatusCodes) > 0:
		return policyError("retriableStatusCodes", "status codes without the retriable-status-codes condition are never used")
	}
	for _, c := range rp.RetriableStatusCodes {
		if c < 100 || c > 599 {
			return policyError("retriableStatusCodes", "%d is not an HTTP status code", c)
		}
	}
	for _, m := range rp.RetriableMethods {
		if m == "" || strings.ToUpper(m) != m {
			return policyError("retriableMethods", "%q is not an upper-case HTTP method", m)
		}
	}
	return nil
}
