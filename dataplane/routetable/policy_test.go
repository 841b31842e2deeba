package routetable_test

import (
	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/rpcbridge/rpcbridge/controlplane"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dataplane/internal/xdsfixture"
	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
	"github.com/rpcbridge/rpcbridge/transcoding"
)

// TestPoliciesRoundTrip is the contract between the two data planes: the upstream policies of
// the IR, translated into Envoy fields by the control plane, decode in the gateway to the same
// values (transcoding's RPC defaults, a Dubbo cluster with its own numbers, an HTTP/2 cluster
// whose per-endpoint cap travels as one connection times max_concurrent_streams).
func TestPoliciesRoundTrip(t *testing.T) {
	rpc := transcoding.DefaultRPCPolicy()
	dubboOD := &ir.OutlierDetection{Consecutive5xx: 0, ConsecutiveGatewayFailure: 3, EnforcingConsecutiveGatewayFailure: 70,
		SplitExternalLocalOriginErrors: true, ConsecutiveLocalOriginFailure: 2, EnforcingConsecutiveLocalOriginFailure: 100,
		Interval: time.Second, BaseEjectionTime: 2 * time.Second, MaxEjectionTime: 4 * time.Second, MaxEjectionPercent: 100, AlwaysEjectOneHost: true}
	g := ir.Gateway{
		Clusters: []ir.Cluster{
			{Name: "grpc:a.B", Protocol: ir.UpstreamHTTP2, LoadBalancer: rpc.LoadBalancer, OutlierDetection: rpc.OutlierDetection, CircuitBreakers: rpc.CircuitBreakers},
			{Name: "dubbo:c.D::", Protocol: ir.UpstreamDubbo, LoadBalancer: ir.LoadBalancer{Policy: ir.LBLeastRequest, ChoiceCount: 3},
				OutlierDetection: dubboOD, CircuitBreakers: &ir.CircuitBreakers{MaxRequests: 10, MaxRetries: 1, MaxRequestsPerEndpoint: 4, MaxConnections: 8, MaxPendingRequests: 16}},
			{Name: "http:e", Protocol: ir.UpstreamHTTP1},
		},
		Routes: []ir.Route{{Name: "r", Match: ir.Match{PathPrefix: "/"}, Cluster: "http:e", Retry: rpc.Retry}},
	}
	res, err := controlplane.Translate(g, controlplane.Options{})
	if err != nil {
		t.Fatal(err)
	}
	table, err := routetable.Build(resources(res.Listeners, res.Routes, res.Clusters, res.Endpoints), gatewayv1.HTTPListener)
	if err != nil {
		t.Fatal(err)
	}

	grpc := table.Cluster("grpc:a.B")
	wantLB := routetable.LoadBalancing{LeastRequest: true, ChoiceCount: 2, FullScan: true, PanicThreshold: 50}
	od := rpc.OutlierDetection
	wantOD := &routetable.OutlierDetection{Consecutive5xx: 5, EnforcingConsecutive5xx: 0, ConsecutiveGatewayFailure: 5,
		EnforcingConsecutiveGatewayFailure: 100, ConsecutiveLocalOriginFailure: 5, EnforcingConsecutiveLocalOriginFailure: 100,
		Interval: od.Interval, BaseEjectionTime: od.BaseEjectionTime, MaxEjectionTime: od.MaxEjectionTime, MaxEjectionPercent: 50}
	// Envoy's 1024 connections, each carrying max_concurrent_streams (the per-endpoint cap).
	wantCB := routetable.CircuitBreakers{MaxRequests: 1024, MaxRetries: 3, MaxConnectionRequests: 1024 * 200, MaxPendingRequests: 1024, MaxRequestsPerEndpoint: 200}
	if grpc.LoadBalancing != wantLB || !reflect.DeepEqual(grpc.OutlierDetection, wantOD) || grpc.CircuitBreakers != wantCB || len(grpc.Unexecuted) > 0 {
		t.Errorf("grpc cluster decoded as %+v %+v %+v %v\nwant %+v %+v %+v", grpc.LoadBalancing, grpc.OutlierDetection, grpc.CircuitBreakers,
			grpc.Unexecuted, wantLB, wantOD, wantCB)
	}

	dubbo := table.Cluster("dubbo:c.D::")
	wantDubboOD := &routetable.OutlierDetection{Consecutive5xx: 0, EnforcingConsecutive5xx: 0, ConsecutiveGatewayFailure: 3,
		EnforcingConsecutiveGatewayFailure: 70, SplitExternalLocalOriginErrors: true, ConsecutiveLocalOriginFailure: 2,
		EnforcingConsecutiveLocalOriginFailure: 100, Interval: time.Second, BaseEjectionTime: 2 * time.Second, MaxEjectionTime: 4 * time.Second,
		MaxEjectionPercent: 100, AlwaysEjectOneHost: true}
	if dubbo.LoadBalancing != (routetable.LoadBalancing{LeastRequest: true, ChoiceCount: 3, PanicThreshold: 50}) ||
		!reflect.DeepEqual(dubbo.OutlierDetection, wantDubboOD) ||
		dubbo.CircuitBreakers != (routetable.CircuitBreakers{MaxRequests: 10, MaxRetries: 1, MaxConnectionRequests: 8, MaxPendingRequests: 16, MaxRequestsPerEndpoint: 4}) {
		t.Errorf("dubbo cluster decoded as %+v %+v %+v", dubbo.LoadBalancing, dubbo.OutlierDetection, dubbo.CircuitBreakers)
	}

	plain := table.Cluster("http:e")
	if plain.LoadBalancing.LeastRequest || plain.OutlierDetection != nil || plain.CircuitBreakers.MaxRequestsPerEndpoint != 0 {
		t.Errorf("http cluster without policies decoded as %+v %+v %+v", plain.LoadBalancing, plain.OutlierDetection, plain.CircuitBreakers)
	}
	route := table.Match(httptest.NewRequest("GET", "/x", nil))
	wantRetry := &routetable.RetryPolicy{RetryOn: []string{"connect-failure", "refused-stream", "reset-before-request"}, NumRetries: 2,
		OtherHosts: true, BackOffBase: 25 * time.Millisecond, BackOffMax: 250 * time.Millisecond}
	if route == nil || !reflect.DeepEqual(route.Retry, wantRetry) {
		t.Errorf("route retry = %+v, want %+v", route.Retry, wantRetry)
	}
}

