package controlplane

import (
	"errors"
	"fmt"
	"slices"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/durationpb"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// httpListener is the north-south REST listener; it exists even without routes.
// extraFilters run before the router; forwarding is its forwarding-header policy.
func httpListener(opts Options, extraFilters []*hcmv3.HttpFilter, forwarding ir.Forwarding) (*listenerv3.Listener, error) {
	hcm, err := connectionManager(gatewayv1.HTTPListener, gatewayv1.HTTPListener)
	if err != nil {
		return nil, err
	}
	if err := applyForwarding(hcm, forwarding); err != nil {
		return nil, err
	}
	hcm.HttpFilters = append(slices.Clone(extraFilters), hcm.HttpFilters...)
	limitConnectionManager(hcm, opts.downstream())
	hcmAny, err := typedConfig(hcm)
	if err != nil {
		return nil, err
	}
	return &listenerv3.Listener{
		Name:                          gatewayv1.HTTPListener,
		Address:                       socketAddress(opts.HTTPAddress, opts.HTTPPort),
		PerConnectionBufferLimitBytes: opts.downstream().bufferLimit(),
		FilterChains: []*listenerv3.FilterChain{{
			Filters: []*listenerv3.Filter{{
				Name:       wellknown.HTTPConnectionManager,
				ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: hcmAny},
			}},
		}},
	}, nil
}

// connectionManager is an HttpConnectionManager that takes its routes from RDS over ADS and
// ends in the router filter.
func connectionManager(statPrefix, routeConfigName string) (*hcmv3.HttpConnectionManager, error) {
	router, err := typedConfig(&routerv3.Router{})
	if err != nil {
		return nil, err
	}
	return &hcmv3.HttpConnectionManager{
		StatPrefix: statPrefix,
		CodecType:  hcmv3.HttpConnectionManager_AUTO,
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			ConfigSource:    adsConfigSource(),
			RouteConfigName: routeConfigName,
		}},
		HttpFilters: []*hcmv3.HttpFilter{{
			Name:       wellknown.Router,
			ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: router},
		}},
	}, nil
}

// proxylessGRPC is the api_listener and route configuration that let a gRPC client with xDS
// resolve xds:///<svc.Name>.
func proxylessGRPC(svc ir.GRPCService) (*listenerv3.Listener, *routev3.RouteConfiguration, error) {
	if svc.Name == "" {
		return nil, nil, errors.New("empty name")
	}
	if svc.Cluster == "" {
		return nil, nil, errors.New("empty cluster")
	}
	if svc.Timeout < 0 {
		return nil, nil, fmt.Errorf("negative timeout %s", svc.Timeout)
	}
	routeName := gatewayv1.GRPCRouteConfigPrefix + svc.Name
	hcm, err := connectionManager(svc.Name, routeName)
	if err != nil {
		return nil, nil, err
	}
	hcmAny, err := typedConfig(hcm)
	if err != nil {
		return nil, nil, err
	}
	lis := &listenerv3.Listener{
		Name:        svc.Name,
		ApiListener: &listenerv3.ApiListener{ApiListener: hcmAny},
	}
	action := &routev3.RouteAction{
		ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: svc.Cluster},
	}
	if svc.Timeout > 0 {
		action.Timeout = durationpb.New(svc.Timeout)
	}
	rc := &routev3.RouteConfiguration{
		Name: routeName,
		VirtualHosts: []*routev3.VirtualHost{{
			Name:    svc.Name,
			Domains: []string{svc.Name},
			Routes: []*routev3.Route{{
				Name:   svc.Name,
				Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: ""}},
				Action: &routev3.Route_Route{Route: action},
			}},
		}},
	}
	return lis, rc, nil
}
