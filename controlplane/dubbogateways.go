package controlplane

// Stock Envoy in front of Dubbo. Stock Envoy has no HTTP-to-Dubbo filter, so with
// Options.DubboGateways a FlavorEnvoy translation routes each HTTP-to-Dubbo route to a cluster of
// rpcbridge gateways (DubboGatewaysCluster) instead of leaving it out: Envoy keeps the route's
// match, timeout and edge policy, forwards the request with its original path, and the gateway,
// whose snapshot is always FlavorHigress (Server.targetOf), serves the same route and does the
// Dubbo hop. The gateway never routes a Dubbo route back to this cluster: it is emitted for
// FlavorEnvoy only.
//
// Trust model: the edge enforces the route's policy and the gateway enforces it again, the same
// way as for a client of its own (it may be reachable without the edge). For the second check to
// pass, the edge's copy of the policy (hopPolicy) keeps the credentials on the request (JWT
// forward, API keys not hidden); the gateway applies the policy as written, so what reaches the
// provider is what the gateway alone would send.

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/internal/field"
)

// DubboGatewaysCluster is the name of the cluster of rpcbridge gateways that stock Envoy sends
// HTTP-to-Dubbo routes to.
const DubboGatewaysCluster = "rpcbridge-dubbo-gateways"

// hopPolicySuffix names the edge's copy of a policy on a route to the gateways (hopPolicy), so
// that its JWT providers and requirement do not replace the policy's own on other routes.
const hopPolicySuffix = "~via-gateway"

// GatewayProtocol is the HTTP version Envoy speaks to the rpcbridge gateways.
type GatewayProtocol string

// The gateway protocols.
const (
	// GatewayHTTP1 is HTTP/1.1 (the default).
	GatewayHTTP1 GatewayProtocol = "http1"
	// GatewayHTTP2 is HTTP/2: cleartext with prior knowledge (h2c), or over TLS by ALPN.
	GatewayHTTP2 GatewayProtocol = "http2"
)

// DubboGateways is where stock Envoy (flavor envoy) sends the HTTP-to-Dubbo routes it cannot
// serve itself: rpcbridge gateways (`rpcbridge gateway` or serve's embedded one) that do the Dubbo
// hop. Without addresses those routes are left out of the Envoy configuration with a diagnostic.
// The Higress flavor serves Dubbo itself and ignores this.
type DubboGateways struct {
	// Addresses are the gateways' HTTP listeners, host:port; a host name (a Kubernetes Service)
	// makes the cluster STRICT_DNS, Envoy resolving it. Empty: Dubbo routes are left out.
	Addresses []string `yaml:"addresses"`
	// Protocol is the HTTP version Envoy speaks to them: http1 or http2.
	Protocol GatewayProtocol `yaml:"protocol"`
	// TLS makes Envoy connect to the gateways over TLS (their gateway.tls), with files on Envoy's
	// host: caFile (required), certFile and keyFile for a gateway that requires client
	// certificates, serverName for SNI and the certificate's DNS name. Off while empty.
	TLS UpstreamTLS `yaml:"tls"`
}

// Enabled reports whether Dubbo routes go to the gateways.
func (d *DubboGateways) Enabled() bool { return d != nil && len(d.Addresses) > 0 }

// Validate checks the addresses, the protocol and the TLS files, each problem at its key.
func (d DubboGateways) Validate() error {
	var errs []error
	seen := map[string]bool{}
	for i, a := range d.Addresses {
		if _, _, err := splitGatewayAddress(a); err != nil {
			errs = append(errs, &field.Error{Path: fmt.Sprintf("addresses[%d]", i), Err: err})
			continue
		}
		if seen[a] {
			errs = append(errs, field.Errorf(fmt.Sprintf("addresses[%d]", i), "%q is listed twice", a))
		}
		seen[a] = true
	}
	switch d.Protocol {
	case "", GatewayHTTP1, GatewayHTTP2:
	default:
		errs = append(errs, field.Errorf("protocol", "unknown protocol %q (want %q or %q)", d.Protocol, GatewayHTTP1, GatewayHTTP2))
	}
	if err := d.TLS.Validate(); err != nil {
		errs = append(errs, &field.Error{Path: "tls", Err: err})
	}
	return errors.Join(errs...)
}