// TestEnvoyPolicyDefaults: fields a control plane leaves unset take Envoy's defaults; a
// virtual host's retry policy applies to its routes without one; success-rate ejection, on by
// default in Envoy, is named as not executed.
func TestEnvoyPolicyDefaults(t *testing.T) {
	c := xdsfixture.Cluster("c", "c", false)
	c.OutlierDetection = &clusterv3.OutlierDetection{BaseEjectionTime: durationpb.New(400 * time.Second)}
	c.LbPolicy = clusterv3.Cluster_LEAST_REQUEST
	c.CircuitBreakers = &clusterv3.CircuitBreakers{PerHostThresholds: []*clusterv3.CircuitBreakers_Thresholds{{MaxConnections: wrapperspb.UInt32(7)}}}
	vh := xdsfixture.VirtualHost("vh", []string{"*"}, xdsfixture.PrefixRoute("/", "c"))
	vh.RetryPolicy = &routev3.RetryPolicy{RetryOn: "connect-failure, 5xx"}
	table, err := routetable.Build(resources([]*listenerv3.Listener{xdsfixture.Listener(listenerName, listenerName)},
		[]*routev3.RouteConfiguration{xdsfixture.RouteConfig(listenerName, vh)}, []*clusterv3.Cluster{c},
		[]*endpointv3.ClusterLoadAssignment{xdsfixture.Assignment("c")}), listenerName)
	if err != nil {
		t.Fatal(err)
	}
	got := table.Cluster("c")
	want := &routetable.OutlierDetection{Consecutive5xx: 5, EnforcingConsecutive5xx: 100, ConsecutiveGatewayFailure: 5,
		EnforcingConsecutiveGatewayFailure: 0, ConsecutiveLocalOriginFailure: 5, EnforcingConsecutiveLocalOriginFailure: 100,
		Interval: 10 * time.Second, BaseEjectionTime: 400 * time.Second, MaxEjectionTime: 400 * time.Second, MaxEjectionPercent: 10}
	if !reflect.DeepEqual(got.OutlierDetection, want) {
		t.Errorf("outlier detection = %+v, want %+v", got.OutlierDetection, want)
	}
	if got.LoadBalancing != (routetable.LoadBalancing{LeastRequest: true, ChoiceCount: 2, PanicThreshold: 50}) {
		t.Errorf("load balancing = %+v", got.LoadBalancing)
	}
	if got.CircuitBreakers != (routetable.CircuitBreakers{MaxRequests: 1024, MaxRetries: 3, MaxConnectionRequests: 1024, MaxPendingRequests: 1024, MaxRequestsPerEndpoint: 7}) {
		t.Errorf("circuit breakers = %+v", got.CircuitBreakers)
	}
	if !reflect.DeepEqual(got.Unexecuted, []string{"outlier detection by success rate"}) {
		t.Errorf("unexecuted = %v", got.Unexecuted)
	}
	route := table.Match(httptest.NewRequest("GET", "/", nil))
	wantRetry := &routetable.RetryPolicy{RetryOn: []string{"connect-failure", "5xx"}, NumRetries: 1,
		BackOffBase: 25 * time.Millisecond, BackOffMax: 250 * time.Millisecond}
	if !reflect.DeepEqual(route.Retry, wantRetry) {
		t.Errorf("virtual host retry = %+v, want %+v", route.Retry, wantRetry)
	}
}

