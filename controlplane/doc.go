// Package controlplane turns an ir.Gateway into Envoy resources and serves them over xDS.
//
// Translate is a pure function; Server is the xDS server (ADS, state-of-the-world and delta) that
// clients such as Envoy, the embedded gateway in dataplane/ and proxyless grpc-go share; Bootstrap
// writes an Envoy bootstrap that points at it; Render prints resources deterministically.
//
// # Resource shapes (the contract with dataplane/ and any Envoy)
//
// The names and metadata keys below, and the DubboRoute message rpcbridge adds to Envoy's API,
// are owned by package api/gateway/v1 (gatewayv1), which the control plane and the gateways
// both import; the IR stays internal to this package.
//
// Translate takes a Flavor: FlavorEnvoy (stock Envoy) or FlavorHigress (the Higress build). The
// server always gives FlavorHigress to rpcbridge's gateways (node cluster
// gatewayv1.EmbeddedNodeCluster, "rpcbridge-embedded"), translated with
// Options.RPCBridgeGateway: the only differences are that a route whose API keys include hashed
// ones enables the contract's gatewayv1.APIKeyDigestAuthFilter (an Envoy gets it withheld), and
// that routes bound to streaming gRPC methods take WebSocket upgrades (streaming.go). Without
// either the rpcbridge gateways' snapshot is the flavor's.
//
// Listeners:
//   - "rpcbridge-http" on Options.HTTPAddress:HTTPPort (default 0.0.0.0:10080), always present,
//     with one filter chain holding one filter "envoy.filters.network.http_connection_manager":
//     stat_prefix "rpcbridge-http", codec AUTO, rds{config_source{ads{}, resource_api_version V3},
//     route_config_name "rpcbridge-http"}, http_filters in this order: the edge filters (edge.go),
//     "envoy.filters.http.grpc_web" (only when a route transcodes gRPC; streaming.go),
//     "envoy.filters.http.grpc_json_transcoder" (only when a route transcodes gRPC; disabled: true,
//     with a no-service config), "envoy.filters.http.http_dubbo_transcoder" (only on
//     FlavorHigress with Dubbo routes; is_optional, a TypedStruct of
//     envoy.extensions.filters.http.http_dubbo_transcoder.v3.HttpDubboTranscoder without value),
//     "envoy.filters.http.router".
//   - one listener per ir.GRPCService, named exactly the service name, with an api_listener
//     holding an HttpConnectionManager whose rds route_config_name is "rpcbridge-grpc/<name>".
//     These are for proxyless gRPC clients; an HTTP data plane ignores listeners that have an
//     api_listener and no address.
//   - "rpcbridge-dubbo" on Options.DubboAddress:DubboPort (default 0.0.0.0:20880), only when
//     there are Dubbo clusters: "envoy.filters.network.dubbo_proxy" (Dubbo, Hessian2,
//     drds{ads, route_config_name "rpcbridge-dubbo"}, dubbo_filters ["envoy.filters.dubbo.router"]).
//
// Route configurations:
//   - "rpcbridge-http": one virtual host "rpcbridge", domains ["*"], the IR routes in IR order.
//     Each route has its IR name, a match on prefix, path or, for Match.PathTemplate, safe_regex
//     (an anchored RE2 regex: "*" and "{var}" are [^/]+, "**" is .*, "{var=a/*}" matches its
//     segments, ":verb" a literal suffix; the embedded gateway executes the same regex), a
//     ":method" header matcher when methods are restricted (string_match exact for one method,
//     safe_regex "^(A|B)$" with sorted methods for several), and route{cluster, prefix_rewrite
//     when set, timeout}. timeout is always set; "0s" means no timeout.
//   - gRPC routes (Route.GRPC) carry typed_per_filter_config["envoy.filters.http.grpc_json_transcoder"]
//     = GrpcJsonTranscoder{proto_descriptor_bin: the service's file and its transitive imports,
//     services [service], print_options{always_print_primitive_fields: true,
//     preserve_proto_field_names: false}, match_incoming_request_route: true,
//     convert_grpc_status: true, auto_mapping: true (unannotated methods' POST /pkg.Svc/Method)}. A descriptor set that does not parse, resolve or declare the
//     service is a translation error. Each gRPC method also gets a "<route>~grpc-web" route
//     before its first route, and, for rpcbridge's gateways, routes bound to streaming methods
//     take WebSocket upgrades (upgrade_configs, or a "<route>~websocket" copy): streaming.go.
//   - Dubbo routes (Route.Dubbo) on FlavorHigress carry
//     typed_per_filter_config["envoy.filters.http.http_dubbo_transcoder"] = FilterConfig{is_optional,
//     config: TypedStruct HttpDubboTranscoder{url_unescape_spec ALL_CHARACTERS_EXCEPT_RESERVED,
//     request_validation_options{reject_unknown_method: true, reject_unknown_query_parameters:
//     false}, services_mapping [{name, version, group, method_mapping: one per HTTP method
//     [{name, path_matcher{match_pattern: the template, path or prefix+"**",
//     match_http_method_spec ALL_<METHOD>}, parameter_mapping [{extract_key_spec ALL_QUERY_PARAMETER|
//     ALL_HEADER|ALL_PATH|ALL_BODY, extract_key (absent for the whole body), mapping_type: the
//     erased Java type}], passthrough_setting}]}]}} and route.upgrade_configs [{CONNECT,
//     connect_config{allow_post}}]. On FlavorEnvoy with Options.DubboGateways they route
//     to the static (or STRICT_DNS) cluster rpcbridge-dubbo-gateways of rpcbridge gateways,
//     keeping match, timeout and the edge's copy of the policy, without transcoder config,
//     metadata, retry policy or canary split (the gateway serves the same route); without
//     DubboGateways they are left out and reported in Resources.Diagnostics (one info
//     diagnostic per route: the embedded gateway serves it).
//   - Every Dubbo route also carries metadata.typed_filter_metadata["rpcbridge.io/dubbo"]
//     (gatewayv1.DubboRouteKey): an Any of xds.type.v3.TypedStruct{type_url:
//     "type.googleapis.com/rpcbridge.gateway.v1.DubboRoute", value: the message in proto3 JSON
//     with proto field names}. The message (api/gateway/v1/gateway.proto) holds the Dubbo call
//     (interface, version, group, method, params with their Java types and sources, returns,
//     attachments, timeout as a Duration), the transcoder's match pattern as
//     path_template, and the JavaClasses that its parameter and return types reach through
//     generic arguments and fields, sorted by name. Envoy ignores the key and can still render
//     it (TypedStruct is a type Envoy knows); rpcbridge's gateways decode it with
//     gatewayv1.UnmarshalDubboRoute, refuse another version of it, and encode typed hessian2
//     arguments from it.
//   - "rpcbridge-grpc/<name>": one virtual host "<name>" with domains ["<name>"] and one route
//     with prefix "" to the service's cluster (timeout when set).
//
// Clusters: one per IR cluster, named like it (a service ID such as "http:hello"), type EDS with
// eds_cluster_config{eds_config{ads{}, resource_api_version V3}, service_name = name},
// connect_timeout (5s when the IR says 0), lb_policy ROUND_ROBIN. HTTP/2 clusters carry
// typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
// with explicit HTTP/2. Dubbo clusters on FlavorHigress carry upstream_config
// {name "envoy.upstreams.http.dubbo_tcp", TypedStruct DubboTcpConnectionPoolProto}.
//
// Cluster load assignments: one per cluster (also with no endpoints), cluster_name = name,
// endpoints grouped by locality (region, zone), sorted; each locality's load_balancing_weight is
// the sum of its endpoint weights. lb_endpoints carry the socket address, health_status HEALTHY or
// UNHEALTHY, load_balancing_weight (at least 1) and, when the endpoint has labels,
// metadata.filter_metadata["rpcbridge"] (gatewayv1.EndpointLabelsKey) as a Struct of strings.
// An address:port that appears twice in one cluster is kept once (the first in IR order).
//
// Dubbo routes (DRDS, type DubboRouteType, one resource "rpcbridge-dubbo"): a
// MultipleRouteConfiguration with, in order, one RouteConfiguration per Dubbo cluster
// "dubbo:{interface}:{version}:{group}" (name = cluster name, interface, group, version, one route
// matching any method name → the cluster), then for each (interface, group) with several
// versions a fallback "dubbo:{interface}:*:{group}" without version whose route spreads calls
// over the versions with weighted_clusters of equal weights (non-empty groups first; the empty
// group last, because an empty group matches any group). Equal weights keep DRDS unchanged when
// endpoints change.
//
// # Serving
//
// rpcbridge serves its streams itself (ads.go; go-control-plane provides the API types only):
// every resource type is a collection (collection.go) — the listeners, route configurations and
// clusters of each target (Envoys of the configured flavor, rpcbridge's own gateways; node
// clusters of a target share it), the load assignments and the Dubbo routes of every client —
// built for fan-out to many proxies. Each resource is marshalled once per change and the same
// wire form goes to every client. A stream keeps per type an interned name set, shared with
// every stream subscribed to the same names, and a position in the collection's change log
// instead of maps of names and versions, so a connected proxy costs a few hundred bytes
// whatever the number of resources; a change wakes only the streams whose set holds a changed
// name (or that subscribe to everything), and each answers from the changes since its
// position. Versions are hashes of the resources' deterministic wire form, so the same input
// gives the same versions across restarts and an unchanged update pushes nothing. Only changed
// resources are sent, over delta and over state of the world too (which the xDS protocol allows
// for every type but LDS and CDS, whose responses hold every subscribed resource); delta
// responses report removed resources. A rejected (NACKed) response is logged and counted and
// not sent again; the next push waits for new content and, for a client that keeps rejecting,
// an exponential backoff. A gateway that differs from the last one only in endpoints is not
// translated again: only the load assignments of the clusters that changed are (shape.go).
//
// Every list in Resources is sorted by name, every resource passes ValidateAll, and the set is
// consistent: every route names an existing cluster, every cluster has its load assignment and
// every RDS name a listener uses exists.
package controlplane
