package controlplane

import (
	"fmt"
	"math"
	"slices"
	"strings"

	xdstypev3 "github.com/cncf/xds/go/xds/type/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/javatype"
)

// Names of the Higress HTTP-to-Dubbo extensions, which have no Go types upstream and so are
// emitted as xds.type.v3.TypedStruct.
const (
	dubboTranscoderFilterName = "envoy.filters.http.http_dubbo_transcoder"
	dubboTranscoderTypeURL    = "type.googleapis.com/envoy.extensions.filters.http.http_dubbo_transcoder.v3.HttpDubboTranscoder"
	dubboTCPUpstreamName      = "envoy.upstreams.http.dubbo_tcp"
	dubboTCPUpstreamTypeURL   = "type.googleapis.com/envoy.extensions.upstreams.http.dubbo_tcp.v3.DubboTcpConnectionPoolProto"
)

// extractKeySpecs maps argument sources to the transcoder's extract_key_spec values.
var extractKeySpecs = map[ir.ParamSource]string{
	ir.FromQuery:     "ALL_QUERY_PARAMETER",
	ir.FromHeader:    "ALL_HEADER",
	ir.FromPath:      "ALL_PATH",
	ir.FromBody:      "ALL_BODY",
	ir.FromWholeBody: "ALL_BODY",
}

// contractSources maps argument sources to the gateway contract's.
var contractSources = map[ir.ParamSource]gatewayv1.ParamSource{
	ir.FromQuery:     gatewayv1.ParamSource_PARAM_SOURCE_QUERY,
	ir.FromHeader:    gatewayv1.ParamSource_PARAM_SOURCE_HEADER,
	ir.FromPath:      gatewayv1.ParamSource_PARAM_SOURCE_PATH,
	ir.FromBody:      gatewayv1.ParamSource_PARAM_SOURCE_BODY,
	ir.FromWholeBody: gatewayv1.ParamSource_PARAM_SOURCE_WHOLE_BODY,
}

// dubboHTTPMethods are the methods match_http_method_spec can name; a route without methods
// gets one method mapping for each.
var dubboHTTPMethods = []string{"DELETE", "GET", "PATCH", "POST", "PUT"}

// typedStruct packs an untyped config of the extension typeURL.
func typedStruct(typeURL string, value map[string]any) (*anypb.Any, error) {
	ts := &xdstypev3.TypedStruct{TypeUrl: typeURL}
	if value != nil {
		v, err := structpb.NewStruct(value)
		if err != nil {
			return nil, fmt.Errorf("building %s: %w", typeURL, err)
		}
		ts.Value = v
	}
	return typedConfig(ts)
}

// dubboTranscoderHTTPFilter is the HCM entry of the Higress transcoder; optional, so that an
// Envoy without it still accepts the listener. Its config comes per route.
func dubboTranscoderHTTPFilter() (*hcmv3.HttpFilter, error) {
	cfg, err := typedStruct(dubboTranscoderTypeURL, nil)
	if err != nil {
		return nil, err
	}
	return &hcmv3.HttpFilter{
		Name:       dubboTranscoderFilterName,
		ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: cfg},
		IsOptional: true,
	}, nil
}

// dubboTCPUpstream is the cluster upstream_config that lets the Higress router speak Dubbo.
func dubboTCPUpstream() (*corev3.TypedExtensionConfig, error) {
	cfg, err := typedStruct(dubboTCPUpstreamTypeURL, nil)
	if err != nil {
		return nil, err
	}
	return &corev3.TypedExtensionConfig{Name: dubboTCPUpstreamName, TypedConfig: cfg}, nil
}

