// Package controlplane turns an ir.Gateway into Envoy resources and serves them over xDS.
//
// Translate is a pure function; Server is the xDS server (ADS, state-of-the-world and delta) that
// clients such as Envoy, the embedded gateway in dataplane/ and proxyless grpc-go share; Bootstrap
// writes an Envoy bootstrap that points at it; Render prints resources deterministically.
//
// # Resource shapes (the contract with dataplane/)
//
// Listeners:
//   - "rpcbridge-http" on Options.HTTPAddress:HTTPPort (default 0.0.0.0:10080), always present,
//     with one filter chain holding one filter "envoy.filters.network.http_connection_manager":
//     stat_prefix "rpcbridge-http", codec AUTO, rds{config_source{ads{}, resource_api_version V3},
//     route_config_name "rpcbridge-http"}, http_filters ["envoy.filters.http.router"].
//   - one listener per ir.GRPCService, named exactly the service name, with an api_listener
//     holding an HttpConnectionManager whose rds route_config_name is "rpcbridge-grpc/<name>".
//     These are for proxyless gRPC clients; an HTTP data plane ignores listeners that have an
//     api_listener and no address.
//
// Route configurations:
//   - "rpcbridge-http": one virtual host "rpcbridge", domains ["*"], the IR routes in IR order.
//     Each route has its IR name, a match on prefix or path, a ":method" header matcher when
//     methods are restricted (string_match exact for one method, safe_regex "^(A|B)$" with sorted
//     methods for several), and route{cluster, prefix_rewrite when set, timeout}. timeout is
//     always set; "0s" means no timeout.
//   - "rpcbridge-grpc/<name>": one virtual host "<name>" with domains ["<name>"] and one route
//     with prefix "" to the service's cluster (timeout when set).
//
// Clusters: one per IR cluster, named like it (a service ID such as "http:hello"), type EDS with
// eds_cluster_config{eds_config{ads{}, resource_api_version V3}, service_name = name},
// connect_timeout (5s when the IR says 0), lb_policy ROUND_ROBIN. HTTP/2 clusters carry
// typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
// with explicit HTTP/2. Dubbo clusters are plain clusters for now.
//
// Cluster load assignments: one per cluster (also with no endpoints), cluster_name = name,
// endpoints grouped by locality (region, zone), sorted; each locality's load_balancing_weight is
// the sum of its endpoint weights. lb_endpoints carry the socket address, health_status HEALTHY or
// UNHEALTHY, load_balancing_weight (at least 1) and, when the endpoint has labels,
// metadata.filter_metadata["rpcbridge"] as a Struct of strings. An address:port that appears
// twice in one cluster is kept once (the first in IR order).
//
// Not translated yet (later changes): Match.PathTemplate (an error for now), Route.GRPC and
// Route.Dubbo (ignored: such routes are plain routes to their cluster), the Dubbo listener.
//
// # Serving
//
// All clients share one snapshot. Each type's version is a hash of its resources' deterministic
// wire form, so the same input gives the same versions across restarts and an unchanged update
// pushes nothing. A rejected (NACKed) response is logged and counted and not sent again; the
// next push waits for new content and, for a client that keeps rejecting, an exponential backoff.
//
// Every list in Resources is sorted by name, every resource passes ValidateAll, and the set is
// consistent: every route names an existing cluster, every cluster has its load assignment and
// every RDS name a listener uses exists.
package controlplane
