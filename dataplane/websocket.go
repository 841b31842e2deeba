package dataplane

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/rpcbridge/rpcbridge/dataplane/grpcjson"
	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
	"github.com/rpcbridge/rpcbridge/internal/downstream"
	"github.com/rpcbridge/rpcbridge/telemetry"
)

// transcodeWebSocket serves a WebSocket handshake on a transcoded route as a streaming call
// (grpcjson.Transcoder.ServeWebSocket): the route's upgrade_configs allowed the upgrade
// (serveHTTP checked). It reports false, having answered nothing, when no streaming binding
// matches the handshake, which then goes upstream as it is, as any request the transcoder does
// not handle. The route timeout runs from the end of the client stream, as Envoy's runs from the
// end of the downstream request; the listener's stream idle timeout ends the call when no frame
// moved for that long.
func (g *Gateway) transcodeWebSocket(w http.ResponseWriter, r *http.Request, cfg *config, route *routetable.Route, cluster *string) bool {
	tr := route.Transcoder
	call, err := tr.PrepareWebSocket(r)
	var rejected *grpcjson.RequestError
	switch {
	case errors.Is(err, grpcjson.ErrNotTranscoded):
		return false
	case errors.As(err, &rejected):
		*cluster = route.Cluster
		writeError(w, rejected.Status, StatusInvalidRequest, rejected.Message)
		return true
	case err != nil:
		*cluster = route.Cluster
		writeError(w, http.StatusInternalServerError, StatusInvalidRequest, err.Error())
		return true
	}
	target := route
	if !tr.MatchIncomingRequestRoute() {
		grpcReq := asGRPCRequest(r, call.Binding.FullMethod)
		target = cfg.table.Match(grpcReq).ForRequest(grpcReq, g.opts.RandomValue())
		if target == nil || target.Cluster == "" {
			writeError(w, http.StatusNotFound, StatusRouteNotFound, fmt.Sprintf("no route matches the gRPC call %s", call.Binding.FullMethod))
			return true
		}
	}
	call.OnActivity = func() { downstream.MarkActive(w) } // frames count against the stream idle timeout
	*cluster = target.Cluster
	up := g.upstreamOf(w, cfg, target.Cluster, false)
	if up == nil {
		return true
	}
	call.Timeout = target.Timeout // armed when the client stream ends, as Envoy's runs from the request's end
	ctx := r.Context()
	m := call.Binding.Method
	ctx, tc := startCall(ctx, telemetry.CallInfo{Protocol: telemetry.ProtocolGRPC, Cluster: target.Cluster,
		Service: string(m.Parent().FullName()), Method: string(m.Name())})
	tc.InjectMetadata(call.Metadata)
	err = tr.ServeWebSocket(ctx, w, r, call, up.forGRPC(target, r))
	tc.End(grpcResult(ctx, err))
	if err != nil {
		g.requestLog(ctx).Debug("WebSocket call ended with an error", "cluster", target.Cluster, "method", call.Binding.FullMethod, "error", err)
	}
	return true
}
