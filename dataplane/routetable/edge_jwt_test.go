package routetable_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	jwtv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/rpcbridge/rpcbridge/dataplane/internal/xdsfixture"
	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
)

// TestJWTAuthnPerRoute: a route with a jwt_authn requirement gets a step, a route without a
// per-route config gets none (it is not checked), and a route whose requirement uses what the
// gateway does not execute (remote_jwks) is withheld instead of being served unchecked.
func TestJWTAuthnPerRoute(t *testing.T) {
	for _, remote := range []bool{false, true} {
		p := &jwtv3.JwtProvider{Issuer: "https://id.example.com"}
		if remote {
			p.JwksSourceSpecifier = &jwtv3.JwtProvider_RemoteJwks{RemoteJwks: &jwtv3.RemoteJwks{}}
		}
		cfg, _ := anypb.New(&jwtv3.JwtAuthentication{Providers: map[string]*jwtv3.JwtProvider{"p/corp": p},
			RequirementMap: map[string]*jwtv3.JwtRequirement{"p": {RequiresType: &jwtv3.JwtRequirement_ProviderName{ProviderName: "p/corp"}}}})
		l := xdsfixture.Listener(listenerName, "rc")
		hcm := &hcmv3.HttpConnectionManager{}
		if err := l.GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(hcm); err != nil {
			t.Fatal(err)
		}
		hcm.HttpFilters = append([]*hcmv3.HttpFilter{{Name: "envoy.filters.http.jwt_authn",
			ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: cfg}}}, hcm.HttpFilters...)
		per, _ := anypb.New(&jwtv3.PerRouteConfig{RequirementSpecifier: &jwtv3.PerRouteConfig_RequirementName{RequirementName: "p"}})
		guarded := xdsfixture.PrefixRoute("/a/", "c")
		guarded.TypedPerFilterConfig = map[string]*anypb.Any{"envoy.filters.http.jwt_authn": per}
		table, err := routetable.Build(resources([]*listenerv3.Listener{xdsfixture.ListenerWithHCM(listenerName, hcm)},
			[]*routev3.RouteConfiguration{xdsfixture.RouteConfig("rc", xdsfixture.VirtualHost("vh", []string{"*"},
				guarded, xdsfixture.PrefixRoute("/", "c")))}, nil, nil), listenerName)
		if err != nil {
			t.Fatal(err)
		}
		g, open := table.Match(httptest.NewRequest("GET", "/a/x", nil)), table.Match(httptest.NewRequest("GET", "/x", nil))
		if open == nil || open.Withheld != "" || len(open.Edge) != 0 {
			t.Errorf("remote=%v: the route without per-route config = %+v, want served with no step", remote, open)
		}
		switch {
		case g == nil:
			t.Fatalf("remote=%v: no route matched", remote)
		case remote && !strings.Contains(g.Withheld, "remote_jwks"):
			t.Errorf("remote_jwks: guarded route withheld = %q, want withheld", g.Withheld)
		case !remote && (g.Withheld != "" || len(g.Edge) != 1):
			t.Errorf("local keys: guarded route withheld = %q with %d steps, want one step", g.Withheld, len(g.Edge))
		}
	}
}
