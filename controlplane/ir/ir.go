// Package ir is the protocol-level, Envoy-agnostic description of what the gateway must do: which
// HTTP requests go to which upstream cluster, and which endpoints each cluster has. transcoding
// builds it; controlplane translates it into Envoy resources. It uses only the standard library so
// that neither side drags the other's dependencies along.
package ir

import "time"

// Gateway is the whole routing state at one moment. Slices are sorted (Clusters and GRPCServices
// by name) or in match order (Routes), so that equal inputs give equal values.
type Gateway struct {
	// Clusters are the upstream services, sorted by Name.
	Clusters []Cluster `json:"clusters,omitempty" yaml:"clusters,omitempty"`
	// Routes are the north-south HTTP routes, in match order (first match wins).
	Routes []Route `json:"routes,omitempty" yaml:"routes,omitempty"`
	// GRPCServices are the gRPC services offered to proxyless gRPC clients, sorted by Name.
	GRPCServices []GRPCService `json:"grpcServices,omitempty" yaml:"grpcServices,omitempty"`
	// ProtoDescriptors are the descriptor sets of the gRPC services that routes transcode to,
	// sorted by Service.
	ProtoDescriptors []ProtoDescriptors `json:"protoDescriptors,omitempty" yaml:"protoDescriptors,omitempty"`
	// JavaClasses are the DTOs and enums that Dubbo routes use, sorted by Name.
	JavaClasses []JavaClass `json:"javaClasses,omitempty" yaml:"javaClasses,omitempty"`
	// Forwarding is how the HTTP listener treats forwarding headers and request ids; nil means
	// DefaultForwarding (see forwarding.go).
	Forwarding *Forwarding `json:"forwarding,omitempty" yaml:"forwarding,omitempty"`
	// DubboValues bound the values the Dubbo routes convert; nil means the defaults (see
	// DubboValueLimits).
	DubboValues *DubboValueLimits `json:"dubboValues,omitempty" yaml:"dubboValues,omitempty"`
}

// UpstreamProtocol is how a cluster's endpoints are spoken to.
type UpstreamProtocol string

// The upstream protocols.
const (
	// UpstreamHTTP1 is plain HTTP/1.1.
	UpstreamHTTP1 UpstreamProtocol = "http1"
	// UpstreamHTTP2 is HTTP/2 (gRPC, Triple).
	UpstreamHTTP2 UpstreamProtocol = "http2"
	// UpstreamDubbo is the Dubbo TCP protocol.
	UpstreamDubbo UpstreamProtocol = "dubbo"
)

// Cluster is a set of interchangeable endpoints.
type Cluster struct {
	// Name is stable and unique; it is the service ID (for example "http:hello").
	Name string `json:"name" yaml:"name"`
	// Protocol is how endpoints are spoken to.
	Protocol UpstreamProtocol `json:"protocol" yaml:"protocol"`
	// ConnectTimeout bounds establishing a connection to one endpoint.
	ConnectTimeout time.Duration `json:"connectTimeout" yaml:"connectTimeout"`
	// Endpoints are the instances, sorted by address and port.
	Endpoints []Endpoint `json:"endpoints" yaml:"endpoints"`
	// LoadBalancer chooses among the endpoints (see policy.go); zero is round robin.
	LoadBalancer LoadBalancer `json:"loadBalancer,omitzero" yaml:"loadBalancer,omitempty"`
	// OutlierDetection, when set, ejects failing endpoints for a while.
	OutlierDetection *OutlierDetection `json:"outlierDetection,omitempty" yaml:"outlierDetection,omitempty"`
	// CircuitBreakers, when set, bound what is in flight; nil leaves Envoy's defaults.
	CircuitBreakers *CircuitBreakers `json:"circuitBreakers,omitempty" yaml:"circuitBreakers,omitempty"`
	// Subset, when set, says the cluster holds some of another cluster's endpoints (see
	// canary.go).
	Subset *Subset `json:"subset,omitempty" yaml:"subset,omitempty"`
}

