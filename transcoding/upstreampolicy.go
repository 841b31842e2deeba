package transcoding

import (
	"slices"
	"time"

	"github.com/rpcbridge/rpcbridge/bridge"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/diag"
)

// UpstreamPolicy is the resolved policy of one cluster and of the routes to it.
type UpstreamPolicy struct {
	LoadBalancer     ir.LoadBalancer
	OutlierDetection *ir.OutlierDetection
	CircuitBreakers  *ir.CircuitBreakers
	Retry            *ir.RetryPolicy
}

// The defaults of RPC (gRPC, Triple, Dubbo) clusters. Each is listed with its reason in
// docs/operations.md; where it differs from Envoy's default, the comment says why.
const (
	// DefaultConsecutiveFailures is the consecutive-failure count of every detection (Envoy's 5).
	DefaultConsecutiveFailures = 5
	// DefaultOutlierInterval is Envoy's interval: how often ejected endpoints are checked for
	// return.
	DefaultOutlierInterval = 10 * time.Second
	// DefaultBaseEjectionTime and DefaultMaxEjectionTime are Envoy's: the n-th ejection in a
	// row lasts n × 30 s, at most 300 s.
	DefaultBaseEjectionTime = 30 * time.Second
	DefaultMaxEjectionTime  = 300 * time.Second
	// DefaultMaxEjectionPercent is 50, not Envoy's 10: since Envoy counts the endpoint about to
	// be ejected (envoy#27909), 10% ejects nothing in a cluster of fewer than ten endpoints, and
	// RPC services commonly run two to five providers. 50% ejects one of two.
	DefaultMaxEjectionPercent = 50
	// DefaultLeastRequestChoices is Envoy's choice_count for N_CHOICES, emitted for consumers
	// that know no FULL_SCAN.
	DefaultLeastRequestChoices = 2
	// DefaultMaxRequests and DefaultMaxRetries are Envoy's cluster circuit-breaker defaults,
	// written down so that the embedded gateway and Envoy enforce the same numbers.
	DefaultMaxRequests = 1024
	DefaultMaxRetries  = 3
	// DefaultMaxRequestsPerEndpoint caps the calls in flight to one provider at Dubbo's default
	// provider thread pool (threads=200): a provider with more outstanding calls is stalled or
	// overloaded, and more calls only queue behind the stall.
	DefaultMaxRequestsPerEndpoint = 200
	// DefaultNumRetries is how often a request that never reached an endpoint is tried on
	// another one (Envoy's default is 1): two, so that two bad endpoints of three are passed.
	DefaultNumRetries = 2
	// DefaultHostSelectionMaxAttempts is how often a retry's endpoint is chosen again when it
	// was tried already (Envoy's default 1 allows no re-selection).
	DefaultHostSelectionMaxAttempts = 5
)

// NeverSentRetryOn are the retry conditions of the default retry policy: the request did not
// reach the endpoint (Envoy's connect-failure, refused-stream and reset-before-request), so a
// retry cannot run a non-idempotent call twice.
var NeverSentRetryOn = ir.NeverSentRetryConditions

// DefaultRPCPolicy is the policy of gRPC, Triple and Dubbo clusters: least request over a full
// scan, consecutive gateway failures (502, 503, 504, and connect failures and timeouts, which
// Envoy counts as 503 and 504) eject an endpoint, a cap of calls in flight per endpoint, and
// the never-sent retry policy.
//
// It differs from Envoy's defaults where those do not fit RPC traffic: consecutive 5xx is
// detected but not enforced (Envoy enforces it), because a 500 is a Java exception or a gRPC
// INTERNAL/UNKNOWN that every provider returns alike, so it says nothing about the endpoint;
// consecutive gateway failure is enforced (Envoy: enforcing_consecutive_gateway_failure 0);
// FULL_SCAN instead of N_CHOICES, because P2C samples with replacement and so keeps sending
// 1/n² of the traffic to a stalled endpoint of n (a quarter with two); max ejection percent 50
// (see DefaultMaxEjectionPercent).
func DefaultRPCPolicy() UpstreamPolicy {
	return UpstreamPolicy{
		LoadBalancer: ir.LoadBalancer{Policy: ir.LBLeastRequest, ChoiceCount: DefaultLeastRequestChoices, FullScan: true},
		OutlierDetection: &ir.OutlierDetection{
			Consecutive5xx:                         DefaultConsecutiveFailures,
			EnforcingConsecutive5xx:                0,
			ConsecutiveGatewayFailure:              DefaultConsecutiveFailures,
			EnforcingConsecutiveGatewayFailure:     100,
			ConsecutiveLocalOriginFailure:          DefaultConsecutiveFailures,
			EnforcingConsecutiveLocalOriginFailure: 100,
			Interval:                               DefaultOutlierInterval,
			BaseEjectionTime:                       DefaultBaseEjectionTime,
			MaxEjectionTime:                        DefaultMaxEjectionTime,
			MaxEjectionPercent:                     DefaultMaxEjectionPercent,
		},
		CircuitBreakers: &ir.CircuitBreakers{
			MaxRequests: DefaultMaxRequests, MaxRetries: DefaultMaxRetries, MaxRequestsPerEndpoint: DefaultMaxRequestsPerEndpoint,
		},
		Retry: defaultRetry(),
	}
}

// DefaultHTTPPolicy is the policy of plain HTTP clusters: Envoy's (round robin, no outlier
// detection, default circuit breakers), plus the never-sent retry policy, which the embedded
// gateway has always applied to connect failures.
func DefaultHTTPPolicy() UpstreamPolicy {
	return UpstreamPolicy{Retry: defaultRetry()}
}

func defaultRetry() *ir.RetryPolicy {
	return &ir.RetryPolicy{RetryOn: slices.Clone(NeverSentRetryOn), NumRetries: DefaultNumRetries,
		HostSelectionMaxAttempts: DefaultHostSelectionMaxAttempts}
}

// applyUpstreamPolicies sets every cluster's policy and the retry policy of the routes to it.
func applyUpstreamPolicies(g *ir.Gateway, cat bridge.Catalog, rules UpstreamRules) []diag.Diagnostic {
	names := make(map[string]string, len(cat.Services))
	for _, svc := range cat.Services {
		names[svc.ID] = svc.Name
	}
	var ds []diag.Diagnostic
	retries := make(map[string]*ir.RetryPolicy, len(g.Clusters))
	for i := range g.Clusters {
		c := &g.Clusters[i]
		p, pds := rules.policyFor(c.Name, names[c.Name], c.Protocol != ir.UpstreamHTTP1)
		ds = append(ds, pds...)
		c.LoadBalancer, c.OutlierDetection, c.CircuitBreakers = p.LoadBalancer, p.OutlierDetection, p.CircuitBreakers
		retries[c.Name] = p.Retry
	}
	for i := range g.Routes {
		if rp := retries[g.Routes[i].Cluster]; rp != nil {
			r := *rp
			r.RetryOn = slices.Clone(rp.RetryOn)
			g.Routes[i].Retry = idempotentOnly(&r, g.Routes[i].Match.Methods)
		}
	}
	return ds
}
