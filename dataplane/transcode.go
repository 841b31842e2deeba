package dataplane

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"google.golang.org/grpc/metadata"

	"github.com/rpcbridge/rpcbridge/dataplane/grpcjson"
	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
	"github.com/rpcbridge/rpcbridge/internal/downstream"
	"github.com/rpcbridge/rpcbridge/telemetry"
)

// transcode runs the route's gRPC-JSON transcoder on a request and answers it. It reports
// false, having read nothing of the request, when the request is not for the transcoder and
// must be proxied as it is (Envoy's pass-through). cluster receives the cluster the call used.
func (g *Gateway) transcode(w http.ResponseWriter, r *http.Request, cfg *config, route *routetable.Route, cluster *string) bool {
	tr := route.Transcoder
	if grpcjson.IsWebSocket(r) {
		return g.transcodeWebSocket(w, r, cfg, route, cluster)
	}
	body := g.limitBodyTo(r, cfg, tr.BodyLimit())
	defer body.Release()
	call, err := tr.Prepare(r)
	if err != nil {
		return g.refuseTranscoding(w, r, err, body, route, cluster)
	}
	if call.StreamsBody() {
		// Sent as it arrives, never buffered (an HttpBody client stream, as in Envoy): neither
		// the buffer limit nor the budget applies.
		body.Unwrap(r)
	}
	target := route
	if !tr.MatchIncomingRequestRoute() {
		// Envoy routes the transcoded request again, as the gRPC call it has become.
		grpcReq := asGRPCRequest(r, call.Binding.FullMethod)
		target = cfg.table.Match(grpcReq).ForRequest(grpcReq, g.opts.RandomValue())
		if target == nil || target.Cluster == "" {
			writeError(w, http.StatusNotFound, StatusRouteNotFound, fmt.Sprintf("no route matches the gRPC call %s", call.Binding.FullMethod))
			return true
		}
	}
	*cluster = target.Cluster
	up := g.upstreamOf(w, cfg, target.Cluster, false)
	if up == nil {
		return true
	}
	ctx, cancel := withRouteTimeout(r.Context(), target)
	defer cancel()
	call.Metadata = withRouteHeaders(call.Metadata, target, r)
	m := call.Binding.Method
	ctx, tc := startCall(ctx, telemetry.CallInfo{Protocol: telemetry.ProtocolGRPC, Cluster: target.Cluster,
		Service: string(m.Parent().FullName()), Method: string(m.Name())})
	tc.InjectMetadata(call.Metadata)
	err = tr.Execute(ctx, w, call, up.forGRPC(target, r))
	tc.End(grpcResult(ctx, err))
	if err != nil {
		g.requestLog(ctx).Debug("transcoded call failed", "cluster", target.Cluster, "method", call.Binding.FullMethod, "error", err)
	}
	return true
}

// refuseTranscoding answers a request Prepare did not transcode (err is not nil), or hands it
// back (false) when it passes through untranscoded. It is apart from transcode so that the
// error target errors.As needs is allocated only for such requests.
func (g *Gateway) refuseTranscoding(w http.ResponseWriter, r *http.Request, err error, body *downstream.Body, route *routetable.Route, cluster *string) bool {
	var rejected *grpcjson.RequestError
	switch {
	case errors.Is(err, grpcjson.ErrNotTranscoded):
		body.Unwrap(r)
		return false
	case rejectBody(w, body):
		*cluster = route.Cluster
		return true
	case errors.As(err, &rejected):
		*cluster = route.Cluster
		writeError(w, rejected.Status, StatusInvalidRequest, rejected.Message)
		return true
	default:
		*cluster = route.Cluster
		writeError(w, http.StatusInternalServerError, StatusInvalidRequest, err.Error())
		return true
	}
}

// asGRPCRequest is the request as Envoy re-routes it after transcoding: POST to the gRPC
// method path with a gRPC content type.
func asGRPCRequest(r *http.Request, fullMethod string) *http.Request {
	out := r.Clone(r.Context())
	out.Method = http.MethodPost
	out.URL.Path, out.URL.RawPath, out.URL.RawQuery = fullMethod, "", ""
	out.Header.Set("Content-Type", "application/grpc")
	out.Header.Set("Te", "trailers")
	return out
}

// withRouteHeaders applies the request_headers_to_add and request_headers_to_remove of the route
// a transcoded call is sent on to the call's metadata, as Envoy's router applies them to the
// headers of the request the transcoder made (Triple's tri-service-version and
// tri-service-group of a versioned protobuf Triple service come this way).
func withRouteHeaders(md metadata.MD, route *routetable.Route, r *http.Request) metadata.MD {
	if route.RequestHeaders == nil {
		return md
	}
	h := make(http.Header, len(md))
	for k, vs := range md {
		h[http.CanonicalHeaderKey(k)] = vs
	}
	route.RequestHeaders.ApplyTo(h, r)
	out := make(metadata.MD, len(h))
	for k, vs := range h {
		out[strings.ToLower(k)] = vs
	}
	return out
}
