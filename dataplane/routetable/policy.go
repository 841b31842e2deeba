package routetable

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	leastrequestv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/least_request/v3"
	roundrobinv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/round_robin/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// httpProtocolOptionsKey is the typed_extension_protocol_options key for upstream HTTP options:
// Envoy keys them by the options' type name.
var httpProtocolOptionsKey = string((&upstreamhttpv3.HttpProtocolOptions{}).ProtoReflect().Descriptor().FullName())

// The upstream policies of a cluster and the retry policy of a route, decoded from the Envoy
// fields with Envoy's defaults for what is unset, so that the gateway executes what Envoy would.

// LoadBalancing is a cluster's lb_policy / load_balancing_policy and its healthy panic threshold.
type LoadBalancing struct {
	// LeastRequest selects LEAST_REQUEST; otherwise weighted round robin.
	LeastRequest bool
	// ChoiceCount is LEAST_REQUEST's N_CHOICES sample size (default 2); FullScan compares
	// every endpoint instead (selection_method FULL_SCAN).
	ChoiceCount int
	FullScan    bool
	// PanicThreshold is common_lb_config.healthy_panic_threshold in percent (default 50): below
	// that share of non-ejected endpoints, every endpoint gets traffic again.
	PanicThreshold float64
}

// OutlierDetection is a cluster's outlier_detection, every field resolved (Envoy's defaults:
// source/common/upstream/outlier_detection_impl.cc DetectorConfig).
type OutlierDetection struct {
	Consecutive5xx, EnforcingConsecutive5xx                               int
	ConsecutiveGatewayFailure, EnforcingConsecutiveGatewayFailure         int
	SplitExternalLocalOriginErrors                                        bool
	ConsecutiveLocalOriginFailure, EnforcingConsecutiveLocalOriginFailure int
	Interval, BaseEjectionTime, MaxEjectionTime                           time.Duration
	MaxEjectionPercent                                                    int
	AlwaysEjectOneHost                                                    bool
}

// CircuitBreakers are a cluster's circuit_breakers for the DEFAULT priority (Envoy's defaults:
// 1024 requests, 3 retries, 1024 connections, 1024 pending requests) and its per-endpoint
// request cap.
type CircuitBreakers struct {
	MaxRequests int
	MaxRetries  int
	// MaxConnectionRequests is how many requests the cluster's connections carry at once:
	// max_connections times the requests one connection carries (max_concurrent_streams on
	// HTTP/2, else one, as an HTTP/1.1 connection or Envoy's Dubbo TCP upstream carries); 0
	// means no cap (HTTP/2 without a stream limit). A request beyond it waits as pending.
	MaxConnectionRequests int
	// MaxPendingRequests is max_pending_requests: how many requests may wait for a connection;
	// one more is refused at once (503, overflow).
	MaxPendingRequests int
	// MaxRequestsPerEndpoint is per_host_thresholds max_connections times the requests one
	// connection carries (max_concurrent_streams on HTTP/2, else one); 0 means no cap.
	MaxRequestsPerEndpoint int
	// RetryBudget is the thresholds' retry_budget; when Set, it replaces MaxRetries.
	RetryBudget RetryBudget
}

// RetryBudget is a retry_budget (Envoy's defaults: 20 percent, 3 retries): the retries in flight
// may be max(BudgetPercent % of the requests in flight, MinRetryConcurrency).
type RetryBudget struct {
	Set                 bool
	BudgetPercent       float64
	MinRetryConcurrency int
}

// Limit is how many retries may be in flight while active requests are: Envoy's RetryBudgetImpl
// max() (source/common/upstream/resource_manager_impl.h), the percentage of the requests in
// flight rounded down, never below MinRetryConcurrency.
func (b RetryBudget) Limit(active int64) int64 {
	return max(int64(b.BudgetPercent/100*float64(active)), int64(b.MinRetryConcurrency))
}

