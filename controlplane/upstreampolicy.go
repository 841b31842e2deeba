package controlplane

import (
	"fmt"
	"slices"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	leastrequestv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/least_request/v3"
	previoushostsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/retry/host/previous_hosts/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// The extension names the upstream policies use.
const (
	leastRequestPolicyName = "envoy.load_balancing_policies.least_request"
	previousHostsPredicate = "envoy.retry_host_predicates.previous_hosts"
)

// upstreamPolicy sets the cluster's load balancing, outlier detection and circuit breakers.
func upstreamPolicy(out *clusterv3.Cluster, c ir.Cluster) error {
	if err := loadBalancer(out, c.LoadBalancer); err != nil {
		return fmt.Errorf("load balancer: %w", err)
	}
	if od := c.OutlierDetection; od != nil {
		o, err := outlierDetection(*od)
		if err != nil {
			return fmt.Errorf("outlier detection: %w", err)
		}
		out.OutlierDetection = o
	}
	if cb := c.CircuitBreakers; cb != nil {
		if err := cb.Validate(); err != nil {
			return fmt.Errorf("circuit breakers: %w", err)
		}
		out.CircuitBreakers = circuitBreakers(*cb, c.Protocol == ir.UpstreamHTTP2)
	}
	return nil
}

// loadBalancer emits a least-request policy twice: as the typed load_balancing_policy (which
// can carry the FULL_SCAN selection method) and as lb_policy with
// least_request_lb_config for consumers that predate it; load_balancing_policy supersedes
// lb_policy wherever it is understood (Cluster.load_balancing_policy).
func loadBalancer(out *clusterv3.Cluster, lb ir.LoadBalancer) error {
	if err := lb.Validate(); err != nil {
		return err
	}
	if lb.Policy != ir.LBLeastRequest {
		out.LbPolicy = clusterv3.Cluster_ROUND_ROBIN
		return nil
	}
	method := leastrequestv3.LeastRequest_N_CHOICES
	if lb.FullScan {
		method = leastrequestv3.LeastRequest_FULL_SCAN
	}
	typed, err := typedConfig(&leastrequestv3.LeastRequest{
		ChoiceCount:     wrapperspb.UInt32(lb.ChoiceCount),
		SelectionMethod: method,
	})
	if err != nil {
		return err
	}
	out.LbPolicy = clusterv3.Cluster_LEAST_REQUEST
	out.LbConfig = &clusterv3.Cluster_LeastRequestLbConfig_{LeastRequestLbConfig: &clusterv3.Cluster_LeastRequestLbConfig{
		ChoiceCount: wrapperspb.UInt32(lb.ChoiceCount),
	}}
	out.LoadBalancingPolicy = &clusterv3.LoadBalancingPolicy{Policies: []*clusterv3.LoadBalancingPolicy_Policy{{
		TypedExtensionConfig: &corev3.TypedExtensionConfig{Name: leastRequestPolicyName, TypedConfig: typed},
	}}}
	return nil
}

// outlierDetection emits every field explicitly, so that Envoy's defaults (10% max ejection, no
// gateway-failure enforcement) never apply by omission. Success-rate and failure-percentage
// ejection are turned off explicitly (enforcing_success_rate defaults to 100): the IR has no such
// policy and the embedded gateway does not execute one.
func outlierDetection(od ir.OutlierDetection) (*clusterv3.OutlierDetection, error) {
	if err := od.Validate(); err != nil {
		return nil, err
	}
	u32 := wrapperspb.UInt32
	return &clusterv3.OutlierDetection{
		Consecutive_5Xx:                        u32(od.Consecutive5xx),
		EnforcingConsecutive_5Xx:               u32(od.EnforcingConsecutive5xx),
		ConsecutiveGatewayFailure:              u32(od.ConsecutiveGatewayFailure),
		EnforcingConsecutiveGatewayFailure:     u32(od.EnforcingConsecutiveGatewayFailure),
		SplitExternalLocalOriginErrors:         od.SplitExternalLocalOriginErrors,
		ConsecutiveLocalOriginFailure:          u32(od.ConsecutiveLocalOriginFailure),
		EnforcingConsecutiveLocalOriginFailure: u32(od.EnforcingConsecutiveLocalOriginFailure),
		Interval:                               durationpb.New(od.Interval),
		BaseEjectionTime:                       durationpb.New(od.BaseEjectionTime),
		MaxEjectionTime:                        durationpb.New(od.MaxEjectionTime),
		MaxEjectionPercent:                     u32(od.MaxEjectionPercent),
		AlwaysEjectOneHost:                     wrapperspb.Bool(od.AlwaysEjectOneHost),
		EnforcingSuccessRate:                   u32(0),
		EnforcingLocalOriginSuccessRate:        u32(0),
		EnforcingFailurePercentage:             u32(0),
		EnforcingFailurePercentageLocalOrigin:  u32(0),
	}, nil
}

// circuitBreakers emits the cluster thresholds and, for a per-endpoint cap, per_host_thresholds
// max_connections, the only per-host limit Envoy has (see ir.CircuitBreakers): the cap itself
// where a connection carries one request, one connection on HTTP/2 clusters, whose
// max_concurrent_streams carries the cap (perEndpointHTTP2Streams).
func circuitBreakers(cb ir.CircuitBreakers, http2 bool) *clusterv3.CircuitBreakers {
	out := &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{
		Priority:    corev3.RoutingPriority_DEFAULT,
		MaxRequests: wrapperspb.UInt32(cb.MaxRequests),
		MaxRetries:  wrapperspb.UInt32(cb.MaxRetries),
	}}}
	if cb.MaxConnections > 0 {
		out.Thresholds[0].MaxConnections = wrapperspb.UInt32(cb.MaxConnections)
	}
	if cb.MaxPendingRequests > 0 {
		out.Thresholds[0].MaxPendingRequests = wrapperspb.UInt32(cb.MaxPendingRequests)
	}
	if b := cb.RetryBudget; b != nil {
		// With a retry budget Envoy ignores max_retries (resource_manager_impl.h RetryBudgetImpl).
		out.Thresholds[0].RetryBudget = &clusterv3.CircuitBreakers_Thresholds_RetryBudget{
			BudgetPercent:       &typev3.Percent{Value: b.BudgetPercent},
			MinRetryConcurrency: wrapperspb.UInt32(b.MinRetryConcurrency),
		}
	}
	if cb.MaxRequestsPerEndpoint > 0 {
		connections := cb.MaxRequestsPerEndpoint
		if http2 {
			connections = 1
		}
		out.PerHostThresholds = []*clusterv3.CircuitBreakers_Thresholds{{
			Priority:       corev3.RoutingPriority_DEFAULT,
			MaxConnections: wrapperspb.UInt32(connections),
		}}
	}
	return out
}

