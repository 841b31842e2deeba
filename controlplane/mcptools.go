package controlplane

import (
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/anypb"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/openapi"
)

// mcpTools returns the contract's MCPTool of every route of g that opts exposes as a Model
// Context Protocol tool, by route name, and a diagnostic for each selected route that cannot be
// one. The tools are openapi's (one owner of the JSON Schema of IR types); only rpcbridge's
// gateways serve them, so other targets get none.
func mcpTools(g ir.Gateway, opts Options) (map[string]*anypb.Any, []diag.Diagnostic, error) {
	if !opts.RPCBridgeGateway || len(opts.MCPServices) == 0 {
		return nil, nil, nil
	}
	tools, omitted, err := openapi.Tools(g, opts.MCPServices)
	if err != nil {
		return nil, nil, fmt.Errorf("mcp tools: %w", err)
	}
	var diags []diag.Diagnostic
	for _, o := range omitted {
		diags = append(diags, diag.Diagnostic{Severity: diag.Warning, Code: diag.EnvoyToolOmitted, Stage: "controlplane",
			Subject: o.Route, Message: "route not offered as an MCP tool: " + o.Reason})
	}
	out := make(map[string]*anypb.Any, len(tools))
	for _, t := range tools {
		args := make([]*gatewayv1.MCPArgument, 0, len(t.Arguments))
		for _, a := range t.Arguments {
			args = append(args, &gatewayv1.MCPArgument{Name: a.Name, Source: contractSources[a.In], Key: a.Key})
		}
		packed, err := gatewayv1.MarshalMCPTool(&gatewayv1.MCPTool{Name: t.Name, Description: t.Description,
			InputSchema: string(t.InputSchema), Method: t.Method, PathTemplate: t.PathTemplate, Arguments: args})
		if err != nil {
			return nil, nil, fmt.Errorf("route %q: %w", t.Route, err)
		}
		out[t.Route] = packed
	}
	return out, diags, nil
}

// attachMCPTool puts the route's tool, if any, in its typed_filter_metadata.
func attachMCPTool(er *routev3.Route, tool *anypb.Any) {
	if tool == nil {
		return
	}
	if er.Metadata == nil {
		er.Metadata = &corev3.Metadata{}
	}
	if er.Metadata.TypedFilterMetadata == nil {
		er.Metadata.TypedFilterMetadata = map[string]*anypb.Any{}
	}
	er.Metadata.TypedFilterMetadata[gatewayv1.MCPToolKey] = tool
}
