package dataplane

import (
	"context"
	"errors"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/rpcbridge/rpcbridge/dataplane/hcm"
	"github.com/rpcbridge/rpcbridge/dataplane/localratelimit"
	"github.com/rpcbridge/rpcbridge/dubborpc"
	"github.com/rpcbridge/rpcbridge/telemetry"
)

// This file connects the gateway to package telemetry: it begins and finishes each request's
// Exchange (proxy.go calls beginRequest and finishRequest), and classifies how each upstream
// call ended (the HTTP, gRPC and Dubbo paths call startCall and End around their call).

// Envoy's response flags (%RESPONSE_FLAGS%, https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage)
// that the gateway's answers correspond to. Others do not apply: the gateway retries only
// requests that never reached an endpoint, which Envoy does not flag URX either (that flag is for
// retries that ran out).
const (
	flagNoRoute           = "NR" // no route matched (404)
	flagNoHealthyUpstream = "UH" // the cluster has no usable endpoint (503)
	flagConnectFailure    = "UF" // no endpoint accepted a connection (503)
	flagUpstreamTimeout   = "UT" // the route timeout expired (504)
	flagDownstreamClosed  = "DC" // the client went away before the answer (499)
	flagUpstreamOverflow  = "UO" // a circuit breaker refused the request (503)
	flagRateLimited       = "RL" // the local rate limit refused the request (429)
	detailsDirect         = "direct_response"
)

// flagOfStatus maps the gateway's own error statuses to their response flag.
var flagOfStatus = map[string]string{
	StatusRouteNotFound:          flagNoRoute,
	StatusNoHealthyUpstream:      flagNoHealthyUpstream,
	StatusUpstreamConnectFailure: flagConnectFailure,
	StatusUpstreamTimeout:        flagUpstreamTimeout,
	StatusUpstreamOverflow:       flagUpstreamOverflow,
	localratelimit.Details:       flagRateLimited,
}

type exchangeKey struct{}

// beginRequest starts the telemetry of r; the returned request's context carries the exchange
// for the upstream calls.
func (g *Gateway) beginRequest(r *http.Request) (*telemetry.Exchange, *http.Request) {
	ex, r := g.telemetry.Begin(r)
	return ex, r.WithContext(context.WithValue(r.Context(), exchangeKey{}, ex))
}

// finishRequest ends the telemetry of the request r (as served: its context carries what the
// connection manager found) that rec answered; query is the query it arrived with, and when
// an edge filter changed it (hide_credentials), the log shows r's.
func finishRequest(ex *telemetry.Exchange, rec *statusRecorder, r *http.Request, query, route, cluster string) {
	resp := telemetry.Response{
		Route: route, Cluster: cluster, Status: rec.statusCode(), BytesSent: rec.written, HeaderAt: rec.headerAt,
		Details: rec.details, Flags: flagOfStatus[rec.details],
	}
	if rec.code == statusClientClosed {
		resp.Flags = flagDownstreamClosed
	}
	if r.URL.RawQuery != query {
		resp.Path = r.URL.RequestURI()
	}
	if d, ok := hcm.FromContext(r.Context()); ok {
		resp.RequestID = d.RequestID
		if d.RemoteAddress.IsValid() {
			resp.ClientAddress = d.RemoteAddress.String()
		}
	}
	ex.Finish(resp)
}

// startCall starts the telemetry of an upstream call of the request whose context ctx is.
func startCall(ctx context.Context, info telemetry.CallInfo) (context.Context, *telemetry.Call) {
	ex, _ := ctx.Value(exchangeKey{}).(*telemetry.Exchange)
	return ex.StartCall(ctx, info) // a nil exchange starts an untraced, unreported call
}

// httpResult is how a proxied HTTP exchange ended, read from what rec answered.
func httpResult(rec *statusRecorder) telemetry.CallResult {
	r := telemetry.CallResult{Outcome: telemetry.OutcomeOK}
	switch {
	case rec.code == statusClientClosed:
		r.Outcome = telemetry.OutcomeCancelled
	case rec.details == StatusUpstreamTimeout:
		r.Outcome = telemetry.OutcomeTimeout
	case rec.details == StatusNoHealthyUpstream || rec.details == StatusUpstreamConnectFailure:
		r.Outcome = telemetry.OutcomeUnavailable
	case rec.details != "":
		r.Outcome = telemetry.OutcomeError
	default:
		r.HTTPStatus = rec.statusCode()
		if r.HTTPStatus >= 500 {
			r.Outcome = telemetry.OutcomeError
		}
	}
	return r
}

// grpcResult is how a gRPC call (transcoded) ended; ctx is the call's context.
func grpcResult(ctx context.Context, err error) telemetry.CallResult {
	st := status.Convert(err)
	r := telemetry.CallResult{Outcome: telemetry.OutcomeOK, GRPCStatus: st.Code().String(), Err: err}
	switch {
	case err == nil:
	case errors.Is(context.Cause(ctx), errRouteTimeout):
		r.Outcome, r.Flag = telemetry.OutcomeTimeout, flagUpstreamTimeout
	case ctx.Err() != nil:
		r.Outcome, r.Flag = telemetry.OutcomeCancelled, flagDownstreamClosed
	case st.Code() == codes.DeadlineExceeded:
		r.Outcome = telemetry.OutcomeTimeout
	case st.Code() == codes.Unavailable:
		r.Outcome = telemetry.OutcomeUnavailable
	default:
		r.Outcome = telemetry.OutcomeError
	}
	return r
}

// dubboResult is how a Dubbo call ended; ctx is the call's context.
func dubboResult(ctx context.Context, err error) telemetry.CallResult {
	r := telemetry.CallResult{Outcome: telemetry.OutcomeOK, DubboStatus: dubborpc.StatusOK.String(), Err: err}
	var remote *dubborpc.RemoteError
	var st *dubborpc.StatusError
	switch {
	case err == nil:
	case errors.As(err, &remote):
		// The method threw: the provider answered OK with an exception.
		r.Outcome, r.DubboException = telemetry.OutcomeError, remote.Class
	case errors.Is(context.Cause(ctx), errRouteTimeout), errors.Is(err, errPerTryTimeout):
		r.Outcome, r.DubboStatus = telemetry.OutcomeTimeout, ""
	case ctx.Err() != nil:
		r.Outcome, r.DubboStatus = telemetry.OutcomeCancelled, ""
	case errors.As(err, &st):
		r.DubboStatus, r.Outcome = st.Status.String(), telemetry.OutcomeError
		switch st.Status {
		case dubborpc.StatusServerTimeout, dubborpc.StatusClientTimeout:
			r.Outcome = telemetry.OutcomeTimeout
		case dubborpc.StatusServiceNotFound, dubborpc.StatusServerThreadpoolExhausted:
			r.Outcome = telemetry.OutcomeUnavailable
		}
	case errors.Is(err, dubborpc.ErrUnavailable) || errors.Is(err, errNoEndpoint):
		r.Outcome, r.DubboStatus = telemetry.OutcomeUnavailable, ""
	default:
		r.Outcome, r.DubboStatus = telemetry.OutcomeError, ""
	}
	return r
}

// dubboMethod is the Java method a call invokes: the first argument of a generic $invoke.
func dubboMethod(call dubborpc.Request) string {
	if call.Method == "$invoke" && len(call.Args) > 0 {
		if m, ok := call.Args[0].(string); ok {
			return m
		}
	}
	return call.Method
}