// splitGatewayAddress splits host:port, with a port in 1..65535.
func splitGatewayAddress(a string) (string, uint32, error) {
	host, p, err := net.SplitHostPort(a)
	if err != nil {
		return "", 0, fmt.Errorf("%q is not a host:port address", a)
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if host == "" || err != nil || port == 0 {
		return "", 0, fmt.Errorf("%q needs a host and a port in 1..65535", a)
	}
	return host, uint32(port), nil
}

// dubboGatewaysCluster is the cluster of the gateways: STATIC when every host is an IP address,
// STRICT_DNS otherwise, with its endpoints inline (they are configuration, not registry state,
// and differ between flavors, so they stay out of the shared EDS resources).
func dubboGatewaysCluster(d DubboGateways) (*clusterv3.Cluster, error) {
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("dubbo gateways: %w", err)
	}
	discovery := clusterv3.Cluster_STATIC
	endpoints := make([]*endpointv3.LbEndpoint, 0, len(d.Addresses))
	for _, a := range d.Addresses {
		host, port, _ := splitGatewayAddress(a)
		if net.ParseIP(host) == nil {
			discovery = clusterv3.Cluster_STRICT_DNS
		}
		endpoints = append(endpoints, &endpointv3.LbEndpoint{
			HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: socketAddress(host, port)}},
		})
	}
	c := &clusterv3.Cluster{
		Name:                 DubboGatewaysCluster,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: discovery},
		ConnectTimeout:       durationpb.New(DefaultConnectTimeout),
		LbPolicy:             clusterv3.Cluster_ROUND_ROBIN,
		LoadAssignment: &endpointv3.ClusterLoadAssignment{
			ClusterName: DubboGatewaysCluster,
			Endpoints:   []*endpointv3.LocalityLbEndpoints{{Locality: &corev3.Locality{}, LbEndpoints: endpoints}},
		},
	}
	alpn := []string{"http/1.1"}
	if d.Protocol == GatewayHTTP2 {
		opts, err := http2ProtocolOptions(0)
		if err != nil {
			return nil, err
		}
		c.TypedExtensionProtocolOptions = opts
		alpn = []string{"h2"}
	}
	ts, err := tlsTransportSocket(d.TLS, alpn)
	if err != nil {
		return nil, err
	}
	c.TransportSocket = ts
	return c, nil
}

// toDubboGateways turns er, the Envoy route of the HTTP-to-Dubbo route r, into a route to the
// gateways: same match and timeout, the original path (no rewrite), one cluster (the gateway
// does the canary split and the retries against the providers, so they are not done twice),
// and r with the edge's copy of its policy.
func toDubboGateways(er *routev3.Route, r ir.Route) ir.Route {
	action := er.GetRoute()
	action.ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: DubboGatewaysCluster}
	action.PrefixRewrite = ""
	action.RetryPolicy = nil
	r.Policy = hopPolicy(r.Policy)
	return r
}

// hopPolicy is the edge's copy of p for a route to the gateways: under its own name (its JWT
// providers and requirement are keyed by it), with every JWT provider forwarding the token and
// API keys left on the request, so that the gateway, which enforces p again, sees the
// credentials the edge verified. Everything else (CORS, identity headers, rate limits) is p's.
func hopPolicy(p *ir.EdgePolicy) *ir.EdgePolicy {
	if p == nil {
		return nil
	}
	hop := *p
	hop.Name = p.Name + hopPolicySuffix
	if p.JWT != nil {
		jwt := *p.JWT
		jwt.Providers = slices.Clone(p.JWT.Providers)
		for i := range jwt.Providers {
			jwt.Providers[i].Forward = true
		}
		hop.JWT = &jwt
	}
	if p.APIKey != nil {
		keys := *p.APIKey
		keys.HideCredentials = false
		hop.APIKey = &keys
	}
	return &hop
}
