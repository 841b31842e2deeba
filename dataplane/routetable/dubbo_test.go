package routetable_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	xdstypev3 "github.com/cncf/xds/go/xds/type/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/dataplane/internal/xdsfixture"
	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
)

// v1Route is a valid contract message with a path argument.
func v1Route() *gatewayv1.DubboRoute {
	return &gatewayv1.DubboRoute{
		Interface: "com.foo.Users", Version: "1.0.0", Method: "get", Returns: "java.lang.String",
		PathTemplate: "/users/{id}",
		Params:       []*gatewayv1.DubboParam{{Name: "id", Type: "long", Source: gatewayv1.ParamSource_PARAM_SOURCE_PATH, Key: "id"}},
	}
}

// packed is MarshalDubboRoute's output for r, failing the test on error.
func packed(t *testing.T, r *gatewayv1.DubboRoute) *anypb.Any {
	t.Helper()
	a, err := gatewayv1.MarshalDubboRoute(r)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// dubboTable builds the table of one listener whose only virtual host routes /users/ with the
// given route options and everything else to "web".
func dubboTable(t *testing.T, opts ...xdsfixture.RouteOption) (*routetable.Table, error) {
	t.Helper()
	rc := xdsfixture.RouteConfig("rc", xdsfixture.VirtualHost("vh", []string{"*"},
		xdsfixture.PrefixRoute("/users/", "dubbo:com.foo.Users:1.0.0:", opts...),
		xdsfixture.PrefixRoute("/", "web")))
	return routetable.Build(resources([]*listenerv3.Listener{xdsfixture.Listener(listenerName, "rc")},
		[]*routev3.RouteConfiguration{rc}, nil, nil), listenerName)
}

func TestDubboRouteFromContract(t *testing.T) {
	table, err := dubboTable(t, xdsfixture.TypedMetadata(gatewayv1.DubboRouteKey, packed(t, v1Route())))
	if err != nil {
		t.Fatal(err)
	}
	r := table.Match(httptest.NewRequest("GET", "/users/7", nil))
	if r == nil || r.Dubbo == nil || r.Withheld != "" {
		t.Fatalf("matched %+v, want the Dubbo route", r)
	}
	if r.Dubbo.Method() != "com.foo.Users:1.0.0.get" {
		t.Errorf("Method() = %q", r.Dubbo.Method())
	}
	call, err := r.Dubbo.Prepare(httptest.NewRequest("GET", "/users/7", nil))
	if err != nil {
		t.Fatalf("Prepare: %v (the path template must come from the contract's path_template)", err)
	}
	if call.Method != "$invoke" || len(call.Args) != 3 {
		t.Errorf("call %+v, want a generic invocation", call)
	}
	if len(table.Withheld()) != 0 {
		t.Errorf("Withheld() = %v", table.Withheld())
	}
}

// TestDubboRouteLimitsFromContract: the providers' payload limit and the gateway's value limits
// travel in the contract message and are what the route applies.
func TestDubboRouteLimitsFromContract(t *testing.T) {
	msg := v1Route()
	msg.PayloadLimit = 4096
	msg.ValueLimits = &gatewayv1.DubboValueLimits{MaxDecimalDigits: 3}
	msg.Params = append(msg.Params, &gatewayv1.DubboParam{Name: "amount", Type: "java.math.BigDecimal",
		Source: gatewayv1.ParamSource_PARAM_SOURCE_QUERY, Key: "amount"})
	table, err := dubboTable(t, xdsfixture.TypedMetadata(gatewayv1.DubboRouteKey, packed(t, msg)))
	if err != nil {
		t.Fatal(err)
	}
	r := table.Match(httptest.NewRequest("GET", "/users/7", nil))
	if r == nil || r.Dubbo == nil || r.Dubbo.PayloadLimit() != 4096 {
		t.Fatalf("matched %+v, want the Dubbo route with payload limit 4096", r)
	}
	call, err := r.Dubbo.Prepare(httptest.NewRequest("GET", "/users/7?amount=1.25", nil))
	if err != nil || call.PayloadLimit != 4096 {
		t.Errorf("Prepare = %+v, %v; want a call limited to 4096 bytes", call, err)
	}
	if _, err := r.Dubbo.Prepare(httptest.NewRequest("GET", "/users/7?amount=1.255", nil)); err == nil ||
		!strings.Contains(err.Error(), "at most 3") {
		t.Errorf("a decimal over max_decimal_digits: %v", err)
	}
}

// TestDubboRouteOfUnknownContractIsWithheld: what this gateway does not read keeps its route in
// the table (so that "/" does not take its requests) marked withheld, with a reason naming
// what to upgrade, and the configuration is accepted.
func TestDubboRouteOfUnknownContractIsWithheld(t *testing.T) {
	v2, err := anypb.New(&xdstypev3.TypedStruct{
		TypeUrl: "type.googleapis.com/rpcbridge.gateway.v2.DubboRoute",
		Value:   &structpb.Struct{Fields: map[string]*structpb.Value{"interface": structpb.NewStringValue("com.foo.Users")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	newerSource := v1Route()
	newerSource.Params[0].Source = gatewayv1.ParamSource(42)
	newerBinary, err := anypb.New(newerSource)
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := structpb.NewStruct(map[string]any{"route": map[string]any{"interface": "com.foo.Users", "method": "get"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opt  xdsfixture.RouteOption
		want string
	}{
		{"v2 message", xdsfixture.TypedMetadata(gatewayv1.DubboRouteKey, v2), "rpcbridge.gateway.v2.DubboRoute"},
		{"newer param source", xdsfixture.TypedMetadata(gatewayv1.DubboRouteKey, newerBinary), "source 42"},
		{"untyped metadata of an older control plane", xdsfixture.FilterMetadata(gatewayv1.DubboRouteKey, legacy), "upgrade the control plane"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			table, err := dubboTable(t, tc.opt)
			if err != nil {
				t.Fatalf("Build rejected the configuration: %v", err)
			}
			r := table.Match(httptest.NewRequest("GET", "/users/7", nil))
			if r == nil || r.Cluster != "dubbo:com.foo.Users:1.0.0:" {
				t.Fatalf("matched %+v, want the withheld Dubbo route itself", r)
			}
			if r.Dubbo != nil || !strings.Contains(r.Withheld, tc.want) {
				t.Errorf("route Dubbo=%v Withheld=%q, want no Dubbo call and a reason mentioning %q", r.Dubbo, r.Withheld, tc.want)
			}
			w := table.Withheld()
			if len(w) != 1 || w[0].VirtualHost != "vh" || w[0].Reason != r.Withheld {
				t.Errorf("Withheld() = %+v", w)
			}
		})
	}
}

// TestMalformedDubboRouteRejectsTheConfiguration: a v1 message that is wrong is invalid
// configuration (NACKed), as Envoy rejects a filter config it cannot parse.
func TestMalformedDubboRouteRejectsTheConfiguration(t *testing.T) {
	noMethod := &anypb.Any{TypeUrl: gatewayv1.DubboRouteTypeURL, Value: []byte{0x0a, 0x01, 'i'}} // interface "i" only
	badType := v1Route()
	badType.Params[0].Type = "java.util.List<"
	for name, opt := range map[string]xdsfixture.RouteOption{
		"no method":      xdsfixture.TypedMetadata(gatewayv1.DubboRouteKey, noMethod),
		"bad java type":  xdsfixture.TypedMetadata(gatewayv1.DubboRouteKey, packed(t, badType)),
		"not a protobuf": xdsfixture.TypedMetadata(gatewayv1.DubboRouteKey, &anypb.Any{TypeUrl: gatewayv1.DubboRouteTypeURL, Value: []byte{0xff}}),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := dubboTable(t, opt); err == nil || !strings.Contains(err.Error(), "route 0") {
				t.Fatalf("Build error = %v, want the route named", err)
			}
		})
	}
}
