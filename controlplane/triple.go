package controlplane

import (
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/anypb"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/diag"
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
