package transcoding

// The upstreams: rules: what of the upstream policy defaults the user changes, how a rule
// applies over a policy, and how the result is validated.

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/internal/yamltime"
)

// UpstreamRules override the policy defaults: for all RPC clusters, for all HTTP clusters, and
// per service (over its protocol's defaults and block, in list order). Fields left out keep
// their value.
type UpstreamRules struct {
	// RPC changes the defaults of every gRPC, Triple and Dubbo cluster (DefaultRPCPolicy).
	RPC PolicyRule `yaml:"rpc,omitempty"`
	// HTTP changes the defaults of every plain HTTP cluster (DefaultHTTPPolicy).
	HTTP PolicyRule `yaml:"http,omitempty"`
	// Services change the policy of the services they name, over their family's, in list order.
	Services []ServicePolicyRule `yaml:"services,omitempty"`
}

// ServicePolicyRule is the policy rule of the services it names.
type ServicePolicyRule struct {
	// Service is a service ID ("dubbo:com.foo.Users:1.0.0:") or a service name.
	Service    string `yaml:"service"`
	PolicyRule `yaml:",inline"`
}

// PolicyRule changes some fields of an UpstreamPolicy.
type PolicyRule struct {
	// LoadBalancer changes how an endpoint is picked (Envoy's cluster lb_policy).
	LoadBalancer *LoadBalancerRule `yaml:"loadBalancer,omitempty"`
	// OutlierDetection changes when an endpoint is ejected (Envoy's cluster outlier_detection).
	OutlierDetection *OutlierDetectionRule `yaml:"outlierDetection,omitempty"`
	// CircuitBreakers change the caps on calls in flight (Envoy's cluster circuit_breakers).
	CircuitBreakers *CircuitBreakersRule `yaml:"circuitBreakers,omitempty"`
	// Retry changes the retry policy of the service's routes (Envoy's route retry_policy).
	Retry *RetryRule `yaml:"retry,omitempty"`
}

// LoadBalancerRule changes the load balancer (fields of ir.LoadBalancer).
type LoadBalancerRule struct {
	// Policy is round_robin (weighted) or least_request.
	Policy *ir.LBPolicy `yaml:"policy,omitempty"`
	// ChoiceCount is how many random endpoints least_request compares (Envoy's choice_count).
	ChoiceCount *uint32 `yaml:"choiceCount,omitempty"`
	// FullScan makes least_request compare every endpoint instead of ChoiceCount random ones
	// (Envoy's selection_method FULL_SCAN).
	FullScan *bool `yaml:"fullScan,omitempty"`
}

// OutlierDetectionRule changes outlier detection (fields of ir.OutlierDetection); Enabled false
// turns it off, true turns it on with the RPC defaults for what is left out.
type OutlierDetectionRule struct {
	// Enabled false turns outlier detection off; true turns it on.
	Enabled *bool `yaml:"enabled,omitempty"`
	// Consecutive5xx is how many 5xx answers in a row eject an endpoint (consecutive_5xx).
	Consecutive5xx *uint32 `yaml:"consecutive5xx,omitempty"`
	// EnforcingConsecutive5xx is the percentage of such detections that eject
	// (enforcing_consecutive_5xx; 0 only counts).
	EnforcingConsecutive5xx *uint32 `yaml:"enforcingConsecutive5xx,omitempty"`
	// ConsecutiveGatewayFailure is how many 502/503/504 in a row eject an endpoint
	// (consecutive_gateway_failure).
	ConsecutiveGatewayFailure *uint32 `yaml:"consecutiveGatewayFailure,omitempty"`
	// EnforcingConsecutiveGatewayFailure is the percentage of such detections that eject
	// (enforcing_consecutive_gateway_failure).
	EnforcingConsecutiveGatewayFailure *uint32 `yaml:"enforcingConsecutiveGatewayFailure,omitempty"`
	// SplitExternalLocalOriginErrors counts failures of the gateway's own making (connect
	// failures, timeouts, resets) apart from the upstream's answers
	// (split_external_local_origin_errors).
	SplitExternalLocalOriginErrors *bool `yaml:"splitExternalLocalOriginErrors,omitempty"`
	// ConsecutiveLocalOriginFailure is how many local-origin failures in a row eject an endpoint
	// when they are counted apart (consecutive_local_origin_failure).
	ConsecutiveLocalOriginFailure *uint32 `yaml:"consecutiveLocalOriginFailure,omitempty"`
	// EnforcingConsecutiveLocalOriginFailure is the percentage of such detections that eject
	// (enforcing_consecutive_local_origin_failure).
	EnforcingConsecutiveLocalOriginFailure *uint32 `yaml:"enforcingConsecutiveLocalOriginFailure,omitempty"`
	// Interval is how often ejections end and are re-evaluated (interval).
	Interval *yamltime.Duration `yaml:"interval,omitempty"`
	// BaseEjectionTime is the first ejection's length; each further ejection of the same
	// endpoint multiplies it (base_ejection_time).
	BaseEjectionTime *yamltime.Duration `yaml:"baseEjectionTime,omitempty"`
	// MaxEjectionTime caps an ejection's length (max_ejection_time).
	MaxEjectionTime *yamltime.Duration `yaml:"maxEjectionTime,omitempty"`
	// MaxEjectionPercent caps the share of a cluster's endpoints ejected at once
	// (max_ejection_percent).
	MaxEjectionPercent *uint32 `yaml:"maxEjectionPercent,omitempty"`
	// AlwaysEjectOneHost lets one endpoint be ejected even when MaxEjectionPercent allows none
	// (always_eject_one_host).
	AlwaysEjectOneHost *bool `yaml:"alwaysEjectOneHost,omitempty"`
}

