package dataplane

import (
	"context"
	"errors"

	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
	"github.com/rpcbridge/rpcbridge/dubborpc"
)

// invokeDubbo sends call to the host the cluster's pool picks, and again to another one while
// the call never left the gateway (dubborpc.ErrNotSent: no verified connection, or it closed
// before the request was written) and the route's retry policy says so. A call that may have
// reached a provider is never sent again: Dubbo calls are not known to be idempotent.
func (g *Gateway) invokeDubbo(ctx context.Context, up *upstream, retry *routetable.RetryPolicy, call dubborpc.Request) (dubborpc.Response, error) {
	var resp dubborpc.Response
	err := up.pool.try(ctx, retry, func(ctx context.Context, h *host, release func()) (string, error) {
		defer release()
		var err error
		resp, err = g.dubbo.endpoint(h.addr).Invoke(ctx, call)
		up.pool.reportDubbo(ctx, h, err)
		switch {
		case err == nil || !errors.Is(err, dubborpc.ErrNotSent) || ctx.Err() != nil:
			return "", err
		case errors.Is(err, dubborpc.ErrUnavailable):
			return retryConnectFailure, err
		}
		return retryResetBeforeRequest, err
	})
	return resp, err
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
	case errors.Is(context.Cause(ctx), errRouteTimeout):
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