// TestRetryPolicyRoundTrip: a policy's retry block (per-try timeout, back-off, retriable status
// codes, retries restricted to idempotent methods) and a cluster's retry budget, translated by
// the control plane, decode in the gateway to the same values; a retry_budget without values
// takes Envoy's (20 %, 3); cluster-level max_connections and max_pending_requests decode to the
// requests the connections carry (one per HTTP/1.1 connection; Envoy's 1024 each when unset),
// and only max_connection_pools is named as not executed.
func TestRetryPolicyRoundTrip(t *testing.T) {
	rp := &ir.RetryPolicy{RetryOn: []string{"reset", "retriable-status-codes", "unavailable"}, NumRetries: 3, HostSelectionMaxAttempts: 5,
		PerTryTimeout: 2 * time.Second, BackOff: &ir.RetryBackOff{BaseInterval: 50 * time.Millisecond, MaxInterval: time.Second},
		RetriableStatusCodes: []uint32{503, 429}, RetriableMethods: []string{"GET", "PUT"}}
	g := ir.Gateway{
		Clusters: []ir.Cluster{{Name: "http:e", Protocol: ir.UpstreamHTTP1,
			CircuitBreakers: &ir.CircuitBreakers{MaxRequests: 100, MaxRetries: 1, RetryBudget: &ir.RetryBudget{BudgetPercent: 25, MinRetryConcurrency: 2}}}},
		Routes: []ir.Route{{Name: "r", Match: ir.Match{PathPrefix: "/"}, Cluster: "http:e", Retry: rp}},
	}
	res, err := controlplane.Translate(g, controlplane.Options{})
	if err != nil {
		t.Fatal(err)
	}
	table, err := routetable.Build(resources(res.Listeners, res.Routes, res.Clusters, res.Endpoints), gatewayv1.HTTPListener)
	if err != nil {
		t.Fatal(err)
	}
	wantCB := routetable.CircuitBreakers{MaxRequests: 100, MaxRetries: 1, MaxConnectionRequests: 1024, MaxPendingRequests: 1024,
		RetryBudget: routetable.RetryBudget{Set: true, BudgetPercent: 25, MinRetryConcurrency: 2}}
	if got := table.Cluster("http:e").CircuitBreakers; got != wantCB {
		t.Errorf("circuit breakers = %+v, want %+v", got, wantCB)
	}
	route := table.Match(httptest.NewRequest("GET", "/x", nil))
	got := *route.Retry
	if got.PerTryTimeout != 2*time.Second || got.BackOffBase != 50*time.Millisecond || got.BackOffMax != time.Second ||
		!reflect.DeepEqual(got.RetriableStatusCodes, []int{503, 429}) || got.NumRetries != 3 || !got.OtherHosts ||
		!reflect.DeepEqual(got.RetryOn, rp.RetryOn) {
		t.Errorf("retry policy decoded as %+v", got)
	}
	for method, want := range map[string]bool{"GET": true, "PUT": true, "POST": false, "PATCH": false} {
		if r := route.Retry.Retriable(httptest.NewRequest(method, "/x", nil)); r != want {
			t.Errorf("%s retriable = %v, want %v (retriable_request_headers on :method)", method, r, want)
		}
	}

	c := xdsfixture.Cluster("c", "c", false)
	c.CircuitBreakers = &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{
		RetryBudget: &clusterv3.CircuitBreakers_Thresholds_RetryBudget{}, MaxConnections: wrapperspb.UInt32(10), MaxPendingRequests: wrapperspb.UInt32(5),
		MaxConnectionPools: wrapperspb.UInt32(3)}}}
	table, err = routetable.Build(resources([]*listenerv3.Listener{xdsfixture.Listener(listenerName, listenerName)},
		[]*routev3.RouteConfiguration{xdsfixture.RouteConfig(listenerName, xdsfixture.VirtualHost("vh", []string{"*"}, xdsfixture.PrefixRoute("/", "c")))},
		[]*clusterv3.Cluster{c}, []*endpointv3.ClusterLoadAssignment{xdsfixture.Assignment("c")}), listenerName)
	if err != nil {
		t.Fatal(err)
	}
	if b := table.Cluster("c").CircuitBreakers.RetryBudget; b != (routetable.RetryBudget{Set: true, BudgetPercent: 20, MinRetryConcurrency: 3}) {
		t.Errorf("retry budget without values = %+v, want Envoy's 20 %% and 3", b)
	}
	if cb := table.Cluster("c").CircuitBreakers; cb.MaxConnectionRequests != 10 || cb.MaxPendingRequests != 5 {
		t.Errorf("max_connections 10, max_pending_requests 5 decoded as %+v", cb)
	}
	if u := table.Cluster("c").Unexecuted; !reflect.DeepEqual(u, []string{"circuit breaker max_connection_pools"}) {
		t.Errorf("unexecuted = %v", u)
	}
	for active, want := range map[int64]int64{0: 3, 10: 3, 20: 4, 99: 19} {
		if got := (routetable.RetryBudget{Set: true, BudgetPercent: 20, MinRetryConcurrency: 3}).Limit(active); got != want {
			t.Errorf("limit with %d active = %d, want %d", active, got, want)
		}
	}
}
