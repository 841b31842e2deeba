package controlplane

import (
	"fmt"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/anypb"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/dubborpc/triple"
)

// decorateTripleRoute makes out a REST-to-Triple route (Dubbo 3 Triple in non-IDL mode) for
// rpcbridge's gateways: the contract's DubboRoute with the Triple protocol, and nothing of
// Higress's Dubbo transcoder, which speaks Dubbo over TCP and cannot reach a Triple port. A route
// that takes a file gets the upload limit as a Dubbo route does.
func decorateTripleRoute(out *routev3.Route, r ir.Route, classes map[string]ir.JavaClass, values *ir.DubboValueLimits, uploadLimit uint32) error {
	contract := contractDubboRoute(r, classes, values)
	if r.Dubbo.Upload {
		contract.UploadLimit = uploadLimit
	}
	meta, err := gatewayv1.MarshalDubboRoute(contract)
	if err != nil {
		return err
	}
	out.Metadata = &corev3.Metadata{TypedFilterMetadata: map[string]*anypb.Any{gatewayv1.DubboRouteKey: meta}}
	return nil
}

// tripleGatewayOnly is the diagnostic of a REST-to-Triple (non-IDL) route left out of an
// Envoy's configuration: neither stock Envoy nor Higress turns JSON into Triple's hessian2
// wrapper messages (grpc_json_transcoder needs protobuf messages; Higress's
// http_dubbo_transcoder speaks Dubbo over TCP; alibaba/higress#481), so rpcbridge's gateway
// serves it.
func tripleGatewayOnly(r ir.Route, flavor Flavor) diag.Diagnostic {
	return diag.Diagnostic{
		Severity: diag.Info,
		Code:     diag.EnvoyGatewayOnly,
		Stage:    "controlplane",
		Subject:  r.Name,
		Message: fmt.Sprintf("HTTP-to-Triple route (non-IDL, hessian2) left out of the %s-flavor Envoy config "+
			"(no Envoy filter transcodes JSON to Triple's hessian2 wrapper); the embedded gateway serves it", flavor),
	}
}

// setTripleServiceHeaders makes out, a gRPC route of a Dubbo 3 Triple service with a protobuf
// IDL, name the service as a Triple client does (dubborpc/triple's headers, dubbo-go's
// triple_protocol client.go): the router removes the client's own tri-service-group and
// tri-service-version, so that a request reaches no other version or group than the route's
// service, and adds the service's (request_headers_to_remove is applied before
// request_headers_to_add). A Triple server looks the implementation up by them
// (triple_protocol/handler.go); one registered with a version or group answers UNIMPLEMENTED
// without them. Envoy's router applies them after grpc_json_transcoder, to the gRPC call, and
// rpcbridge's gateway does the same (dataplane/routetable/routeheaders.go).
func setTripleServiceHeaders(out *routev3.Route, t *ir.TripleService) {
	if t == nil {
		return
	}
	out.RequestHeadersToRemove = []string{triple.HeaderGroup, triple.HeaderVersion}
	for _, h := range []struct{ key, value string }{{triple.HeaderGroup, t.Group}, {triple.HeaderVersion, t.Version}} {
		if h.value == "" {
			continue
		}
		out.RequestHeadersToAdd = append(out.RequestHeadersToAdd, &corev3.HeaderValueOption{
			Header:       &corev3.HeaderValue{Key: h.key, Value: formatterLiteral(h.value)},
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
		})
	}
}

// formatterLiteral is v as a literal of Envoy's header value formatter, which reads % as the
// start of an operator and %% as a %.
func formatterLiteral(v string) string { return strings.ReplaceAll(v, "%", "%%") }