// RetryPolicy is a route's (or its virtual host's) retry_policy.
type RetryPolicy struct {
	// RetryOn are the retry_on conditions.
	RetryOn []string
	// NumRetries is num_retries (default 1).
	NumRetries int
	// OtherHosts is the previous_hosts retry host predicate: a retry avoids endpoints tried.
	OtherHosts bool
	// BackOffBase and BackOffMax are retry_back_off (defaults 25 ms and 10 × base).
	BackOffBase, BackOffMax time.Duration
	// PerTryTimeout is per_try_timeout; 0 means none.
	PerTryTimeout time.Duration
	// RetriableStatusCodes are retriable_status_codes.
	RetriableStatusCodes []int
	// retriableRequests are retriable_request_headers: when there are some, a request none of
	// them matches is not retried at all.
	retriableRequests []headerMatcher
}

// RetriesOn reports whether condition is one of the policy's retry_on conditions.
func (p *RetryPolicy) RetriesOn(condition string) bool {
	return p != nil && slices.Contains(p.RetryOn, condition)
}

// Retriable reports whether r may be retried at all: Envoy clears a request's retry_on when
// the route has retriable_request_headers and none matches (retry_state_impl.cc).
func (p *RetryPolicy) Retriable(r *http.Request) bool {
	if p == nil {
		return false
	}
	if len(p.retriableRequests) == 0 {
		return true
	}
	return slices.ContainsFunc(p.retriableRequests, func(h headerMatcher) bool { return h.matches(r) })
}

// Envoy's defaults for the fields above.
const (
	defaultPanicThreshold     = 50
	defaultChoiceCount        = 2
	defaultMaxRequests        = 1024
	defaultMaxRetries         = 3
	defaultMaxConnections     = 1024
	defaultMaxPendingRequests = 1024
	defaultRetryBackOffBase   = 25 * time.Millisecond
	defaultMaxEjectionTime    = 300 * time.Second
	defaultConsecutiveFailure = 5
	// defaultBudgetPercent and defaultMinRetryConcurrency are retry_budget's.
	defaultBudgetPercent       = 20
	defaultMinRetryConcurrency = 3
)

// decodeLoadBalancing reads load_balancing_policy (its first policy the gateway knows, as Envoy
// takes the first it supports) and else lb_policy; other algorithms are served as round robin.
func decodeLoadBalancing(c *clusterv3.Cluster) (LoadBalancing, error) {
	lb := LoadBalancing{ChoiceCount: defaultChoiceCount, PanicThreshold: defaultPanicThreshold}
	if p := c.GetCommonLbConfig().GetHealthyPanicThreshold(); p != nil {
		lb.PanicThreshold = p.GetValue()
	}
	for _, p := range c.GetLoadBalancingPolicy().GetPolicies() {
		typed := p.GetTypedExtensionConfig().GetTypedConfig()
		switch {
		case typed.MessageIs(&leastrequestv3.LeastRequest{}):
			cfg := &leastrequestv3.LeastRequest{}
			if err := typed.UnmarshalTo(cfg); err != nil {
				return lb, fmt.Errorf("load_balancing_policy: %w", err)
			}
			lb.LeastRequest = true
			lb.FullScan = cfg.GetSelectionMethod() == leastrequestv3.LeastRequest_FULL_SCAN
			lb.ChoiceCount = int(uint32Or(cfg.GetChoiceCount(), defaultChoiceCount))
			return lb, nil
		case typed.MessageIs(&roundrobinv3.RoundRobin{}):
			return lb, nil
		}
	}
	if c.GetLbPolicy() == clusterv3.Cluster_LEAST_REQUEST {
		lb.LeastRequest = true
		lb.ChoiceCount = int(uint32Or(c.GetLeastRequestLbConfig().GetChoiceCount(), defaultChoiceCount))
	}
	return lb, nil
}