// CircuitBreakersRule changes the circuit breakers (fields of ir.CircuitBreakers); Enabled
// false leaves Envoy's defaults and no per-endpoint cap.
type CircuitBreakersRule struct {
	// Enabled false turns rpcbridge's circuit breakers off (Envoy's defaults then apply).
	Enabled *bool `yaml:"enabled,omitempty"`
	// MaxRequests caps the cluster's calls in flight (thresholds max_requests).
	MaxRequests *uint32 `yaml:"maxRequests,omitempty"`
	// MaxRetries caps the cluster's retries in flight (thresholds max_retries).
	MaxRetries *uint32 `yaml:"maxRetries,omitempty"`
	// MaxRequestsPerEndpoint caps the calls in flight to one endpoint; beyond it another endpoint
	// is picked, or 503 upstream_overflow when all are full.
	MaxRequestsPerEndpoint *uint32 `yaml:"maxRequestsPerEndpoint,omitempty"`
	// MaxConnections caps the cluster's upstream connections (thresholds max_connections);
	// unset leaves Envoy's 1024. Where a connection carries one call at a time (HTTP/1.1, and
	// Dubbo as Envoy's TCP upstream sends it) it caps the calls holding a connection; a call
	// beyond it waits as pending.
	MaxConnections *uint32 `yaml:"maxConnections,omitempty"`
	// MaxPendingRequests caps the calls waiting for a connection (thresholds
	// max_pending_requests); beyond it a call answers 503 upstream_overflow at once. Unset
	// leaves Envoy's 1024.
	MaxPendingRequests *uint32 `yaml:"maxPendingRequests,omitempty"`
	// RetryBudget caps the retries in flight at a share of the requests in flight instead of
	// maxRetries (thresholds retry_budget); Envoy's defaults for what is left out.
	RetryBudget *RetryBudgetRule `yaml:"retryBudget,omitempty"`
}

// RetryBudgetRule is a cluster's retry budget (fields of ir.RetryBudget); Enabled false turns
// it off (maxRetries applies again).
type RetryBudgetRule struct {
	// Enabled false turns the retry budget off.
	Enabled *bool `yaml:"enabled,omitempty"`
	// BudgetPercent is the share of the cluster's requests in flight that may be retries in
	// flight (budget_percent; Envoy's default 20).
	BudgetPercent *float64 `yaml:"budgetPercent,omitempty"`
	// MinRetryConcurrency is how many retries may be in flight however few requests are
	// (min_retry_concurrency; Envoy's default 3).
	MinRetryConcurrency *uint32 `yaml:"minRetryConcurrency,omitempty"`
}

// Envoy's retry_budget defaults.
const (
	DefaultRetryBudgetPercent  = 20
	DefaultMinRetryConcurrency = 3
)

// RetryRule changes the retry policy of the service's routes (fields of ir.RetryPolicy);
// Enabled false turns retries off.
type RetryRule struct {
	// Enabled false turns retries off.
	Enabled *bool `yaml:"enabled,omitempty"`
	// RetryOn are Envoy's retry conditions (retry_on), as for policies[].retry.retryOn; those
	// that may send a request twice apply to idempotent methods only (docs/policies.md).
	RetryOn []string `yaml:"retryOn,omitempty"`
	// NumRetries is how many times a request may be retried (num_retries).
	NumRetries *uint32 `yaml:"numRetries,omitempty"`
	// HostSelectionMaxAttempts is how many picks a retry makes to find an endpoint not tried
	// before (host_selection_retry_max_attempts).
	HostSelectionMaxAttempts *uint32 `yaml:"hostSelectionMaxAttempts,omitempty"`
}

