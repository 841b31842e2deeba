package dataplane

import (
	"context"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dataplane/dubbojson"
	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
	"github.com/rpcbridge/rpcbridge/dubborpc"
	"github.com/rpcbridge/rpcbridge/dubborpc/triple"
	"github.com/rpcbridge/rpcbridge/telemetry"
)

// callProtocol is the protocol a Dubbo route's calls are reported with: Dubbo, or Triple.
func callProtocol(route *dubbojson.Route) telemetry.Protocol {
	if route.Protocol() == ir.DubboProtocolTriple {
		return telemetry.ProtocolTriple
	}
	return telemetry.ProtocolDubbo
}

// invokeRPC sends a Dubbo route's call over the protocol its providers speak: Dubbo, or Dubbo 3
// Triple in non-IDL mode.
func (g *Gateway) invokeRPC(ctx context.Context, up *upstream, route *dubbojson.Route, retry *routetable.RetryPolicy, call dubborpc.Request) (dubborpc.Response, error) {
	if route.Protocol() == ir.DubboProtocolTriple {
		return g.invokeTriple(ctx, up, retry, call)
	}
	return g.invokeDubbo(ctx, up, retry, call)
}

// invokeTriple is invokeDubbo for providers that serve the interface over Triple in non-IDL
// mode: the same call (the same $invoke with typed hessian2 arguments) in Triple's wrapper
// messages, over the cluster's HTTP/2 connections (the gRPC pool). dubborpc/triple answers with
// dubborpc's errors, so retries, outlier detection and the HTTP answers are Dubbo's.
func (g *Gateway) invokeTriple(ctx context.Context, up *upstream, retry *routetable.RetryPolicy, call dubborpc.Request) (dubborpc.Response, error) {
	var resp dubborpc.Response
	err := up.pool.try(ctx, retry, func(ctx context.Context, h *host, release func()) attemptResult {
		defer release()
		cc, err := up.grpc.conn(h.addr)
		if err == nil {
			resp, err = triple.Invoke(ctx, cc, call)
		}
		up.pool.reportDubbo(ctx, h, err)
		return attemptResult{err: err, failure: dubboFailure(ctx, err)}
	})
	return resp, err
}
