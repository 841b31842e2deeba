package admin

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
)

// GatewayPath is where the admin address forwards requests to the embedded gateway, so that a
// page served by the admin API (Swagger UI's "try it out") reaches the gateway from its own
// origin: "/gateway/greetings/Ada" is sent to the gateway as "/greetings/Ada".
//
// Why a same-origin forward and not CORS on the gateway: the admin API and the gateway listen on
// different ports, so they are different origins, and a browser sends a cross-origin JSON request
// only after a preflight that the gateway would have to answer for every route — a policy of the
// public data plane (Envoy's cors filter) that the operator may not want, and that an Envoy data
// plane would not have. The forward goes only to the embedded gateway's own listener, never to a
// host taken from the request, so it is not an open proxy; it adds X-Forwarded-For, -Host and
// -Proto and otherwise passes the request and the answer through unchanged.
const GatewayPath = "/gateway/"

// gatewayProxy forwards GatewayPath requests to the address addr returns ("host:port" of the
// gateway's listener, "" while it does not listen; an unspecified host such as 0.0.0.0 or [::]
// is reached over loopback), over TLS with tlsConfig when it is not nil.
func gatewayProxy(addr func() string, tlsConfig *tls.Config, log *slog.Logger) http.Handler {
	scheme := "http"
	var transport http.RoundTripper
	if tlsConfig != nil {
		scheme = "https"
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = tlsConfig
		transport = t
	}
	proxy := &httputil.ReverseProxy{
		Transport: transport,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = scheme
			pr.Out.URL.Host = dialable(addr())
			pr.Out.Host = ""
			pr.Out.URL.Path = "/" + strings.TrimPrefix(pr.In.URL.Path, GatewayPath)
			pr.Out.URL.RawPath = ""
			if raw := pr.In.URL.RawPath; raw != "" {
				pr.Out.URL.RawPath = "/" + strings.TrimPrefix(raw, GatewayPath)
			}
			pr.SetXForwarded()
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			log.Warn("forward to the embedded gateway failed", "path", r.URL.Path, "err", err)
			writeError(w, http.StatusBadGateway, "gateway_unreachable", fmt.Sprintf("the embedded gateway did not answer: %v", err), nil)
		},
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if addr() == "" {
			writeError(w, http.StatusServiceUnavailable, "gateway_unavailable", "the embedded gateway is not listening", nil)
			return
		}
		proxy.ServeHTTP(w, r)
	})
}

// dialable turns a listen address into one to connect to.
func dialable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