// set overwrites *dst with *src when src is set.
func set[T any](dst, src *T) {
	if src != nil {
		*dst = *src
	}
}

// setDuration is set for durations written in a rule.
func setDuration(dst *time.Duration, src *yamltime.Duration) {
	if src != nil {
		*dst = src.Std()
	}
}

// toggle returns what a rule block leaves of a policy: nothing when it says enabled: false, else
// a copy of p, or of def when p is nil (a block that enables or sets fields of a policy the
// defaults lack starts from def). The copy keeps the rule's edits off p.
func toggle[T any](p *T, enabled *bool, def *T) *T {
	if enabled != nil && !*enabled {
		return nil
	}
	if p == nil {
		p = def
	}
	c := *p
	return &c
}

// apply returns p with the rule's fields set. A block that enables a policy p lacks starts from
// the RPC defaults.
func (r PolicyRule) apply(p UpstreamPolicy) UpstreamPolicy {
	rpc := DefaultRPCPolicy()
	if lb := r.LoadBalancer; lb != nil {
		set(&p.LoadBalancer.Policy, lb.Policy)
		set(&p.LoadBalancer.ChoiceCount, lb.ChoiceCount)
		set(&p.LoadBalancer.FullScan, lb.FullScan)
		switch {
		case p.LoadBalancer.Policy != ir.LBLeastRequest:
			p.LoadBalancer.ChoiceCount, p.LoadBalancer.FullScan = 0, false
		case p.LoadBalancer.ChoiceCount == 0:
			p.LoadBalancer.ChoiceCount = DefaultLeastRequestChoices
		}
	}
	if o := r.OutlierDetection; o != nil {
		p.OutlierDetection = toggle(p.OutlierDetection, o.Enabled, rpc.OutlierDetection)
		if od := p.OutlierDetection; od != nil {
			set(&od.Consecutive5xx, o.Consecutive5xx)
			set(&od.EnforcingConsecutive5xx, o.EnforcingConsecutive5xx)
			set(&od.ConsecutiveGatewayFailure, o.ConsecutiveGatewayFailure)
			set(&od.EnforcingConsecutiveGatewayFailure, o.EnforcingConsecutiveGatewayFailure)
			set(&od.SplitExternalLocalOriginErrors, o.SplitExternalLocalOriginErrors)
			set(&od.ConsecutiveLocalOriginFailure, o.ConsecutiveLocalOriginFailure)
			set(&od.EnforcingConsecutiveLocalOriginFailure, o.EnforcingConsecutiveLocalOriginFailure)
			setDuration(&od.Interval, o.Interval)
			setDuration(&od.BaseEjectionTime, o.BaseEjectionTime)
			setDuration(&od.MaxEjectionTime, o.MaxEjectionTime)
			set(&od.MaxEjectionPercent, o.MaxEjectionPercent)
			set(&od.AlwaysEjectOneHost, o.AlwaysEjectOneHost)
		}
	}
	if c := r.CircuitBreakers; c != nil {
		p.CircuitBreakers = toggle(p.CircuitBreakers, c.Enabled, rpc.CircuitBreakers)
		if cb := p.CircuitBreakers; cb != nil {
			set(&cb.MaxRequests, c.MaxRequests)
			set(&cb.MaxRetries, c.MaxRetries)
			set(&cb.MaxRequestsPerEndpoint, c.MaxRequestsPerEndpoint)
			set(&cb.MaxConnections, c.MaxConnections)
			set(&cb.MaxPendingRequests, c.MaxPendingRequests)
			if b := c.RetryBudget; b != nil {
				cb.RetryBudget = toggle(cb.RetryBudget, b.Enabled, &ir.RetryBudget{BudgetPercent: DefaultRetryBudgetPercent, MinRetryConcurrency: DefaultMinRetryConcurrency})
				if rb := cb.RetryBudget; rb != nil {
					set(&rb.BudgetPercent, b.BudgetPercent)
					set(&rb.MinRetryConcurrency, b.MinRetryConcurrency)
				}
			}
		}
	}
	if rr := r.Retry; rr != nil {
		p.Retry = toggle(p.Retry, rr.Enabled, rpc.Retry)
		if rp := p.Retry; rp != nil {
			if rr.RetryOn != nil {
				rp.RetryOn = slices.Clone(rr.RetryOn)
			}
			set(&rp.NumRetries, rr.NumRetries)
			set(&rp.HostSelectionMaxAttempts, rr.HostSelectionMaxAttempts)
		}
	}
	return p
}

