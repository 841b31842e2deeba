package dataplane

import (
	"context"
	"errors"
	"net/http"

	"google.golang.org/grpc/codes"

	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
	"github.com/rpcbridge/rpcbridge/dubborpc"
)

// invokeDubbo sends call to the host the cluster's pool picks, and again to another one while
// the attempt failed under one of the route's retry conditions (dubboFailure maps a Dubbo
// failure onto them). Transcoding leaves a route of non-idempotent methods only the conditions
// under which the call never left the gateway, unless its policy says nonIdempotent.
func (g *Gateway) invokeDubbo(ctx context.Context, up *upstream, retry *routetable.RetryPolicy, call dubborpc.Request) (dubborpc.Response, error) {
	var resp dubborpc.Response
	err := up.pool.try(ctx, retry, func(ctx context.Context, h *host, release func()) attemptResult {
		defer release()
		var err error
		resp, err = g.dubbo.endpoint(h.addr).Invoke(ctx, call)
		up.pool.reportDubbo(ctx, h, err)
		return attemptResult{err: err, failure: dubboFailure(ctx, err)}
	})
	return resp, err
}

// dubboFailure maps a failed Dubbo call onto Envoy's retry conditions: what it would be as an
// HTTP or gRPC exchange. A call that never left the gateway is a connect failure (no verified
// connection) or a reset before the request; a connection lost under a sent call is a reset;
// an answer has the status the gateway answers it with (callDubbo) and, for the Dubbo response
// statuses that have one, the gRPC status of the same meaning: SERVER_TIMEOUT and
// CLIENT_TIMEOUT 504 deadline-exceeded, SERVICE_NOT_FOUND 503 unavailable,
// SERVER_THREADPOOL_EXHAUSTED 503 resource-exhausted, SERVICE_ERROR and SERVER_ERROR 502
// internal, other statuses 502; a Java exception is a 500 (no gRPC condition: it is the
// method's own answer, as gRPC's UNKNOWN is). Calls refused before sending (payload limits),
// and calls whose context ended, are never retried.
func dubboFailure(ctx context.Context, err error) failure {
	var remote *dubborpc.RemoteError
	var st *dubborpc.StatusError
	switch {
	case err == nil, ctx.Err() != nil, errors.Is(err, dubborpc.ErrPayloadTooLarge):
		return failure{}
	case errors.Is(err, dubborpc.ErrUnavailable):
		return failure{kind: failedConnect}
	case errors.Is(err, dubborpc.ErrNotSent):
		return failure{kind: failedBeforeRequest}
	case errors.Is(err, dubborpc.ErrConnectionLost), errors.Is(err, dubborpc.ErrOwnConnectionLost):
		return failure{kind: failedReset}
	case errors.As(err, &remote):
		return answered(http.StatusInternalServerError)
	case errors.As(err, &st):
		switch st.Status {
		case dubborpc.StatusServerTimeout, dubborpc.StatusClientTimeout:
			return failure{kind: failedAnswer, status: http.StatusGatewayTimeout, grpcStatus: codes.DeadlineExceeded}
		case dubborpc.StatusServiceNotFound:
			return failure{kind: failedAnswer, status: http.StatusServiceUnavailable, grpcStatus: codes.Unavailable}
		case dubborpc.StatusServerThreadpoolExhausted:
			return failure{kind: failedAnswer, status: http.StatusServiceUnavailable, grpcStatus: codes.ResourceExhausted}
		case dubborpc.StatusServiceError, dubborpc.StatusServerError:
			return failure{kind: failedAnswer, status: http.StatusBadGateway, grpcStatus: codes.Internal}
		}
		return answered(http.StatusBadGateway)
	}
	return failure{}
}

// reportDubbo gives a call's outcome to outlier detection as Envoy's dubbo_proxy router does
// (source/extensions/filters/network/dubbo_proxy/router/router_impl.cc): a normal answer is an
// external success and an exception or a SERVICE_ERROR, SERVER_ERROR or
// SERVER_THREADPOOL_EXHAUSTED status an external failure; SERVER_TIMEOUT and the call timeout
// are local-origin timeouts; no connection, or one closed under the call, a local-origin connect
// failure. Calls that failed before any connection was wanted (encoding, size) say nothing.
func (p *pool) reportDubbo(ctx context.Context, h *host, err error) {
	d := p.detector
	if d == nil {
		return
	}
	var remote *dubborpc.RemoteError
	var st *dubborpc.StatusError
	switch {
	case err == nil:
		d.putResult(h, localOriginConnectSuccess)
		d.putResult(h, extOriginRequestSuccess)
	case errors.As(err, &remote):
		d.putResult(h, localOriginConnectSuccess)
		d.putResult(h, extOriginRequestFailed)
	case errors.As(err, &st):
		d.putResult(h, localOriginConnectSuccess)
		switch st.Status {
		case dubborpc.StatusServerTimeout:
			d.putResult(h, localOriginTimeout)
		case dubborpc.StatusServiceError, dubborpc.StatusServerError, dubborpc.StatusServerThreadpoolExhausted:
			d.putResult(h, extOriginRequestFailed)
		}
	case timedOut(ctx):
		d.putResult(h, localOriginTimeout)
	case ctx.Err() != nil:
	case errors.Is(err, dubborpc.ErrOwnConnectionLost), errors.Is(err, dubborpc.ErrPayloadTooLarge):
		// A large call lost the connection of its own, or was refused before sending: that says
		// something about the call, not the provider, so one client's oversized requests cannot
		// get a healthy provider ejected.
	case errors.Is(err, dubborpc.ErrNotSent), errors.Is(err, dubborpc.ErrConnectionLost):
		d.putResult(h, localOriginConnectFailed)
	}
}
