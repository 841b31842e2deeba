package dataplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"

	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
)

// errRouteTimeout is the cancellation cause of a request whose route timeout expired.
var errRouteTimeout = errors.New("route timeout expired")

// statusClientClosed is recorded (nginx's convention) when the client went away first.
const statusClientClosed = 499

// serveHTTP routes one request with the current table and proxies it.
func (g *Gateway) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w}
	cluster := ""
	defer func() {
		g.metrics.requests.WithLabelValues(cluster, strconv.Itoa(rec.statusCode())).Inc()
	}()
	cfg := g.config.Load()
	w, r, finish := g.guardStream(rec, r, cfg) // the listener's stream timeouts, 408 through rec
	defer finish()
	if cfg == nil || !cfg.table.Ready() {
		writeError(w, http.StatusNotFound, StatusRouteNotFound, "no route configuration has been received from the control plane yet")
		return
	}
	route := cfg.table.Match(r)
	if route == nil {
		writeError(w, http.StatusNotFound, StatusRouteNotFound, fmt.Sprintf("no route matches %s %s%s", r.Method, r.Host, r.URL.Path))
		return
	}
	if route.Withheld != "" {
		writeError(w, http.StatusServiceUnavailable, StatusRouteUnavailable,
			fmt.Sprintf("route %q is not served by this gateway: %s", route.Name, route.Withheld))
		return
	}
	if route.DirectStatus != 0 {
		w.WriteHeader(route.DirectStatus)
		_, _ = w.Write([]byte(route.DirectBody))
		return
	}
	if route.Transcoder != nil && g.transcode(w, r, cfg, route, &cluster) {
		return
	}
	if route.Dubbo != nil {
		cluster = route.Cluster
		g.callDubbo(w, r, cfg, route)
		return
	}
	cluster = route.Cluster
	up := g.upstreamOf(w, cfg, route.Cluster)
	if up == nil {
		return
	}
	ctx, cancel := withRouteTimeout(r.Context(), route)
	defer cancel()
	proxy := &httputil.ReverseProxy{
		Rewrite:      func(pr *httputil.ProxyRequest) { rewriteOutgoing(pr, route) },
		Transport:    up,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) { g.proxyError(w, r, err, route) },
		ErrorLog:     slog.NewLogLogger(g.logger.Handler(), slog.LevelWarn),
	}
	proxy.ServeHTTP(w, r.WithContext(ctx))
}

// upstreamOf returns the upstream of a cluster that can take traffic, or answers 503 and
// returns nil.
func (g *Gateway) upstreamOf(w http.ResponseWriter, cfg *config, cluster string) *upstream {
	up := cfg.upstreams[cluster]
	switch {
	case up == nil:
		writeError(w, http.StatusServiceUnavailable, StatusNoHealthyUpstream, fmt.Sprintf("cluster %q is unknown", cluster))
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
	log := g.logger.With("cluster", route.Cluster, "method", r.Method, "path", r.URL.Path, "error", err)
	switch {
	case errors.Is(context.Cause(r.Context()), errRouteTimeout):
		log.Warn("upstream timeout")
		writeError(w, http.StatusGatewayTimeout, StatusUpstreamTimeout,
			fmt.Sprintf("cluster %q did not answer within the route timeout of %s", route.Cluster, route.Timeout))
	case r.Context().Err() != nil:
		log.Debug("client went away before the upstream answered")
		w.WriteHeader(statusClientClosed)
	case errors.Is(err, errNoEndpoint):
		writeError(w, http.StatusServiceUnavailable, StatusNoHealthyUpstream, fmt.Sprintf("cluster %q has no healthy endpoint", route.Cluster))
	case isConnectFailure(err):
		log.Warn("upstream connect failure")
		writeError(w, http.StatusServiceUnavailable, StatusUpstreamConnectFailure,
			fmt.Sprintf("cannot connect to cluster %q: %v", route.Cluster, err))
	default:
		log.Warn("upstream failure")
		writeError(w, http.StatusBadGateway, StatusBadGateway, fmt.Sprintf("cluster %q: %v", route.Cluster, err))
	}
}

// rewriteOutgoing applies the route's rewrites to the outgoing request and sets the
// X-Forwarded-For/Proto headers. ReverseProxy has already removed hop-by-hop headers and the
// incoming X-Forwarded-* headers from Out.
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

	forwarded := pr.In.Header.Values("X-Forwarded-For")
	if ip, _, err := net.SplitHostPort(pr.In.RemoteAddr); err == nil {
		forwarded = append(forwarded, ip)
	}
	if len(forwarded) > 0 {
		pr.Out.Header.Set("X-Forwarded-For", strings.Join(forwarded, ", "))
	}
	proto := pr.In.Header.Get("X-Forwarded-Proto")
	if proto == "" {
		proto = "http"
		if pr.In.TLS != nil {
			proto = "https"
		}
	}
	pr.Out.Header.Set("X-Forwarded-Proto", proto)
	if host := pr.In.Header.Values("X-Forwarded-Host"); len(host) > 0 {
		pr.Out.Header["X-Forwarded-Host"] = host
	}
}

// statusRecorder remembers the status code written, for metrics. Unwrap keeps
// http.ResponseController (flushing of streamed responses) working.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 && code >= 200 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(p)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// statusCode is the status sent, or 200 when nothing was written.
func (s *statusRecorder) statusCode() int {
	if s.code == 0 {
		return http.StatusOK
	}
	return s.code
}
