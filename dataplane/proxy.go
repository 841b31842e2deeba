package dataplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dataplane/grpcweb"
	"github.com/rpcbridge/rpcbridge/dataplane/hcm"
	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
	"github.com/rpcbridge/rpcbridge/telemetry"
)

// errRouteTimeout is the cancellation cause of a request whose route timeout expired.
var errRouteTimeout = errors.New("route timeout expired")

// statusClientClosed is recorded (nginx's convention) when the client went away first.
const statusClientClosed = 499

// serveHTTP routes one request with the current table and proxies it.
func (g *Gateway) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w}
	ex, r := g.beginRequest(r)
	served, cluster, routeName := r, "", ""
	query := r.URL.RawQuery
	defer func() { finishRequest(ex, rec, served, query, routeName, cluster) }()
	cfg := g.config.Load()
	w, r, finish := g.guardStream(rec, r, cfg) // the listener's stream timeouts, 408 through rec
	defer finish()
	if cfg == nil || !cfg.table.Ready() {
		writeError(w, http.StatusNotFound, StatusRouteNotFound, "no route configuration has been received from the control plane yet")
		return
	}
	r, ok := g.acceptHeaders(rec, r, cfg.table.HeaderPolicy())
	if !ok {
		return
	}
	served = r
	route := cfg.table.Match(r).ForRequest(r, g.opts.RandomValue())
	if route == nil {
		writeError(w, http.StatusNotFound, StatusRouteNotFound, fmt.Sprintf("no route matches %s %s%s", r.Method, r.Host, r.URL.Path))
		return
	}
	routeName = route.Name
	if route.Withheld != "" {
		writeError(w, http.StatusServiceUnavailable, StatusRouteUnavailable,
			fmt.Sprintf("route %q is not served by this gateway: %s", route.Name, route.Withheld))
		return
	}
	if d, _ := hcm.FromContext(r.Context()); d.Upgrade != "" && !route.AllowsUpgrade(cfg.table.HeaderPolicy(), d.Upgrade) {
		rej := hcm.UpgradeRejection(d.Upgrade)
		rec.details = rej.Detail
		writeError(w, rej.Status, StatusUpgradeFailed, rej.Message)
		return
	}
	for _, step := range route.Edge {
		var next bool
		if r, next = step.Serve(w, r); !next {
			if a, ok := step.(routetable.Answering); ok {
				rec.details = a.ResponseDetails()
			}
			return
		}
		served = r
	}
	if route.GRPCWeb && grpcweb.IsGRPCWeb(r) {
		web, grpcReq, done, err := grpcweb.Convert(w, r, downstreamOf(cfg).BufferLimitBytes)
		var rejected *grpcweb.RequestError
		if errors.As(err, &rejected) {
			writeError(w, rejected.Status, StatusInvalidRequest, rejected.Message)
			return
		}
		defer done()
		w, r, served = web, grpcReq, grpcReq
	}
	if route.DirectStatus != 0 {
		rec.details = detailsDirect
		if route.DirectContentType != "" {
			w.Header().Set("Content-Type", route.DirectContentType)
		}
		w.WriteHeader(route.DirectStatus)
		_, _ = w.Write([]byte(route.DirectBody))
		return
	}
	if route.Transcoder != nil && g.transcode(w, r, cfg, route, &cluster) {
		return
	}
	// The router's request_headers_to_add and request_headers_to_remove, applied after the
	// edge filters as Envoy's router applies them when it forwards (a transcoded call got those
	// of the route it is sent on in transcode).
	r = route.RequestHeaders.Apply(r)
	if route.Dubbo != nil {
		cluster = route.Cluster
		g.callDubbo(w, r, cfg, route)
		return
	}
	cluster = route.Cluster
	up := g.upstreamOf(w, cfg, route.Cluster, true)
	if up == nil {
		return
	}
	ctx, cancel := withRouteTimeout(r.Context(), route)
	defer cancel()
	ctx, call := startCall(ctx, telemetry.CallInfo{Protocol: telemetry.ProtocolHTTP, Cluster: route.Cluster, HTTPMethod: r.Method})
	proxy := &httputil.ReverseProxy{
		Rewrite:      func(pr *httputil.ProxyRequest) { rewriteOutgoing(pr, route); call.InjectHeader(pr.Out.Header) },
		Transport:    up.forRoute(route),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) { g.proxyError(w, r, err, route) },
		ErrorLog:     slog.NewLogLogger(g.requestLog(r.Context()).Handler(), slog.LevelWarn),
	}
	proxy.ServeHTTP(w, r.WithContext(ctx))
	call.End(httpResult(rec))
}

