package dataplane

import (
	"log/slog"
	"net/http"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
	"github.com/rpcbridge/rpcbridge/internal/downstream"
	"github.com/rpcbridge/rpcbridge/telemetry"
)

// The process-level limits of the gateway: what Envoy takes from its bootstrap (the overload
// manager) rather than from a listener.
const (
	// DefaultMaxConnections bounds the client connections open at once (Envoy's
	// global_downstream_max_connections, whose edge guide sets 50,000 for a large proxy). It is
	// lowered to half the process's open-file limit when that is smaller, so that the gateway
	// sheds connections before accept fails with EMFILE and keeps descriptors for its upstreams.
	DefaultMaxConnections = 10000
	// DefaultBufferBudgetBytes bounds the request bodies that the transcoders hold at once
	// (16 bodies of the default 1 MiB buffer limit, or thousands of ordinary ones). Decoding a
	// JSON body and encoding the call cost about 12 times its size on the REST→Dubbo path
	// (docs/benchmarks.md), so the budget keeps a burst of large bodies near 200 MiB.
	DefaultBufferBudgetBytes = 16 << 20
)

// Statuses of the gateway's own answers to requests beyond its downstream limits; each is the
// response code detail Envoy gives the same answer.
const (
	// StatusStreamIdleTimeout: neither the request nor the response moved for the listener's
	// stream_idle_timeout (408).
	StatusStreamIdleTimeout = downstream.StatusStreamIdleTimeout
	// StatusRequestTimeout: the request was not received in full within request_timeout (408).
	StatusRequestTimeout = downstream.StatusRequestTimeout
	// StatusRequestHeaderTimeout: the request headers did not arrive within
	// request_headers_timeout (408, and the connection is closed).
	StatusRequestHeaderTimeout = downstream.StatusRequestHeaderTimeout
	// StatusPayloadTooLarge: a body that the transcoders buffer is larger than the listener's
	// per_connection_buffer_limit_bytes or the route's max_request_body_size (413).
	StatusPayloadTooLarge = downstream.StatusPayloadTooLarge
	// StatusOverloaded: buffering the body would exceed the gateway's buffer budget (503).
	StatusOverloaded = downstream.StatusOverloaded
)

// maxConnections is opts.MaxConnections or the default, within the open-file limit.
func maxConnections(configured int, log *slog.Logger) int {
	if configured > 0 {
		return configured
	}
	limit := DefaultMaxConnections
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err == nil && rl.Cur/2 < uint64(limit) {
		limit = max(int(rl.Cur/2), 1)
		log.Info("open-file limit is low: connection limit lowered", "max_connections", limit, "rlimit_nofile", rl.Cur)
	}
	return limit
}

// downstreamOf is the downstream settings of the current configuration.
func downstreamOf(cfg *config) downstream.Settings {
	if cfg == nil {
		return routetable.EnvoyDownstreamDefaults()
	}
	return cfg.table.Downstream()
}

// guardStream runs a request under the listener's stream timeouts: the returned writer and
// request are the ones to serve, finish must be deferred. A timeout is answered 408 through w.
func (g *Gateway) guardStream(w http.ResponseWriter, r *http.Request, cfg *config) (http.ResponseWriter, *http.Request, func()) {
	s := downstream.StartStream(w, r, downstreamOf(cfg).Stream, writeError)
	return s.ResponseWriter(), s.Request(), s.Finish
}

// limitBody bounds the body of a request that a transcoder may buffer: by the listener's
// buffer limit and by the gateway's budget (see downstream.Body). Answer with rejectBody when
// the transcoder fails, body.Unwrap when it passes the request on as it is, and release the
// body (Release) when the request is done.
func (g *Gateway) limitBody(r *http.Request, cfg *config) *downstream.Body {
	return g.limitBodyTo(r, cfg, 0)
}

// limitBodyTo is limitBody with the route's own limit, when it is not 0, instead of the
// listener's: the transcoder's max_request_body_size, a Dubbo file route's upload limit.
func (g *Gateway) limitBodyTo(r *http.Request, cfg *config, routeLimit int64) *downstream.Body {
	if routeLimit > 0 {
		return downstream.LimitBody(r, routeLimit, g.budget)
	}
	return downstream.LimitBody(r, downstreamOf(cfg).BufferLimitBytes, g.budget)
}

// rejectBody answers 413 or 503 when the body broke a limit while it was read, and reports
// whether it did: the transcoder's own error about the failed read is not what the client needs.
func rejectBody(w http.ResponseWriter, body *downstream.Body) bool {
	return body.Reject(w, writeError)
}

// registerDownstreamMetrics exports the listener's and the budget's state.
func registerDownstreamMetrics(reg prometheus.Registerer, ln *downstream.Listener, budget *downstream.Budget, logger *slog.Logger) {
	// A second gateway on the same registry keeps the first one's.
	telemetry.GaugeFunc(reg, "rpcbridge_gateway_downstream_connections", func() float64 { return float64(ln.Active()) }, logger)
	telemetry.CounterFunc(reg, "rpcbridge_gateway_downstream_connections_overflow_total", func() float64 { return float64(ln.Shed()) }, logger)
	telemetry.CounterFunc(reg, "rpcbridge_gateway_accept_errors_total", func() float64 { return float64(ln.AcceptErrors()) }, logger)
	telemetry.GaugeFunc(reg, "rpcbridge_gateway_buffered_request_bytes", func() float64 { return float64(budget.InUse()) }, logger)
}
