// Package gatewayv1 is version 1 of the contract between rpcbridge's control plane and the
// gateways that follow it over xDS: the embedded gateway of `rpcbridge serve`, a standalone
// gateway fleet that may run another rpcbridge version during an upgrade, and any Envoy.
//
// What crosses the process boundary is Envoy's own xDS API (listeners, routes, clusters,
// endpoints, the gRPC-JSON transcoder's per-route config with its descriptor set, route and
// connect timeouts) plus what this package owns, each fact once:
//   - the names of the resources a gateway looks for (HTTPListener, DubboListener, ...);
//   - EmbeddedNodeCluster, the node cluster that always gets the resources of the Higress
//     flavor, whose HTTP-to-Dubbo routes only an rpcbridge gateway can run without Higress;
//   - the metadata keys rpcbridge writes: DubboRouteKey (the DubboRoute message of gateway.proto
//     on every REST-to-Dubbo route, with the Java classes its types use) and EndpointLabelsKey;
//   - MarshalDubboRoute and UnmarshalDubboRoute, the only encoder and decoder of that message;
//   - APIKeyDigestAuthFilter, the HTTP filter of hashed API keys (Envoy's api_key_auth
//     configuration with digests for keys, which only an rpcbridge gateway receives), and its
//     APIKeyDigestAuth message (MarshalAPIKeyDigestAuth, UnmarshalAPIKeyDigestAuth);
//   - MCPToolKey, the MCPTool message on each route that rpcbridge's gateways also offer as a
//     Model Context Protocol tool (MarshalMCPTool, UnmarshalMCPTool);
//   - ClientFeature, which a gateway announces in its xDS node to say which version it reads.
//
// The control plane's IR (controlplane/ir) stays internal to it and may change freely; the
// message is translated from it. A gateway refuses a message of a version it does not read
// (UnsupportedError) instead of misreading it. This package imports neither controlplane nor
// dataplane, nor go-control-plane; both sides import it.
//
//go:generate go run github.com/rpcbridge/rpcbridge/internal/protogen gateway.proto
package gatewayv1

// The names of the resources the control plane emits and a gateway subscribes to.
const (
	// HTTPListener is the north-south REST listener and the name of its RDS route configuration.
	HTTPListener = "rpcbridge-http"
	// HTTPVirtualHost is the one virtual host of the HTTP route configuration (domains ["*"]).
	HTTPVirtualHost = "rpcbridge"
	// GRPCRouteConfigPrefix prefixes the route configuration name of each proxyless gRPC
	// service's api_listener ("rpcbridge-grpc/<service>").
	GRPCRouteConfigPrefix = "rpcbridge-grpc/"
	// DubboListener is the Dubbo ingress listener and the name of its DRDS resource.
	DubboListener = "rpcbridge-dubbo"
)

// ClientFeature is what an rpcbridge gateway of this contract version lists in its xDS
// Node.client_features (the field where Envoy announces what it supports): "I read
// rpcbridge.gateway.v1". A control plane that introduces v2 can keep sending v1 to the nodes
// that do not announce v2.
const ClientFeature = contractPackage + "v1"

// EmbeddedNodeCluster is the xDS node cluster of rpcbridge's own gateway, embedded in `serve`
// or standalone (`rpcbridge gateway`, whose --node-cluster defaults to it). The control plane
// always serves it the Higress flavor, whose REST-to-Dubbo routes carry DubboRouteKey metadata;
// other node clusters get the configured flavor.
const EmbeddedNodeCluster = "rpcbridge-embedded"

// Metadata keys (Envoy's convention: the reverse-DNS name of the consumer).
const (
	// DubboRouteKey is the key of a REST-to-Dubbo route's DubboRoute in the route's
	// metadata.typed_filter_metadata (see MarshalDubboRoute). Envoy ignores it: no Envoy
	// extension registers this key.
	DubboRouteKey = "rpcbridge.io/dubbo"
	// EndpointLabelsKey is the key of an endpoint's labels (source registry, version, group,
	// tags) in its metadata.filter_metadata, a Struct of strings.
	EndpointLabelsKey = "rpcbridge"
)