// upstreamOf returns the upstream of a cluster that can take traffic, or answers 503 and
// returns nil. The gateway executes a cluster's TLS only when it proxies HTTP (httpOnTLS, the
// transport of upstream.go); its gRPC connections and Dubbo calls are plaintext, so they refuse
// a TLS cluster rather than send in the clear (fail closed).
func (g *Gateway) upstreamOf(w http.ResponseWriter, cfg *config, cluster string, httpOnTLS bool) *upstream {
	up := cfg.upstreams[cluster]
	switch {
	case up == nil:
		writeError(w, http.StatusServiceUnavailable, StatusNoHealthyUpstream, fmt.Sprintf("cluster %q is unknown", cluster))
	case up.cluster.TLS != nil && !httpOnTLS:
		writeError(w, http.StatusServiceUnavailable, StatusNoHealthyUpstream,
			fmt.Sprintf("cluster %q: its TLS transport socket is executed by the embedded gateway only for proxied HTTP, not for gRPC or Dubbo calls", cluster))
	case up.cluster.Unusable != "":
		writeError(w, http.StatusServiceUnavailable, StatusNoHealthyUpstream, fmt.Sprintf("cluster %q: %s", cluster, up.cluster.Unusable))
	case len(up.cluster.Endpoints) == 0:
		writeError(w, http.StatusServiceUnavailable, StatusNoHealthyUpstream, fmt.Sprintf("cluster %q has no healthy endpoint", cluster))
	default:
		return up
	}
	return nil
}

// withRouteTimeout bounds ctx by the route's timeout, if it has one.
func withRouteTimeout(ctx context.Context, route *routetable.Route) (context.Context, context.CancelFunc) {
	if route.Timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeoutCause(ctx, route.Timeout, errRouteTimeout)
}

// proxyError answers a failed upstream exchange with the matching JSON error.
func (g *Gateway) proxyError(w http.ResponseWriter, r *http.Request, err error, route *routetable.Route) {
	log := g.requestLog(r.Context()).With("cluster", route.Cluster, "method", r.Method, "path", r.URL.Path, "error", err)
	switch {
	case errors.Is(context.Cause(r.Context()), errRouteTimeout):
		log.Warn("upstream timeout")
		writeError(w, http.StatusGatewayTimeout, StatusUpstreamTimeout,
			fmt.Sprintf("cluster %q did not answer within the route timeout of %s", route.Cluster, route.Timeout))
	case r.Context().Err() != nil:
		log.Debug("client went away before the upstream answered")
		w.WriteHeader(statusClientClosed)
	case errors.Is(err, errPerTryTimeout):
		log.Warn("upstream per-try timeout")
		writeError(w, http.StatusGatewayTimeout, StatusUpstreamTimeout,
			fmt.Sprintf("cluster %q did not answer within the per-try timeout of %s", route.Cluster, route.Retry.PerTryTimeout))
	case errors.Is(err, errNoEndpoint):
		writeError(w, http.StatusServiceUnavailable, StatusNoHealthyUpstream, fmt.Sprintf("cluster %q has no healthy endpoint", route.Cluster))
	case errors.Is(err, errOverflow):
		writeOverflow(w, route.Cluster)
	case isConnectFailure(err):
		log.Warn("upstream connect failure")
		writeError(w, http.StatusServiceUnavailable, StatusUpstreamConnectFailure,
			fmt.Sprintf("cannot connect to cluster %q: %v", route.Cluster, err))
	default:
		log.Warn("upstream failure")
		writeError(w, http.StatusBadGateway, StatusBadGateway, fmt.Sprintf("cluster %q: %v", route.Cluster, err))
	}
}

// rewriteOutgoing applies the route's rewrites to the outgoing request. ReverseProxy has
// removed hop-by-hop headers and the forwarding headers from Out; the connection manager
// (package hcm) already set those as Envoy does, so they go upstream as it left them.
func rewriteOutgoing(pr *httputil.ProxyRequest, route *routetable.Route) {
	if route.HasPrefixRewrite {
		escaped := route.RewritePath(pr.In.URL.EscapedPath())
		if p, err := url.PathUnescape(escaped); err == nil {
			pr.Out.URL.Path, pr.Out.URL.RawPath = p, escaped
		} else {
			pr.Out.URL.Path, pr.Out.URL.RawPath = escaped, ""
		}
	}
	switch {
	case route.HostRewrite != "":
		pr.Out.Host = route.HostRewrite
	case route.AutoHostRewrite:
		pr.Out.Host = autoHost
	}
	for _, k := range []string{"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Forwarded"} {
		if v, ok := pr.In.Header[k]; ok {
			pr.Out.Header[k] = v
		}
	}
}

// statusRecorder remembers what was answered, for metrics and the access log: the status
// code, when the header went out, the body bytes, and the gateway's error status when it
// answered itself (details, set by writeError). Unwrap keeps http.ResponseController
// (flushing of streamed responses) working.
// When requestID is set (always_set_request_id_in_response), it is sent as x-request-id with
// the final response header, replacing any the upstream sent.
type statusRecorder struct {
	http.ResponseWriter
	code      int
	requestID string
	headerAt  time.Time
	written   int64
	details   string
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 && code >= 200 {
		s.code = code
		s.headerAt = time.Now()
		if s.requestID != "" {
			s.Header().Set(ir.RequestIDHeader, s.requestID)
		}
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.code == 0 {
		s.WriteHeader(http.StatusOK)
	}
	n, err := s.ResponseWriter.Write(p)
	s.written += int64(n)
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// statusCode is the status sent, or 200 when nothing was written.
func (s *statusRecorder) statusCode() int {
	if s.code == 0 {
		return http.StatusOK
	}
	return s.code
}
