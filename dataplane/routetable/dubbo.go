package routetable

import (
	"errors"
	"fmt"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dataplane/dubbojson"
)

// paramSources maps the contract's argument sources to the ones dubbojson runs.
var paramSources = map[gatewayv1.ParamSource]ir.ParamSource{
	gatewayv1.ParamSource_PARAM_SOURCE_QUERY:      ir.FromQuery,
	gatewayv1.ParamSource_PARAM_SOURCE_HEADER:     ir.FromHeader,
	gatewayv1.ParamSource_PARAM_SOURCE_PATH:       ir.FromPath,
	gatewayv1.ParamSource_PARAM_SOURCE_BODY:       ir.FromBody,
	gatewayv1.ParamSource_PARAM_SOURCE_WHOLE_BODY: ir.FromWholeBody,
}

// protocols maps the contract's Dubbo protocols (checked by Validate) to the IR's.
var protocols = map[gatewayv1.DubboProtocol]ir.DubboProtocol{
	gatewayv1.DubboProtocol_DUBBO_PROTOCOL_DUBBO:  ir.DubboProtocolDubbo,
	gatewayv1.DubboProtocol_DUBBO_PROTOCOL_TRIPLE: ir.DubboProtocolTriple,
}

// dubboRoute returns the Dubbo call a route runs: nil when it carries no
// gatewayv1.DubboRouteKey metadata, a *gatewayv1.UnsupportedError when the metadata is of a
// contract this gateway does not read (the caller withholds the route), another error when it
// is malformed (the configuration is rejected).
//
// The typed form wins over filter_metadata under the same key, as Envoy documents for
// Metadata; filter_metadata alone is what control planes before contract v1 wrote (the IR's
// JSON), which is refused rather than guessed at.
func dubboRoute(r *routev3.Route) (*dubbojson.Route, error) {
	meta := r.GetMetadata()
	typed, ok := meta.GetTypedFilterMetadata()[gatewayv1.DubboRouteKey]
	if !ok {
		if _, legacy := meta.GetFilterMetadata()[gatewayv1.DubboRouteKey]; legacy {
			return nil, &gatewayv1.UnsupportedError{Reason: fmt.Sprintf("%s is in filter_metadata, the untyped form of "+
				"control planes older than %s: upgrade the control plane", gatewayv1.DubboRouteKey, gatewayv1.DubboRouteTypeURL)}
		}
		return nil, nil
	}
	msg, err := gatewayv1.UnmarshalDubboRoute(typed)
	if err != nil {
		return nil, err
	}
	route, err := dubbojson.NewRoute(dubboMetadata(msg), msg.GetPathTemplate())
	if err != nil {
		return nil, fmt.Errorf("%s metadata: %w", gatewayv1.DubboRouteKey, err)
	}
	return route, nil
}

// dubboMetadata is a checked contract message in the form dubbojson runs.
func dubboMetadata(m *gatewayv1.DubboRoute) dubbojson.Metadata {
	d := ir.DubboRoute{
		Interface: m.GetInterface(), Version: m.GetVersion(), Group: m.GetGroup(), Method: m.GetMethod(),
		Returns: m.GetReturns(), Attachments: m.GetAttachments(), AttachmentNames: m.GetAttachmentNames(), PayloadLimit: int(m.GetPayloadLimit()),
		Protocol: protocols[m.GetProtocol()],
	}
	if m.GetTimeout() != nil {
		d.Timeout = m.GetTimeout().AsDuration()
	}
	if dl := m.GetDownload(); dl != nil {
		d.Download = &ir.Download{ContentType: dl.GetContentType(), Filename: dl.GetFilename()}
	}
	for _, p := range m.GetParams() {
		d.Params = append(d.Params, ir.DubboParam{Name: p.GetName(), Type: p.GetType(), From: paramSources[p.GetSource()], Key: p.GetKey()})
	}
	v := m.GetValueLimits()
	out := dubbojson.Metadata{Route: d, UploadLimit: int64(m.GetUploadLimit()), Values: ir.DubboValueLimits{MaxDecimalDigits: int(v.GetMaxDecimalDigits()),
		MaxDecimalScale: int(v.GetMaxDecimalScale()), MaxIntegerDigits: int(v.GetMaxIntegerDigits())}}
	for _, c := range m.GetJavaClasses() {
		jc := ir.JavaClass{Name: c.GetName(), Enum: c.GetIsEnum(), Constants: c.GetConstants(), TypeParams: c.GetTypeParams()}
		for _, f := range c.GetFields() {
			jc.Fields = append(jc.Fields, ir.JavaField{Name: f.GetName(), Type: f.GetType()})
		}
		out.JavaClasses = append(out.JavaClasses, jc)
	}
	return out
}

// withheld decides what a route decoding error means: an unsupported contract withholds the
// one route (its reason is returned, the route stays in the table and answers 503 so that no
// later route matches its requests in its place); anything else rejects the configuration.
func withheld(err error) (string, error) {
	var unsupported *gatewayv1.UnsupportedError
	if errors.As(err, &unsupported) {
		return unsupported.Reason, nil
	}
	return "", err
}
