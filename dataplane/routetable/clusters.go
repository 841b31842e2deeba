package routetable

import (
	"fmt"
	"net"
	"strconv"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/proto"
)

// defaultConnectTimeout is Envoy's connect_timeout when a cluster sets none.
const defaultConnectTimeout = 5 * time.Second

// Cluster is a decoded upstream cluster with the endpoints that may receive traffic.
type Cluster struct {
	// Name is the cluster name routes refer to.
	Name string
	// EDSServiceName is the ClusterLoadAssignment name for EDS clusters, empty otherwise.
	EDSServiceName string
	// ConnectTimeout bounds connection establishment to one endpoint.
	ConnectTimeout time.Duration
	// HTTP2 selects HTTP/2 to the upstream instead of HTTP/1.1: cleartext with prior knowledge
	// (h2c), or over TLS when TLS is set.
	HTTP2 bool
	// TLS, when not nil, is the cluster's envoy.transport_sockets.tls (upstreamtls.go).
	TLS *UpstreamTLS
	// Endpoints are the endpoints eligible for traffic (healthy, best priority), in the
	// order the control plane sent them.
	Endpoints []Endpoint
	// Unusable, when non-empty, says why the gateway cannot send traffic to this cluster.
	Unusable string
	// LoadBalancing, OutlierDetection (nil: none) and CircuitBreakers are the cluster's
	// upstream policies (policy.go).
	LoadBalancing    LoadBalancing
	OutlierDetection *OutlierDetection
	CircuitBreakers  CircuitBreakers
	// Unexecuted names the policies the cluster sets that the gateway does not execute, for
	// the log.
	Unexecuted []string
}

// Endpoint is one upstream address with its load-balancing weight.
type Endpoint struct {
	// Address is host:port.
	Address string
	// Weight is the load_balancing_weight, at least 1.
	Weight uint32
}

// decodeCluster decodes a Cluster resource. Clusters the gateway cannot serve (custom
// cluster types, transport sockets or TLS settings it does not execute) are returned with Unusable set rather than as an error,
// because they are valid Envoy configuration meant for other consumers.
func decodeCluster(c *clusterv3.Cluster) (*Cluster, []Endpoint, error) {
	out := &Cluster{Name: c.GetName(), ConnectTimeout: defaultConnectTimeout}
	if c.GetConnectTimeout() != nil {
		out.ConnectTimeout = c.GetConnectTimeout().AsDuration()
	}
	http2, err := http2Options(c)
	if err != nil {
		return nil, nil, err
	}
	out.HTTP2 = http2 != nil
	if out.LoadBalancing, err = decodeLoadBalancing(c); err != nil {
		return nil, nil, err
	}
	out.OutlierDetection = decodeOutlierDetection(c)
	out.CircuitBreakers = decodeCircuitBreakers(c, http2)
	for _, kind := range unexecutedOutlierDetection(c) {
		out.Unexecuted = append(out.Unexecuted, "outlier detection by "+kind)
	}
	out.Unexecuted = append(out.Unexecuted, unexecutedCircuitBreakers(c)...)
	switch ts := c.GetTransportSocket(); {
	case ts == nil || ts.GetName() == "envoy.transport_sockets.raw_buffer":
	case ts.GetName() == tlsTransportSocket && len(c.GetTransportSocketMatches()) == 0:
		if out.TLS, err = decodeUpstreamTLS(ts); err != nil {
			out.Unusable = err.Error()
		}
	default:
		out.Unusable = fmt.Sprintf("transport socket %q is not supported by the embedded gateway", ts.GetName())
	}
	if len(c.GetTransportSocketMatches()) > 0 {
		out.Unusable = "transport_socket_matches are not supported by the embedded gateway"
	}
	var inline []Endpoint
	switch t := c.GetClusterDiscoveryType().(type) {
	case *clusterv3.Cluster_Type:
		switch t.Type {
		case clusterv3.Cluster_EDS:
			out.EDSServiceName = c.GetEdsClusterConfig().GetServiceName()
			if out.EDSServiceName == "" {
				out.EDSServiceName = c.GetName()
			}
		case clusterv3.Cluster_STATIC, clusterv3.Cluster_STRICT_DNS, clusterv3.Cluster_LOGICAL_DNS:
			// Host names are resolved when dialing, so DNS clusters work like static ones.
			inline, err = decodeAssignment(c.GetLoadAssignment())
			if err != nil {
				return nil, nil, fmt.Errorf("load_assignment: %w", err)
			}
		default:
			out.Unusable = fmt.Sprintf("cluster discovery type %s is not supported", t.Type)
		}
	case *clusterv3.Cluster_ClusterType:
		out.Unusable = fmt.Sprintf("custom cluster type %q is not supported", t.ClusterType.GetName())
	}
	return out, inline, nil
}

// decodeAssignment turns a ClusterLoadAssignment into the endpoints that get traffic: those of
// the best (lowest) priority that has any; HEALTHY/UNKNOWN endpoints, or DEGRADED ones when
// a priority has nothing better. UNHEALTHY, DRAINING and TIMEOUT endpoints get none.
func decodeAssignment(cla *endpointv3.ClusterLoadAssignment) ([]Endpoint, error) {
	type level struct{ healthy, degraded []Endpoint }
	levels := map[uint32]*level{}
	for _, locality := range cla.GetEndpoints() {
		for _, lb := range locality.GetLbEndpoints() {
			ep, err := decodeEndpoint(lb)
			if err != nil {
				return nil, err
			}
			lv := levels[locality.GetPriority()]
			if lv == nil {
				lv = &level{}
				levels[locality.GetPriority()] = lv
			}
			switch lb.GetHealthStatus() {
			case corev3.HealthStatus_UNKNOWN, corev3.HealthStatus_HEALTHY:
				lv.healthy = append(lv.healthy, ep)
			case corev3.HealthStatus_DEGRADED:
				lv.degraded = append(lv.degraded, ep)
			}
		}
	}
	best := -1
	for p, lv := range levels {
		if len(lv.healthy)+len(lv.degraded) > 0 && (best < 0 || int(p) < best) {
			best = int(p)
		}
	}
	if best < 0 {
		return nil, nil
	}
	if lv := levels[uint32(best)]; len(lv.healthy) > 0 {
		return lv.healthy, nil
	}
	return levels[uint32(best)].degraded, nil
}

// decodeEndpoint reads the socket address and weight of one endpoint.
func decodeEndpoint(lb *endpointv3.LbEndpoint) (Endpoint, error) {
	sock := lb.GetEndpoint().GetAddress().GetSocketAddress()
	if sock == nil {
		return Endpoint{}, fmt.Errorf("endpoint without a socket address")
	}
	port, ok := sock.GetPortSpecifier().(*corev3.SocketAddress_PortValue)
	if !ok {
		return Endpoint{}, fmt.Errorf("endpoint %s: only port_value is supported", sock.GetAddress())
	}
	weight := uint32(1)
	if w := lb.GetLoadBalancingWeight(); w != nil && w.GetValue() > 0 {
		weight = w.GetValue()
	}
	return Endpoint{
		Address: net.JoinHostPort(sock.GetAddress(), strconv.FormatUint(uint64(port.PortValue), 10)),
		Weight:  weight,
	}, nil
}

// validate runs a resource's generated (protoc-gen-validate) checks, as Envoy does.
func validate(m proto.Message) error {
	if v, ok := m.(interface{ Validate() error }); ok {
		return v.Validate()
	}
	return nil
}
