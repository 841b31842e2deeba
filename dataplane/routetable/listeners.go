package routetable

import (
	"fmt"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/proto"

	"github.com/rpcbridge/rpcbridge/internal/downstream"
)

// httpListener is the part of an Envoy listener the gateway uses: where its routes come from.
type httpListener struct {
	// rdsName is the RouteConfiguration to fetch over RDS; empty when routes are inline.
	rdsName string
	// inline is the route configuration embedded in the HCM, if any.
	inline *routev3.RouteConfiguration
	// manager is the HCM itself, for its header policy (see package hcm).
	manager *hcmv3.HttpConnectionManager
	// downstream are the listener's and the HCM's limits on clients.
	downstream downstream.Settings
}

// decodeListener extracts the HTTP connection manager of a listener. It returns nil (and no
// error) for listeners that are not the gateway's: proxyless gRPC api_listeners and listeners
// without an HTTP connection manager (for example a Dubbo listener meant for Envoy).
func decodeListener(l *listenerv3.Listener) (*httpListener, error) {
	if l.GetApiListener() != nil {
		return nil, nil
	}
	chains := l.GetFilterChains()
	if l.GetDefaultFilterChain() != nil {
		chains = append(chains[:len(chains):len(chains)], l.GetDefaultFilterChain())
	}
	for _, chain := range chains {
		for _, filter := range chain.GetFilters() {
			hcm, err := decodeHCM(filter)
			if err != nil {
				return nil, fmt.Errorf("filter %q: %w", filter.GetName(), err)
			}
			if hcm == nil {
				continue
			}
			hl, err := routeSource(hcm)
			if err != nil {
				return nil, err
			}
			hl.manager = hcm
			hl.downstream = decodeDownstream(l, hcm)
			return hl, nil
		}
	}
	return nil, nil
}

// decodeHCM returns the HttpConnectionManager configured by a network filter, or nil when the
// filter is another kind of network filter.
func decodeHCM(filter *listenerv3.Filter) (*hcmv3.HttpConnectionManager, error) {
	hcmTypeURL := "type.googleapis.com/" + string((&hcmv3.HttpConnectionManager{}).ProtoReflect().Descriptor().FullName())
	typed := filter.GetTypedConfig()
	if typed == nil {
		if filter.GetName() == wellknown.HTTPConnectionManager {
			return nil, fmt.Errorf("http connection manager without typed_config")
		}
		return nil, nil
	}
	if typed.GetTypeUrl() != hcmTypeURL {
		if filter.GetName() == wellknown.HTTPConnectionManager {
			return nil, fmt.Errorf("typed_config is %s, want %s", typed.GetTypeUrl(), hcmTypeURL)
		}
		return nil, nil
	}
	hcm := &hcmv3.HttpConnectionManager{}
	if err := proto.Unmarshal(typed.GetValue(), hcm); err != nil {
		return nil, fmt.Errorf("decode http connection manager: %w", err)
	}
	if err := hcm.Validate(); err != nil {
		return nil, fmt.Errorf("invalid http connection manager: %w", err)
	}
	return hcm, nil
}

// routeSource finds where an HCM's routes come from.
func routeSource(hcm *hcmv3.HttpConnectionManager) (*httpListener, error) {
	switch spec := hcm.GetRouteSpecifier().(type) {
	case *hcmv3.HttpConnectionManager_Rds:
		if spec.Rds.GetRouteConfigName() == "" {
			return nil, fmt.Errorf("rds without route_config_name")
		}
		return &httpListener{rdsName: spec.Rds.GetRouteConfigName()}, nil
	case *hcmv3.HttpConnectionManager_RouteConfig:
		return &httpListener{inline: spec.RouteConfig}, nil
	case nil:
		return nil, fmt.Errorf("http connection manager has neither rds nor route_config")
	default:
		return nil, fmt.Errorf("unsupported route specifier %T", spec)
	}
}
