package routetable_test

import (
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/dataplane/internal/xdsfixture"
	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
)

const listenerName = gatewayv1.HTTPListener

// resources assembles a Resources value from lists.
func resources(ls []*listenerv3.Listener, rcs []*routev3.RouteConfiguration, cs []*clusterv3.Cluster, clas []*endpointv3.ClusterLoadAssignment) routetable.Resources {
	res := routetable.Resources{
		Listeners:    map[string]*listenerv3.Listener{},
		RouteConfigs: map[string]*routev3.RouteConfiguration{},
		Clusters:     map[string]*clusterv3.Cluster{},
		Endpoints:    map[string]*endpointv3.ClusterLoadAssignment{},
	}
	for _, l := range ls {
		res.Listeners[l.GetName()] = l
	}
	for _, rc := range rcs {
		res.RouteConfigs[rc.GetName()] = rc
	}
	for _, c := range cs {
		res.Clusters[c.GetName()] = c
	}
	for _, cla := range clas {
		res.Endpoints[cla.GetClusterName()] = cla
	}
	return res
}

func TestBuildRejectsUnusableResources(t *testing.T) {
	noRoutes := xdsfixture.ListenerWithHCM(listenerName, &hcmv3.HttpConnectionManager{StatPrefix: "x"})
	badRegex := xdsfixture.PrefixRoute("/", "c", xdsfixture.MethodRegex("^(GET"))
	noAddress := &endpointv3.ClusterLoadAssignment{ClusterName: "c", Endpoints: []*endpointv3.LocalityLbEndpoints{{
		LbEndpoints: []*endpointv3.LbEndpoint{{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{}}}},
	}}}
	originalIPHCM := xdsfixture.Listener(listenerName, "rc").GetFilterChains()[0].GetFilters()[0].GetTypedConfig()
	var withDetection hcmv3.HttpConnectionManager
	if err := originalIPHCM.UnmarshalTo(&withDetection); err != nil {
		t.Fatal(err)
	}
	withDetection.OriginalIpDetectionExtensions = []*corev3.TypedExtensionConfig{{Name: "envoy.http.original_ip_detection.xff",
		TypedConfig: originalIPHCM}}
	originalIP := xdsfixture.ListenerWithHCM(listenerName, &withDetection)
	redirect := &routev3.Route{
		Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
		Action: &routev3.Route_Redirect{Redirect: &routev3.RedirectAction{}},
	}
	cases := []struct {
		name    string
		res     routetable.Resources
		wantErr string
	}{
		{"listener without rds or route_config", resources([]*listenerv3.Listener{noRoutes}, nil, nil, nil), `listener "rpcbridge-http"`},
		{"bad method regex", resources(nil, []*routev3.RouteConfiguration{
			xdsfixture.RouteConfig("r", xdsfixture.VirtualHost("vh", []string{"*"}, badRegex)),
		}, nil, nil), "safe_regex"},
		{"duplicate domain", resources(nil, []*routev3.RouteConfiguration{xdsfixture.RouteConfig("r",
			xdsfixture.VirtualHost("a", []string{"*"}), xdsfixture.VirtualHost("b", []string{"*"}))}, nil, nil), "already used"},
		{"endpoint without address", resources(nil, nil, nil, []*endpointv3.ClusterLoadAssignment{noAddress}), `cluster load assignment "c"`},
		{"unsupported route action", resources(nil, []*routev3.RouteConfiguration{
			xdsfixture.RouteConfig("r", xdsfixture.VirtualHost("vh", []string{"*"}, redirect)),
		}, nil, nil), "unsupported route action"},
		{"invalid cluster", resources(nil, nil, []*clusterv3.Cluster{{Name: ""}}, nil), "cluster"},
		{"original IP detection the gateway cannot run", resources([]*listenerv3.Listener{originalIP},
			[]*routev3.RouteConfiguration{xdsfixture.RouteConfig("rc")}, nil, nil), "original_ip_detection_extensions"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := routetable.Build(tc.res, listenerName)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Build error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestBuildReadinessAndInterest(t *testing.T) {
	dubbo := &listenerv3.Listener{Name: gatewayv1.DubboListener, FilterChains: []*listenerv3.FilterChain{{
		Filters: []*listenerv3.Filter{{Name: "envoy.filters.network.dubbo_proxy"}},
	}}}
	cases := []struct {
		name       string
		res        routetable.Resources
		wantReady  bool
		wantRoutes []string
		wantEDS    []string
	}{
		{"nothing", resources(nil, nil, nil, nil), false, []string{}, []string{}},
		{"listener without its routes", resources([]*listenerv3.Listener{xdsfixture.Listener(listenerName, "rc")}, nil, nil, nil),
			false, []string{"rc"}, []string{}},
		{"listener and routes", resources([]*listenerv3.Listener{xdsfixture.Listener(listenerName, "rc")},
			[]*routev3.RouteConfiguration{xdsfixture.RouteConfig("rc")}, nil, nil), true, []string{"rc"}, []string{}},
		{"api listener and dubbo listener ignored", resources([]*listenerv3.Listener{
			xdsfixture.APIListener("grpc.Svc", "grpc-rc"), dubbo,
		}, nil, nil, nil), false, []string{}, []string{}},
		{"other HTTP listener's routes are still subscribed", resources([]*listenerv3.Listener{xdsfixture.Listener("other", "other-rc")},
			nil, nil, nil), false, []string{"other-rc"}, []string{}},
		{"eds names with and without service_name", resources(nil, nil, []*clusterv3.Cluster{
			xdsfixture.Cluster("a", "svc-a", false), xdsfixture.Cluster("b", "", false),
		}, nil), false, []string{}, []string{"b", "svc-a"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			table, err := routetable.Build(tc.res, listenerName)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if table.Ready() != tc.wantReady {
				t.Errorf("Ready() = %v, want %v", table.Ready(), tc.wantReady)
			}
			if got := append([]string{}, table.RouteConfigNames()...); !reflect.DeepEqual(got, tc.wantRoutes) {
				t.Errorf("RouteConfigNames() = %v, want %v", got, tc.wantRoutes)
			}
			if got := append([]string{}, table.EDSServiceNames()...); !reflect.DeepEqual(got, tc.wantEDS) {
				t.Errorf("EDSServiceNames() = %v, want %v", got, tc.wantEDS)
			}
		})
	}
}

// TestWarming: a cluster whose endpoints have not arrived is warming; an empty assignment
// counts as arrived (a cluster with no hosts is warmed, as in Envoy).
func TestWarming(t *testing.T) {
	clusters := []*clusterv3.Cluster{xdsfixture.Cluster("a", "svc-a", false), xdsfixture.Cluster("b", "", false),
		xdsfixture.Cluster("c", "svc-c", true)}
	for _, tc := range []struct {
		name string
		clas []*endpointv3.ClusterLoadAssignment
		want []string
	}{
		{"none received", nil, []string{"b", "svc-a", "svc-c"}},
		{"one received", []*endpointv3.ClusterLoadAssignment{xdsfixture.Assignment("svc-a")}, []string{"b", "svc-c"}},
		{"all received, one empty", []*endpointv3.ClusterLoadAssignment{xdsfixture.Assignment("svc-a"),
			xdsfixture.Assignment("b"), xdsfixture.Assignment("svc-c")}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			table, err := routetable.Build(resources(nil, nil, clusters, tc.clas), listenerName)
			if err != nil {
				t.Fatal(err)
			}
			if got := table.Warming(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Warming() = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestHeaderPolicy: the table carries the header policy of its listener's HCM and route
// configuration (package hcm executes it), and none before the routes arrive.
func TestHeaderPolicy(t *testing.T) {
	l := xdsfixture.Listener(listenerName, "rc")
	early, err := routetable.Build(resources([]*listenerv3.Listener{l}, nil, nil, nil), listenerName)
	if err != nil || early.HeaderPolicy() != nil {
		t.Fatalf("before the routes: policy %v, err %v; want none", early.HeaderPolicy(), err)
	}
	rc := xdsfixture.RouteConfig("rc")
	rc.InternalOnlyHeaders = []string{"x-real-ip"}
	table, err := routetable.Build(resources([]*listenerv3.Listener{l}, []*routev3.RouteConfiguration{rc}, nil, nil), listenerName)
	if err != nil {
		t.Fatal(err)
	}
	p := table.HeaderPolicy()
	if p == nil || !p.UseRemoteAddress || !p.GenerateRequestID || len(p.InternalOnlyHeaders) != 1 || p.InternalOnlyHeaders[0] != "X-Real-Ip" {
		t.Errorf("policy = %+v, want use_remote_address, generated ids and X-Real-Ip internal-only", p)
	}
}

func TestMatch(t *testing.T) {
	rc := xdsfixture.RouteConfig("rc",
		xdsfixture.VirtualHost("api", []string{"api.example.com"},
			xdsfixture.PrefixRoute("/", "api-cluster")),
		xdsfixture.VirtualHost("wild", []string{"*.example.com"},
			xdsfixture.PrefixRoute("/", "wild-cluster")),
		xdsfixture.VirtualHost("default", []string{"*"},
			xdsfixture.PathRoute("/users", "users-get", xdsfixture.Method("GET")),
			xdsfixture.PathRoute("/users", "users-write", xdsfixture.MethodRegex("^(POST|PUT)$")),
			xdsfixture.PrefixRoute("/v1/", "v1", xdsfixture.PrefixRewrite("/internal/")),
			xdsfixture.PrefixRoute("/static", "static", xdsfixture.Timeout(0)),
		),
	)
	table, err := routetable.Build(resources([]*listenerv3.Listener{xdsfixture.Listener(listenerName, "rc")},
		[]*routev3.RouteConfiguration{rc}, nil, nil), listenerName)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	cases := []struct {
		method, host, target string
		wantCluster          string // "" = no route
		wantPath             string
		wantTimeout          time.Duration
	}{
		{"GET", "anything", "/users", "users-get", "/users", routetable.DefaultRouteTimeout},
		{"POST", "anything", "/users", "users-write", "/users", routetable.DefaultRouteTimeout},
		{"PUT", "anything:8080", "/users", "users-write", "/users", routetable.DefaultRouteTimeout},
		{"DELETE", "anything", "/users", "", "", 0},
		{"GET", "anything", "/users/1", "", "", 0},
		{"GET", "anything", "/v1/items?x=1", "v1", "/internal/items", routetable.DefaultRouteTimeout},
		{"GET", "anything", "/static/a.css", "static", "/static/a.css", 0},
		{"GET", "api.example.com", "/users", "api-cluster", "/users", routetable.DefaultRouteTimeout},
		{"GET", "API.example.com:8443", "/x", "api-cluster", "/x", routetable.DefaultRouteTimeout},
		{"GET", "web.example.com", "/x", "wild-cluster", "/x", routetable.DefaultRouteTimeout},
		{"GET", "example.com", "/x", "", "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.host+tc.target, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "http://"+tc.host+tc.target, nil)
			route := table.Match(r)
			if tc.wantCluster == "" {
				if route != nil {
					t.Fatalf("Match = route to %q, want no route", route.Cluster)
				}
				return
			}
			if route == nil {
				t.Fatalf("Match = no route, want %q", tc.wantCluster)
			}
			if route.Cluster != tc.wantCluster {
				t.Errorf("cluster = %q, want %q", route.Cluster, tc.wantCluster)
			}
			if got := route.RewritePath(r.URL.EscapedPath()); got != tc.wantPath {
				t.Errorf("rewritten path = %q, want %q", got, tc.wantPath)
			}
			if route.Timeout != tc.wantTimeout {
				t.Errorf("timeout = %v, want %v", route.Timeout, tc.wantTimeout)
			}
		})
	}
}

func TestClusters(t *testing.T) {
	ep := func(port, weight uint32, health corev3.HealthStatus) xdsfixture.Endpoint {
		return xdsfixture.Endpoint{Host: "10.0.0.1", Port: port, Weight: weight, Health: health}
	}
	tlsCluster := xdsfixture.Cluster("tls", "tls", false)
	tlsCluster.TransportSocket = &corev3.TransportSocket{Name: "envoy.transport_sockets.tls"}
	// Clusters without upstream policies get Envoy's defaults (policy_test.go covers the rest).
	withDefaults := func(c routetable.Cluster) routetable.Cluster {
		c.LoadBalancing = routetable.LoadBalancing{ChoiceCount: 2, PanicThreshold: 50}
		if c.CircuitBreakers == (routetable.CircuitBreakers{}) {
			c.CircuitBreakers = routetable.CircuitBreakers{MaxRequests: 1024, MaxRetries: 3, MaxConnectionRequests: 1024, MaxPendingRequests: 1024}
		}
		return c
	}
	cases := []struct {
		name    string
		cluster *clusterv3.Cluster
		cla     *endpointv3.ClusterLoadAssignment
		want    routetable.Cluster
	}{
		{"http1 with weights and health", xdsfixture.Cluster("c", "svc", false),
			xdsfixture.Assignment("svc",
				ep(1, 0, corev3.HealthStatus_UNKNOWN), ep(2, 3, corev3.HealthStatus_HEALTHY),
				ep(3, 1, corev3.HealthStatus_UNHEALTHY), ep(4, 1, corev3.HealthStatus_DRAINING),
				ep(5, 1, corev3.HealthStatus_TIMEOUT)),
			routetable.Cluster{Name: "c", EDSServiceName: "svc", ConnectTimeout: 2 * time.Second, Endpoints: []routetable.Endpoint{
				{Address: "10.0.0.1:1", Weight: 1}, {Address: "10.0.0.1:2", Weight: 3},
			}}},
		// HTTP/2 without max_concurrent_streams: the connections carry any number of requests.
		{"http2", xdsfixture.Cluster("g", "g", true), xdsfixture.Assignment("g", ep(9, 0, corev3.HealthStatus_HEALTHY)),
			routetable.Cluster{Name: "g", EDSServiceName: "g", ConnectTimeout: 2 * time.Second, HTTP2: true,
				Endpoints:       []routetable.Endpoint{{Address: "10.0.0.1:9", Weight: 1}},
				CircuitBreakers: routetable.CircuitBreakers{MaxRequests: 1024, MaxRetries: 3, MaxPendingRequests: 1024}}},
		{"no assignment yet", xdsfixture.Cluster("n", "n", false), nil,
			routetable.Cluster{Name: "n", EDSServiceName: "n", ConnectTimeout: 2 * time.Second}},
		{"all unhealthy", xdsfixture.Cluster("u", "u", false), xdsfixture.Assignment("u", ep(1, 1, corev3.HealthStatus_UNHEALTHY)),
			routetable.Cluster{Name: "u", EDSServiceName: "u", ConnectTimeout: 2 * time.Second}},
		// upstreamtls_test.go covers the TLS contexts the gateway executes and those it refuses.
		{"tls upstream without a context unusable", tlsCluster, nil, routetable.Cluster{Name: "tls", EDSServiceName: "tls", ConnectTimeout: 2 * time.Second,
			Unusable: `transport socket envoy.transport_sockets.tls has no UpstreamTlsContext`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var clas []*endpointv3.ClusterLoadAssignment
			if tc.cla != nil {
				clas = append(clas, tc.cla)
			}
			table, err := routetable.Build(resources(nil, nil, []*clusterv3.Cluster{tc.cluster}, clas), listenerName)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			got, want := table.Cluster(tc.cluster.GetName()), withDefaults(tc.want)
			if got == nil || !reflect.DeepEqual(*got, want) {
				t.Fatalf("Cluster = %+v, want %+v", got, want)
			}
		})
	}
}

// TestHeaderMatchers covers Envoy's absent-header and invert rules on a custom header.
func TestHeaderMatchers(t *testing.T) {
	present := func(invert bool) *routev3.Route {
		r := xdsfixture.PrefixRoute("/", "c")
		r.Match.Headers = []*routev3.HeaderMatcher{{Name: "x-tenant", InvertMatch: invert,
			HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}}}
		return r
	}
	prefix := xdsfixture.PrefixRoute("/", "c")
	prefix.Match.Headers = []*routev3.HeaderMatcher{{Name: "x-tenant", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{
		StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: "acme"}, IgnoreCase: true}}}}
	cases := []struct {
		name   string
		route  *routev3.Route
		header string // "" = absent
		want   bool
	}{
		{"present, header present", present(false), "a", true},
		{"present, header absent", present(false), "", false},
		{"inverted present, header absent", present(true), "", true},
		{"inverted present, header present", present(true), "a", false},
		{"prefix ignore case", prefix, "ACME-1", true},
		{"prefix mismatch", prefix, "other", false},
		{"prefix absent", prefix, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rc := xdsfixture.RouteConfig("rc", xdsfixture.VirtualHost("vh", []string{"*"}, tc.route))
			table, err := routetable.Build(resources([]*listenerv3.Listener{xdsfixture.Listener(listenerName, "rc")},
				[]*routev3.RouteConfiguration{rc}, nil, nil), listenerName)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			r := httptest.NewRequest("GET", "/", nil)
			if tc.header != "" {
				r.Header.Set("X-Tenant", tc.header)
			}
			if got := table.Match(r) != nil; got != tc.want {
				t.Errorf("matched = %v, want %v", got, tc.want)
			}
		})
	}
}