// decodeOutlierDetection resolves outlier_detection; nil when the cluster has none.
func decodeOutlierDetection(c *clusterv3.Cluster) *OutlierDetection {
	od := c.GetOutlierDetection()
	if od == nil {
		return nil
	}
	base := durationOr(od.GetBaseEjectionTime(), 30*time.Second)
	return &OutlierDetection{
		Consecutive5xx:                         int(uint32Or(od.GetConsecutive_5Xx(), defaultConsecutiveFailure)),
		EnforcingConsecutive5xx:                int(uint32Or(od.GetEnforcingConsecutive_5Xx(), 100)),
		ConsecutiveGatewayFailure:              int(uint32Or(od.GetConsecutiveGatewayFailure(), defaultConsecutiveFailure)),
		EnforcingConsecutiveGatewayFailure:     int(uint32Or(od.GetEnforcingConsecutiveGatewayFailure(), 0)),
		SplitExternalLocalOriginErrors:         od.GetSplitExternalLocalOriginErrors(),
		ConsecutiveLocalOriginFailure:          int(uint32Or(od.GetConsecutiveLocalOriginFailure(), defaultConsecutiveFailure)),
		EnforcingConsecutiveLocalOriginFailure: int(uint32Or(od.GetEnforcingConsecutiveLocalOriginFailure(), 100)),
		Interval:                               durationOr(od.GetInterval(), 10*time.Second),
		BaseEjectionTime:                       base,
		// "If not specified, the default value (300000ms or 300s) or base_ejection_time value is
		// applied, whatever is larger."
		MaxEjectionTime:    durationOr(od.GetMaxEjectionTime(), max(defaultMaxEjectionTime, base)),
		MaxEjectionPercent: int(min(uint32Or(od.GetMaxEjectionPercent(), 10), 100)),
		AlwaysEjectOneHost: od.GetAlwaysEjectOneHost().GetValue(),
	}
}

// unexecutedOutlierDetection names the ejection kinds a cluster enables that the gateway does not
// execute: success rate (on by default in Envoy once outlier_detection is set) and failure
// percentage.
func unexecutedOutlierDetection(c *clusterv3.Cluster) []string {
	od := c.GetOutlierDetection()
	if od == nil {
		return nil
	}
	var out []string
	if uint32Or(od.GetEnforcingSuccessRate(), 100) > 0 {
		out = append(out, "success rate")
	}
	if od.GetSplitExternalLocalOriginErrors() && uint32Or(od.GetEnforcingLocalOriginSuccessRate(), 100) > 0 {
		out = append(out, "local-origin success rate")
	}
	if od.GetEnforcingFailurePercentage().GetValue() > 0 || od.GetEnforcingFailurePercentageLocalOrigin().GetValue() > 0 {
		out = append(out, "failure percentage")
	}
	return out
}

// decodeCircuitBreakers resolves the DEFAULT-priority thresholds (the first of that priority, as
// Envoy takes) and the per-endpoint cap; http2 is the cluster's HTTP/2 options, nil for other
// protocols.
func decodeCircuitBreakers(c *clusterv3.Cluster, http2 *corev3.Http2ProtocolOptions) CircuitBreakers {
	out := CircuitBreakers{MaxRequests: defaultMaxRequests, MaxRetries: defaultMaxRetries, MaxPendingRequests: defaultMaxPendingRequests}
	perConnection := uint64(1)
	if http2 != nil {
		perConnection = uint64(uint32Or(http2.GetMaxConcurrentStreams(), math.MaxInt32))
	}
	connections := uint64(defaultMaxConnections)
	if t := defaultPriority(c.GetCircuitBreakers().GetThresholds()); t != nil {
		out.MaxRequests = int(uint32Or(t.GetMaxRequests(), defaultMaxRequests))
		out.MaxRetries = int(uint32Or(t.GetMaxRetries(), defaultMaxRetries))
		connections = uint64(uint32Or(t.GetMaxConnections(), defaultMaxConnections))
		out.MaxPendingRequests = int(uint32Or(t.GetMaxPendingRequests(), defaultMaxPendingRequests))
		if b := t.GetRetryBudget(); b != nil {
			out.RetryBudget = RetryBudget{Set: true, BudgetPercent: defaultBudgetPercent, MinRetryConcurrency: defaultMinRetryConcurrency}
			if p := b.GetBudgetPercent(); p != nil {
				out.RetryBudget.BudgetPercent = p.GetValue()
			}
			out.RetryBudget.MinRetryConcurrency = int(uint32Or(b.GetMinRetryConcurrency(), defaultMinRetryConcurrency))
		}
	}
	if capped := connections * perConnection; capped < math.MaxInt32 {
		out.MaxConnectionRequests = int(capped)
	}
	t := defaultPriority(c.GetCircuitBreakers().GetPerHostThresholds())
	if t == nil || t.GetMaxConnections() == nil {
		return out
	}
	if capped := uint64(t.GetMaxConnections().GetValue()) * perConnection; capped < math.MaxInt32 {
		out.MaxRequestsPerEndpoint = int(capped)
	}
	return out
}

