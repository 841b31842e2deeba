package dataplane

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/rpcbridge/rpcbridge/dataplane/dubbojson"
	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
	"github.com/rpcbridge/rpcbridge/dubborpc"
	"github.com/rpcbridge/rpcbridge/telemetry"
)

// StatusJavaException: a Dubbo provider's method threw (500); the body names the exception
// class (dubbojson.ExceptionBody).
const StatusJavaException = dubbojson.StatusJavaException

// dubboPool is the gateway's Dubbo client: one dubborpc endpoint (multiplexed connections)
// per provider address, closed when the address leaves every cluster.
type dubboPool struct {
	client *dubborpc.Client

	mu    sync.Mutex
	known map[string]bool
}

func newDubboPool() *dubboPool {
	return &dubboPool{client: dubborpc.New(dubborpc.Options{}), known: map[string]bool{}}
}

// retain closes the endpoints whose addresses are in no cluster of table any more.
func (p *dubboPool) retain(table *routetable.Table) {
	keep := map[string]bool{}
	for _, c := range table.Clusters() {
		for _, ep := range c.Endpoints {
			keep[ep.Address] = true
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for addr := range p.known {
		if !keep[addr] {
			p.client.CloseEndpoint(addr)
			delete(p.known, addr)
		}
	}
}

// endpoint returns the Dubbo endpoint of addr.
func (p *dubboPool) endpoint(addr string) *dubborpc.Endpoint {
	p.mu.Lock()
	p.known[addr] = true
	p.mu.Unlock()
	return p.client.Endpoint(addr)
}

// callDubbo runs a REST-to-Dubbo route: arguments from the request, a generic call to a
// balanced provider (over Dubbo or Triple, see invokeRPC), the result or error as JSON.
func (g *Gateway) callDubbo(w http.ResponseWriter, r *http.Request, cfg *config, route *routetable.Route) {
	body := g.limitBodyTo(r, cfg, route.Dubbo.UploadLimit())
	defer body.Release()
	call, err := route.Dubbo.Prepare(r)
	var rejected *dubbojson.RequestError
	switch {
	case err != nil && rejectBody(w, body):
		return
	case errors.As(err, &rejected):
		writeError(w, rejected.Status, StatusInvalidRequest, rejected.Message)
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, StatusInvalidRequest, err.Error())
		return
	}
	up := g.upstreamOf(w, cfg, route.Cluster, false)
	if up == nil {
		return
	}
	timeout := route.Dubbo.Timeout()
	if timeout <= 0 {
		timeout = route.Timeout
	}
	ctx, cancel := r.Context(), context.CancelFunc(func() {})
	if timeout > 0 {
		ctx, cancel = context.WithTimeoutCause(ctx, timeout, errRouteTimeout)
	}
	defer cancel()
	ctx, tc := startCall(ctx, telemetry.CallInfo{Protocol: callProtocol(route.Dubbo), Cluster: route.Cluster,
		Service: call.Interface, Method: dubboMethod(call)})
	tc.InjectAttachments(call.Attachments)
	resp, err := g.invokeRPC(ctx, up, route.Dubbo, retryFor(route.Retry, r), call)
	tc.End(dubboResult(ctx, err))
	if err == nil {
		if err := route.Dubbo.WriteResult(w, r, resp); err != nil {
			writeError(w, http.StatusBadGateway, StatusBadGateway, fmt.Sprintf("rendering the result of %s: %v", route.Dubbo.Method(), err))
		}
		return
	}
	if writeRefusedDubboCall(w, err) {
		return
	}
	log := g.requestLog(ctx).With("cluster", route.Cluster, "method", route.Dubbo.Method(), "error", err)
	if dubbojson.WriteException(w, err) {
		log.Debug("dubbo method threw")
		return
	}
	var status *dubborpc.StatusError
	switch {
	case errors.Is(context.Cause(ctx), errRouteTimeout):
		log.Warn("dubbo call timeout")
		writeError(w, http.StatusGatewayTimeout, StatusUpstreamTimeout,
			fmt.Sprintf("%s did not answer within %s", route.Dubbo.Method(), timeout))
	case r.Context().Err() != nil:
		w.WriteHeader(statusClientClosed)
	case errors.Is(err, errPerTryTimeout):
		log.Warn("dubbo call per-try timeout")
		writeError(w, http.StatusGatewayTimeout, StatusUpstreamTimeout,
			fmt.Sprintf("%s did not answer within the per-try timeout of %s", route.Dubbo.Method(), route.Retry.PerTryTimeout))
	case errors.Is(err, errNoEndpoint):
		writeError(w, http.StatusServiceUnavailable, StatusNoHealthyUpstream, fmt.Sprintf("cluster %q has no healthy endpoint", route.Cluster))
	case errors.Is(err, errOverflow):
		writeOverflow(w, route.Cluster)
	case errors.Is(err, dubborpc.ErrUnavailable):
		log.Warn("dubbo providers unreachable")
		writeError(w, http.StatusServiceUnavailable, StatusUpstreamConnectFailure, fmt.Sprintf("cannot connect to cluster %q: %v", route.Cluster, err))
	case errors.As(err, &status) && (status.Status == dubborpc.StatusServerTimeout || status.Status == dubborpc.StatusClientTimeout):
		writeError(w, http.StatusGatewayTimeout, StatusUpstreamTimeout, err.Error())
	case errors.As(err, &status) && (status.Status == dubborpc.StatusServiceNotFound || status.Status == dubborpc.StatusServerThreadpoolExhausted):
		writeError(w, http.StatusServiceUnavailable, StatusNoHealthyUpstream, err.Error())
	default:
		log.Warn("dubbo call failed")
		writeError(w, http.StatusBadGateway, StatusBadGateway, fmt.Sprintf("cluster %q: %v", route.Cluster, err))
	}
}