// Endpoint is one upstream instance.
type Endpoint struct {
	Address string `json:"address" yaml:"address"`
	Port    uint32 `json:"port" yaml:"port"`
	// Weight is the load-balancing weight, at least 1.
	Weight uint32 `json:"weight" yaml:"weight"`
	// Healthy is false for instances that must not get traffic.
	Healthy bool   `json:"healthy" yaml:"healthy"`
	Region  string `json:"region,omitempty" yaml:"region,omitempty"`
	Zone    string `json:"zone,omitempty" yaml:"zone,omitempty"`
	// Labels carry the source registry and instance attributes, as endpoint metadata.
	Labels map[string]string `json:"labels,omitempty" yaml:"labels,omitempty"`
}

// Route sends matching HTTP requests to a cluster.
type Route struct {
	// Name is stable and unique, used as the Envoy route name.
	Name string `json:"name" yaml:"name"`
	// Match selects requests.
	Match Match `json:"match" yaml:"match"`
	// Cluster is the name of the target cluster: the route's service.
	Cluster string `json:"cluster" yaml:"cluster"`
	// WeightedClusters, when set, are where the route's requests go instead of Cluster: each
	// to one of them, picked at random in proportion to the weights (Envoy's
	// weighted_clusters; one entry sends everything there). They are subsets of Cluster (see
	// canary.go).
	WeightedClusters []ClusterWeight `json:"weightedClusters,omitempty" yaml:"weightedClusters,omitempty"`
	// PrefixRewrite replaces the matched path prefix when non-empty (only for prefix matches).
	PrefixRewrite string `json:"prefixRewrite,omitempty" yaml:"prefixRewrite,omitempty"`
	// Timeout bounds the whole upstream exchange; 0 means none.
	Timeout time.Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	// Retry, when set, tries failed attempts again on other endpoints (see policy.go).
	Retry *RetryPolicy `json:"retry,omitempty" yaml:"retry,omitempty"`
	// GRPC, when set, transcodes the request into a call of a gRPC method (see rpc.go).
	GRPC *GRPCRoute `json:"grpc,omitempty" yaml:"grpc,omitempty"`
	// Dubbo, when set, turns the request into a Dubbo call (see rpc.go).
	Dubbo *DubboRoute `json:"dubbo,omitempty" yaml:"dubbo,omitempty"`
	// Policy, when set, is the edge policy the request must pass first (see edge.go).
	Policy *EdgePolicy `json:"policy,omitempty" yaml:"policy,omitempty"`
	// Withheld, when non-empty, says why the route is not served: the requests it matches are
	// answered 503 with this reason instead of going upstream or falling through to a later
	// route (fail closed). Such a route has no GRPC, Dubbo, Retry, Policy or WeightedClusters.
	Withheld string `json:"withheld,omitempty" yaml:"withheld,omitempty"`
}

// Match selects requests by path and method. Exactly one of PathPrefix, Path and PathTemplate
// is set.
type Match struct {
	// PathPrefix matches paths that start with it.
	PathPrefix string `json:"pathPrefix,omitempty" yaml:"pathPrefix,omitempty"`
	// Path matches one path exactly.
	Path string `json:"path,omitempty" yaml:"path,omitempty"`
	// PathTemplate matches a google.api.http path template such as
	// "/v1/{name=shelves/*}/books/{book}" or "/v1/{name=**}:publish"; its variables bind values.
	PathTemplate string `json:"pathTemplate,omitempty" yaml:"pathTemplate,omitempty"`
	// Methods restricts the HTTP methods; empty means all.
	Methods []string `json:"methods,omitempty" yaml:"methods,omitempty"`
	// Headers are further conditions on request headers, all of which must hold (see
	// canary.go).
	Headers []HeaderMatch `json:"headers,omitempty" yaml:"headers,omitempty"`
}

// GRPCService is a gRPC service that proxyless gRPC clients can resolve as xds:///<Name>.
type GRPCService struct {
	// Name is the target name clients dial, normally the fully qualified service name.
	Name string `json:"name" yaml:"name"`
	// Cluster is the name of the cluster that serves it.
	Cluster string `json:"cluster" yaml:"cluster"`
	// Timeout bounds each call when non-zero.
	Timeout time.Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
}