// perEndpointHTTP2Streams is the max_concurrent_streams that makes an HTTP/2 cluster's
// per-endpoint cap hold: one connection per endpoint (per_host max_connections, see
// http2ProtocolOptions) carrying at most that many streams. Zero means no cap.
func perEndpointHTTP2Streams(c ir.Cluster) uint32 {
	if c.CircuitBreakers == nil {
		return 0
	}
	return c.CircuitBreakers.MaxRequestsPerEndpoint
}

// retryPolicy translates a route's retry policy; nil for none.
func retryPolicy(p *ir.RetryPolicy) (*routev3.RetryPolicy, error) {
	if p == nil {
		return nil, nil
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("retry policy: %w", err)
	}
	predicate, err := typedConfig(&previoushostsv3.PreviousHostsPredicate{})
	if err != nil {
		return nil, err
	}
	out := &routev3.RetryPolicy{
		RetryOn:    strings.Join(p.RetryOn, ","),
		NumRetries: wrapperspb.UInt32(p.NumRetries),
		RetryHostPredicate: []*routev3.RetryPolicy_RetryHostPredicate{{
			Name:       previousHostsPredicate,
			ConfigType: &routev3.RetryPolicy_RetryHostPredicate_TypedConfig{TypedConfig: predicate},
		}},
		HostSelectionRetryMaxAttempts: int64(p.HostSelectionMaxAttempts),
		RetriableStatusCodes:          slices.Clone(p.RetriableStatusCodes),
	}
	if p.PerTryTimeout > 0 {
		out.PerTryTimeout = durationpb.New(p.PerTryTimeout)
	}
	if b := p.BackOff; b != nil {
		out.RetryBackOff = &routev3.RetryPolicy_RetryBackOff{BaseInterval: durationpb.New(b.BaseInterval)}
		if b.MaxInterval > 0 {
			out.RetryBackOff.MaxInterval = durationpb.New(b.MaxInterval)
		}
	}
	if len(p.RetriableMethods) > 0 {
		// Envoy clears retry_on for a request no retriable_request_headers matcher matches
		// (source/common/router/retry_state_impl.cc): only these methods are ever retried.
		methods, err := methodMatcher(p.RetriableMethods)
		if err != nil {
			return nil, fmt.Errorf("retry policy: %w", err)
		}
		out.RetriableRequestHeaders = []*routev3.HeaderMatcher{methods}
	}
	return out, nil
}
