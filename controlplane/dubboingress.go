package controlplane

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	dubborouterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/dubbo_proxy/router/v3"
	dubbov3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/dubbo_proxy/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// The Dubbo ingress: the DRDS type and the filters (the listener's name is
// gatewayv1.DubboListener).
const (
	// DubboRouteType is the DRDS type URL, served over ADS beside the standard types.
	DubboRouteType        = "type.googleapis.com/envoy.extensions.filters.network.dubbo_proxy.v3.MultipleRouteConfiguration"
	dubboProxyFilterName  = "envoy.filters.network.dubbo_proxy"
	dubboRouterFilterName = "envoy.filters.dubbo.router"
)

// dubboService is a Dubbo cluster's identity, parsed from its name
// "dubbo:{interface}:{version}:{group}".
type dubboService struct {
	cluster, iface, version, group string
}

// dubboServices lists the Dubbo clusters of g, sorted by interface, group, version.
func dubboServices(clusters []ir.Cluster) ([]dubboService, error) {
	var out []dubboService
	for _, c := range clusters {
		if c.Protocol != ir.UpstreamDubbo || c.Subset != nil {
			continue
		}
		parts := strings.Split(c.Name, ":")
		if len(parts) != 4 || parts[0] != "dubbo" || parts[1] == "" {
			return nil, fmt.Errorf("dubbo cluster %q: name is not dubbo:{interface}:{version}:{group}", c.Name)
		}
		out = append(out, dubboService{cluster: c.Name, iface: parts[1], version: parts[2], group: parts[3]})
	}
	slices.SortFunc(out, func(a, b dubboService) int {
		return cmp.Or(strings.Compare(a.iface, b.iface), strings.Compare(a.group, b.group), strings.Compare(a.version, b.version))
	})
	return out, nil
}

// dubboListener is the Dubbo ingress listener; its routes come over DRDS so that route changes
// do not drain Dubbo connections.
func dubboListener(opts Options) (*listenerv3.Listener, error) {
	router, err := typedConfig(&dubborouterv3.Router{})
	if err != nil {
		return nil, err
	}
	proxy, err := typedConfig(&dubbov3.DubboProxy{
		StatPrefix:        gatewayv1.DubboListener,
		ProtocolType:      dubbov3.ProtocolType_Dubbo,
		SerializationType: dubbov3.SerializationType_Hessian2,
		RouteSpecifier: &dubbov3.DubboProxy_Drds{Drds: &dubbov3.Drds{
			ConfigSource:    adsConfigSource(),
			RouteConfigName: gatewayv1.DubboListener,
		}},
		DubboFilters: []*dubbov3.DubboFilter{{Name: dubboRouterFilterName, Config: router}},
	})
	if err != nil {
		return nil, err
	}
	return &listenerv3.Listener{
		Name:    gatewayv1.DubboListener,
		Address: socketAddress(opts.DubboAddress, opts.DubboPort),
		FilterChains: []*listenerv3.FilterChain{{
			Filters: []*listenerv3.Filter{{
				Name:       dubboProxyFilterName,
				ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: proxy},
			}},
		}},
	}, nil
}

// dubboRoutes is the DRDS resource. Envoy tries route configurations in order and an empty
// group or version matches any, so the order is:
//
//  1. one configuration per service (interface, group, version), for requests that name them;
//  2. per interface and group with several versions, a fallback without version that spreads
//     requests naming no known version over that group's versions with equal weights (weights
//     stay equal so that endpoint changes do not change DRDS);
//  3. the same for the empty group last, since an empty group matches any group.
//
// Every route matches any method name: the ingress forwards calls, it does not filter them.
func dubboRoutes(services []dubboService) *dubbov3.MultipleRouteConfiguration {
	out := &dubbov3.MultipleRouteConfiguration{Name: gatewayv1.DubboListener}
	type groupKey struct{ iface, group string }
	byGroup := map[groupKey][]dubboService{}
	var groups []groupKey
	for _, s := range services {
		k := groupKey{s.iface, s.group}
		if byGroup[k] == nil {
			groups = append(groups, k)
		}
		byGroup[k] = append(byGroup[k], s)
		out.RouteConfig = append(out.RouteConfig, &dubbov3.RouteConfiguration{
			Name:      s.cluster,
			Interface: s.iface,
			Group:     s.group,
			Version:   s.version,
			Routes:    []*dubbov3.Route{dubboCatchAll(&dubbov3.RouteAction{ClusterSpecifier: &dubbov3.RouteAction_Cluster{Cluster: s.cluster}})},
		})
	}
	slices.SortStableFunc(groups, func(a, b groupKey) int {
		// Non-empty groups first, then by interface and group.
		return cmp.Or(cmp.Compare(boolRank(a.group == ""), boolRank(b.group == "")),
			strings.Compare(a.iface, b.iface), strings.Compare(a.group, b.group))
	})
	for _, k := range groups {
		members := byGroup[k]
		if len(members) < 2 {
			continue
		}
		weighted := &routev3.WeightedCluster{}
		for _, s := range members {
			weighted.Clusters = append(weighted.Clusters, &routev3.WeightedCluster_ClusterWeight{
				Name: s.cluster, Weight: wrapperspb.UInt32(1),
			})
		}
		out.RouteConfig = append(out.RouteConfig, &dubbov3.RouteConfiguration{
			Name:      "dubbo:" + k.iface + ":*:" + k.group,
			Interface: k.iface,
			Group:     k.group,
			Routes:    []*dubbov3.Route{dubboCatchAll(&dubbov3.RouteAction{ClusterSpecifier: &dubbov3.RouteAction_WeightedClusters{WeightedClusters: weighted}})},
		})
	}
	return out
}

// boolRank orders false before true.
func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// dubboCatchAll is a route for any method name.
func dubboCatchAll(action *dubbov3.RouteAction) *dubbov3.Route {
	return &dubbov3.Route{
		Match: &dubbov3.RouteMatch{Method: &dubbov3.MethodMatch{Name: &matcherv3.StringMatcher{
			MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: ".+"}},
		}}},
		Route: action,
	}
}
