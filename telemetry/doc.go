// Package telemetry owns what rpcbridge tells about itself while it runs: the Prometheus metrics
// (their names, labels and meaning, in one table: Metrics), the gateway's access log (one JSON
// line per request) and its OpenTelemetry traces (a server span per request, a client span per
// upstream call, W3C trace context propagated into HTTP headers, gRPC metadata and Dubbo
// attachments, OTLP export).
//
// Nothing here reaches for a global: every constructor takes the prometheus.Registerer and the
// configuration it works with, and the tracer provider is the one NewTracing returns, never
// OpenTelemetry's global one. The data plane (package dataplane) and the control plane
// (package controlplane) use it; cmd/rpcbridge wires it.
//
// Label values are bounded by configuration: route, cluster, registry and schema names, type
// URLs, and small enumerations (status class, protocol, outcome). No label ever carries a raw
// request path, a client address or an identifier of one request.
package telemetry