// validate reports the first invalid value of p, as an *ir.PolicyError whose Field is the path
// below a PolicyRule ("outlierDetection.maxEjectionPercent").
func (p UpstreamPolicy) validate() error {
	prefix := func(block string, err error) error {
		var pe *ir.PolicyError
		if errors.As(err, &pe) {
			return &ir.PolicyError{Field: block + "." + pe.Field, Message: pe.Message}
		}
		return err
	}
	if err := p.LoadBalancer.Validate(); err != nil {
		return prefix("loadBalancer", err)
	}
	if p.OutlierDetection != nil {
		if err := p.OutlierDetection.Validate(); err != nil {
			return prefix("outlierDetection", err)
		}
	}
	if p.CircuitBreakers != nil {
		if err := p.CircuitBreakers.Validate(); err != nil {
			return prefix("circuitBreakers", err)
		}
	}
	if p.Retry != nil {
		if err := p.Retry.Validate(); err != nil {
			return prefix("retry", err)
		}
	}
	return nil
}

// RuleProblem is one invalid value in UpstreamRules; Path is relative to them
// ("rpc.outlierDetection.interval", "services[2].retry.retryOn").
type RuleProblem struct {
	Path    string
	Message string
}

// zeroLimits reports the connection limits r sets to 0, which would fail every request (in the
// IR, 0 means "not set": Envoy's default).
func (r PolicyRule) zeroLimits(at string) []RuleProblem {
	c := r.CircuitBreakers
	if c == nil {
		return nil
	}
	var out []RuleProblem
	for name, v := range map[string]*uint32{"maxConnections": c.MaxConnections, "maxPendingRequests": c.MaxPendingRequests} {
		if v != nil && *v == 0 {
			out = append(out, RuleProblem{Path: at + ".circuitBreakers." + name, Message: "0 would fail every request; leave it out for Envoy's default (1024)"})
		}
	}
	slices.SortFunc(out, func(a, b RuleProblem) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// Validate reports every block of r that gives an invalid policy over what it applies to (a
// service's block over both protocol families' blocks, as its protocol is not known here).
func (r UpstreamRules) Validate() []RuleProblem {
	var out []RuleProblem
	check := func(at string, p UpstreamPolicy) {
		if err := p.validate(); err != nil {
			var pe *ir.PolicyError
			if errors.As(err, &pe) {
				out = append(out, RuleProblem{Path: at + "." + pe.Field, Message: pe.Message})
				return
			}
			out = append(out, RuleProblem{Path: at, Message: err.Error()})
		}
	}
	// A service block is checked over its family's block, or over the defaults when that block
	// is itself invalid (reported once, there).
	base := func(at string, family PolicyRule, def UpstreamPolicy) UpstreamPolicy {
		p := family.apply(def)
		if err := p.validate(); err != nil {
			check(at, p)
			return def
		}
		return p
	}
	out = append(out, r.RPC.zeroLimits("rpc")...)
	out = append(out, r.HTTP.zeroLimits("http")...)
	rpc, http := base("rpc", r.RPC, DefaultRPCPolicy()), base("http", r.HTTP, DefaultHTTPPolicy())
	for i, rule := range r.Services {
		at := fmt.Sprintf("services[%d]", i)
		out = append(out, rule.zeroLimits(at)...)
		if strings.TrimSpace(rule.Service) == "" {
			out = append(out, RuleProblem{Path: at + ".service", Message: "names no service"})
			continue
		}
		before := len(out)
		check(at, rule.apply(rpc))
		if len(out) == before {
			check(at, rule.apply(http))
		}
	}
	return out
}

// policyFor resolves the policy of one catalog service: its protocol's defaults, the rules'
// block of that protocol family, then the rules for its name and for its ID. An invalid result
// keeps the defaults (a policy fails closed: the protection stays) and is reported.
func (r UpstreamRules) policyFor(id, name string, rpc bool) (UpstreamPolicy, []diag.Diagnostic) {
	def, family := DefaultHTTPPolicy(), r.HTTP
	if rpc {
		def, family = DefaultRPCPolicy(), r.RPC
	}
	p := family.apply(def)
	for _, rule := range r.Services {
		if rule.Service == id || (name != "" && rule.Service == name) {
			p = rule.apply(p)
		}
	}
	if err := p.validate(); err != nil {
		return def, []diag.Diagnostic{diagnostic(diag.UpstreamPolicyInvalid, diag.Error, id, fmt.Sprintf(
			"upstream policy: %v; the defaults apply instead", err))}
	}
	return p, nil
}
