package dataplane

import (
	"encoding/json"
	"net/http"
)

// Error statuses of the gateway's JSON error bodies.
const (
	// StatusRouteNotFound: no route matches the request (404).
	StatusRouteNotFound = "route_not_found"
	// StatusRouteUnavailable: the matching route is withheld because this gateway does not
	// read its contract version, for example a REST-to-Dubbo route from a newer control plane
	// (503). The gateway logs the reason once when the route arrives.
	StatusRouteUnavailable = "route_unavailable"
	// StatusNoHealthyUpstream: the route's cluster is unknown, unusable or has no healthy
	// endpoint (503).
	StatusNoHealthyUpstream = "no_healthy_upstream"
	// StatusUpstreamOverflow: a circuit breaker refused the request: the cluster's requests in
	// flight are at max_requests or every endpoint is at its cap of requests in flight (503, with
	// Envoy's x-envoy-overloaded: true).
	StatusUpstreamOverflow = "upstream_overflow"
	// StatusUpstreamConnectFailure: no endpoint accepted a connection (503).
	StatusUpstreamConnectFailure = "upstream_connect_failure"
	// StatusUpstreamTimeout: the route timeout expired (504).
	StatusUpstreamTimeout = "upstream_timeout"
	// StatusBadGateway: any other upstream failure (502).
	StatusBadGateway = "bad_gateway"
	// StatusInvalidRequest: the request was refused: by the connection manager (a Connection
	// header nominating X-Forwarded-* headers or too many headers, 400), or by the gRPC-JSON or
	// Dubbo transcoder: malformed JSON or parameter values (400), a body over the size limit
	// (413), or what the route's request_validation_options reject (400, 404).
	StatusInvalidRequest = "invalid_request"
	// StatusUpgradeFailed: an upgrade request (Upgrade: websocket, ...) that the listener does
	// not enable, refused as Envoy refuses it (403).
	StatusUpgradeFailed = "upgrade_failed"
)

// ErrorBody is the JSON body of every error the gateway itself answers with:
// {"error":{"code":503,"status":"no_healthy_upstream","message":"..."}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the content of ErrorBody.
type ErrorDetail struct {
	Code    int    `json:"code"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

// writeOverflow answers a request a circuit breaker refused, as Envoy does (503 with
// x-envoy-overloaded).
func writeOverflow(w http.ResponseWriter, cluster string) {
	w.Header().Set("X-Envoy-Overloaded", "true")
	writeError(w, http.StatusServiceUnavailable, StatusUpstreamOverflow,
		"cluster \""+cluster+"\" refused the request: too many requests in flight (circuit breaker)")
}

// writeError answers with a JSON error body (and tells the access log which status it was).
func writeError(w http.ResponseWriter, code int, status, message string) {
	if rec := recorderOf(w); rec != nil {
		rec.details = status
	}
	body, _ := json.Marshal(ErrorBody{Error: ErrorDetail{Code: code, Status: status, Message: message}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(append(body, '\n'))
}

// recorderOf finds the request's statusRecorder under w and the writers wrapped around it (the
// listener's stream guard), or nil.
func recorderOf(w http.ResponseWriter) *statusRecorder {
	for {
		if rec, ok := w.(*statusRecorder); ok {
			return rec
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
}