// decorateDubboRoute adds to a translated route what the Higress transcoder needs (per-route
// config, CONNECT upgrade) and, for rpcbridge's gateways, the route as the contract's
// DubboRoute in typed_filter_metadata.
func decorateDubboRoute(out *routev3.Route, r ir.Route, classes map[string]ir.JavaClass, values *ir.DubboValueLimits, uploadLimit uint32) error {
	d := r.Dubbo
	if d.Interface == "" || d.Method == "" {
		return fmt.Errorf("dubbo: empty interface or method")
	}
	perRoute, err := dubboTranscoderPerRoute(r)
	if err != nil {
		return err
	}
	wrapped, err := typedConfig(&routev3.FilterConfig{Config: perRoute, IsOptional: true})
	if err != nil {
		return err
	}
	out.TypedPerFilterConfig = map[string]*anypb.Any{dubboTranscoderFilterName: wrapped}
	out.GetRoute().UpgradeConfigs = []*routev3.RouteAction_UpgradeConfig{{
		UpgradeType:   "CONNECT",
		ConnectConfig: &routev3.RouteAction_UpgradeConfig_ConnectConfig{AllowPost: true},
	}}
	contract := contractDubboRoute(r, classes, values)
	if r.Dubbo.Upload {
		contract.UploadLimit = uploadLimit // the route takes a file: its body limit (DownstreamLimits.UploadLimitBytes)
	}
	meta, err := gatewayv1.MarshalDubboRoute(contract)
	if err != nil {
		return err
	}
	out.Metadata = &corev3.Metadata{TypedFilterMetadata: map[string]*anypb.Any{gatewayv1.DubboRouteKey: meta}}
	return nil
}

// dubboTranscoderPerRoute is the HttpDubboTranscoder config of one route: one service mapping
// with one method mapping per HTTP method. Requests that match no mapping are rejected
// (reject_unknown_method); unknown query parameters are tolerated; the URL is unescaped except
// for reserved characters.
func dubboTranscoderPerRoute(r ir.Route) (*anypb.Any, error) {
	d := r.Dubbo
	params := make([]any, 0, len(d.Params))
	for i, p := range d.Params {
		spec, ok := extractKeySpecs[p.From]
		if !ok {
			return nil, fmt.Errorf("dubbo param %d (%s): unknown source %q", i, p.Name, p.From)
		}
		m := map[string]any{"extract_key_spec": spec, "mapping_type": javatype.Name(p.Type).Erasure()}
		if p.From != ir.FromWholeBody {
			if p.Key == "" {
				return nil, fmt.Errorf("dubbo param %d (%s): empty key", i, p.Name)
			}
			m["extract_key"] = p.Key
		}
		params = append(params, m)
	}
	passthrough := map[string]any{"passthrough_all_headers": false}
	switch {
	case slices.Contains(d.Attachments, "*"):
		passthrough = map[string]any{"passthrough_all_headers": true}
	case len(d.Attachments) > 0:
		keys := make([]any, len(d.Attachments))
		for i, k := range d.Attachments {
			keys[i] = k
		}
		passthrough = map[string]any{"passthrough_headers": map[string]any{"keys": keys}}
	}
	methods := slices.Clone(r.Match.Methods)
	if len(methods) == 0 {
		methods = dubboHTTPMethods
	}
	slices.Sort(methods)
	methods = slices.Compact(methods)
	pattern := dubboMatchPattern(r.Match)
	mappings := make([]any, 0, len(methods))
	for _, m := range methods {
		mappings = append(mappings, map[string]any{
			"name": d.Method,
			"path_matcher": map[string]any{
				"match_pattern":          pattern,
				"match_http_method_spec": "ALL_" + strings.ToUpper(m),
			},
			"parameter_mapping":   params,
			"passthrough_setting": passthrough,
		})
	}
	service := map[string]any{"name": d.Interface, "version": d.Version, "method_mapping": mappings}
	if d.Group != "" {
		service["group"] = d.Group
	}
	return typedStruct(dubboTranscoderTypeURL, map[string]any{
		"url_unescape_spec": "ALL_CHARACTERS_EXCEPT_RESERVED",
		"request_validation_options": map[string]any{
			"reject_unknown_method":           true,
			"reject_unknown_query_parameters": false,
		},
		"services_mapping": []any{service},
	})
}

// dubboMatchPattern is the transcoder's path pattern for a match: the template or path itself,
// or the prefix followed by "**".
func dubboMatchPattern(m ir.Match) string {
	switch {
	case m.PathTemplate != "":
		return m.PathTemplate
	case m.Path != "":
		return m.Path
	case strings.HasSuffix(m.PathPrefix, "/"):
		return m.PathPrefix + "**"
	default:
		return m.PathPrefix + "/**"
	}
}