// unexecutedCircuitBreakers names the DEFAULT-priority thresholds a cluster sets that the gateway
// does not execute: max_connection_pools (the gateway keeps one connection pool per endpoint).
func unexecutedCircuitBreakers(c *clusterv3.Cluster) []string {
	if defaultPriority(c.GetCircuitBreakers().GetThresholds()).GetMaxConnectionPools() != nil {
		return []string{"circuit breaker max_connection_pools"}
	}
	return nil
}

func defaultPriority(ts []*clusterv3.CircuitBreakers_Thresholds) *clusterv3.CircuitBreakers_Thresholds {
	for _, t := range ts {
		if t.GetPriority() == corev3.RoutingPriority_DEFAULT {
			return t
		}
	}
	return nil
}

// http2Options returns the cluster's HTTP/2 protocol options, nil when it does not speak HTTP/2.
func http2Options(c *clusterv3.Cluster) (*corev3.Http2ProtocolOptions, error) {
	if o := c.GetHttp2ProtocolOptions(); o != nil { //nolint:staticcheck // deprecated field still honoured
		return o, nil
	}
	typed, ok := c.GetTypedExtensionProtocolOptions()[httpProtocolOptionsKey]
	if !ok {
		return nil, nil
	}
	opts := &upstreamhttpv3.HttpProtocolOptions{}
	if err := typed.UnmarshalTo(opts); err != nil {
		return nil, fmt.Errorf("%s: %w", httpProtocolOptionsKey, err)
	}
	return opts.GetExplicitHttpConfig().GetHttp2ProtocolOptions(), nil
}

// decodeRetryPolicy resolves a retry_policy; nil for none.
func decodeRetryPolicy(p *routev3.RetryPolicy) (*RetryPolicy, error) {
	if p == nil {
		return nil, nil
	}
	out := &RetryPolicy{NumRetries: int(uint32Or(p.GetNumRetries(), 1)), BackOffBase: defaultRetryBackOffBase,
		PerTryTimeout: p.GetPerTryTimeout().AsDuration()}
	for _, c := range p.GetRetriableStatusCodes() {
		out.RetriableStatusCodes = append(out.RetriableStatusCodes, int(c))
	}
	for i, h := range p.GetRetriableRequestHeaders() {
		m, err := compileHeaderMatcher(h)
		if err != nil {
			return nil, fmt.Errorf("retry_policy retriable_request_headers[%d]: %w", i, err)
		}
		out.retriableRequests = append(out.retriableRequests, m)
	}
	for _, on := range strings.Split(p.GetRetryOn(), ",") {
		if on = strings.TrimSpace(on); on != "" {
			out.RetryOn = append(out.RetryOn, on)
		}
	}
	for _, pred := range p.GetRetryHostPredicate() {
		if pred.GetName() == "envoy.retry_host_predicates.previous_hosts" {
			out.OtherHosts = true
		}
	}
	if b := p.GetRetryBackOff(); b != nil {
		out.BackOffBase = durationOr(b.GetBaseInterval(), defaultRetryBackOffBase)
	}
	out.BackOffMax = 10 * out.BackOffBase
	if m := p.GetRetryBackOff().GetMaxInterval(); m != nil {
		out.BackOffMax = max(m.AsDuration(), out.BackOffBase)
	}
	return out, nil
}

// uint32Or is v, or def when v is unset.
func uint32Or(v *wrapperspb.UInt32Value, def uint32) uint32 {
	if v == nil {
		return def
	}
	return v.GetValue()
}

// durationOr is d, or def when d is unset.
func durationOr(d *durationpb.Duration, def time.Duration) time.Duration {
	if d == nil {
		return def
	}
	return d.AsDuration()
}