// contractDubboRoute is route r as the gateway contract's DubboRoute: the Dubbo call, the
// transcoder's match pattern (which feeds path arguments), the classes that the parameter and
// return types reach, the limits on what the gateway sends (the providers' payload limit,
// the gateway's value limits), and how a byte[] result is answered. A route that takes a file
// gets its body limit from decorateDubboRoute.
func contractDubboRoute(r ir.Route, classes map[string]ir.JavaClass, values *ir.DubboValueLimits) *gatewayv1.DubboRoute {
	d := r.Dubbo
	out := &gatewayv1.DubboRoute{
		Interface: d.Interface, Version: d.Version, Group: d.Group, Method: d.Method,
		Returns: d.Returns, Attachments: d.Attachments, PathTemplate: dubboMatchPattern(r.Match),
		PayloadLimit: contractSize(d.PayloadLimit), AttachmentNames: d.AttachmentNames,
		Protocol: contractProtocols[d.Protocol],
	}
	if values != nil && *values != (ir.DubboValueLimits{}) {
		out.ValueLimits = &gatewayv1.DubboValueLimits{MaxDecimalDigits: contractSize(values.MaxDecimalDigits),
			MaxDecimalScale: contractSize(values.MaxDecimalScale), MaxIntegerDigits: contractSize(values.MaxIntegerDigits)}
	}
	if d.Timeout != 0 {
		out.Timeout = durationpb.New(d.Timeout)
	}
	if d.Download != nil {
		out.Download = &gatewayv1.DubboDownload{ContentType: d.Download.ContentType, Filename: d.Download.Filename}
	}
	types := make([]string, 0, len(d.Params)+1)
	for _, p := range d.Params {
		out.Params = append(out.Params, &gatewayv1.DubboParam{Name: p.Name, Type: p.Type, Source: contractSources[p.From], Key: p.Key})
		types = append(types, p.Type)
	}
	types = append(types, d.Returns)
	for _, c := range reachedClasses(types, classes) {
		jc := &gatewayv1.JavaClass{Name: c.Name, IsEnum: c.Enum, Constants: c.Constants, TypeParams: c.TypeParams}
		for _, f := range c.Fields {
			jc.Fields = append(jc.Fields, &gatewayv1.JavaField{Name: f.Name, Type: f.Type})
		}
		out.JavaClasses = append(out.JavaClasses, jc)
	}
	return out
}

// contractProtocols maps the IR's Dubbo protocols to the contract's.
var contractProtocols = map[ir.DubboProtocol]gatewayv1.DubboProtocol{
	ir.DubboProtocolDubbo:  gatewayv1.DubboProtocol_DUBBO_PROTOCOL_DUBBO,
	ir.DubboProtocolTriple: gatewayv1.DubboProtocol_DUBBO_PROTOCOL_TRIPLE,
}

// contractSize is a size or count of the IR as the contract's uint32 (the IR's are validated
// non-negative; larger values are capped).
func contractSize(n int) uint32 { return uint32(min(max(n, 0), math.MaxUint32)) }

// reachedClasses returns the classes that the Java types reach, through generic arguments and
// field types, sorted by name.
func reachedClasses(types []string, classes map[string]ir.JavaClass) []ir.JavaClass {
	seen := map[string]bool{}
	var out []ir.JavaClass
	queue := slices.Clone(types)
	for len(queue) > 0 {
		t := queue[0]
		queue = queue[1:]
		for _, name := range javatype.Name(t).ClassNames() {
			c, ok := classes[name]
			if !ok || seen[name] {
				continue
			}
			seen[name] = true
			out = append(out, c)
			for _, f := range c.Fields {
				queue = append(queue, f.Type)
			}
		}
	}
	slices.SortFunc(out, func(a, b ir.JavaClass) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// higressFiles is the diagnostic of a Dubbo route that takes or returns a file: Higress's
// transcoder carries byte[] as base64 JSON only, so the route's files are the embedded
// gateway's (docs/protocols.md, "Files"); nil for other routes.
func higressFiles(r ir.Route) *diag.Diagnostic {
	d := r.Dubbo
	if !d.Upload && javatype.Name(d.Returns).Family() != javatype.Bytes {
		return nil
	}
	return &diag.Diagnostic{Severity: diag.Info, Code: diag.EnvoyFilesGatewayOnly, Stage: "controlplane", Subject: r.Name,
		Message: "the route takes or returns a file (byte[]); Higress's http_dubbo_transcoder carries it as base64 JSON, " +
			"so multipart and raw uploads and binary downloads work through the embedded gateway only"}
}
