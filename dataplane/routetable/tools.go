package routetable

import (
	"fmt"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
)

// OmittedTool is a route whose MCP tool the gateway does not offer, and why (its
// gatewayv1.MCPTool does not decode, is of a contract this gateway does not read, or reuses
// the name of an earlier route's tool). The route itself is served as REST.
type OmittedTool struct {
	Route  string
	Reason string
}

// mcpTool decodes the route's gatewayv1.MCPTool, if any; a tool that cannot be offered is
// the reason, never an error of the configuration: the tool is an extra of a route that runs
// without it.
func mcpTool(r *routev3.Route) (*gatewayv1.MCPTool, string) {
	typed, ok := r.GetMetadata().GetTypedFilterMetadata()[gatewayv1.MCPToolKey]
	if !ok {
		return nil, ""
	}
	tool, err := gatewayv1.UnmarshalMCPTool(typed)
	if err != nil {
		return nil, err.Error()
	}
	return tool, ""
}

// collectTools lists the tools of the served routes in route order, first tool of a name
// first, and the routes whose tools are not offered.
func collectTools(hosts []*virtualHost) ([]*gatewayv1.MCPTool, []OmittedTool) {
	var tools []*gatewayv1.MCPTool
	var omitted []OmittedTool
	names := map[string]string{}
	for _, vh := range hosts {
		for _, r := range vh.routes {
			switch {
			case r.toolProblem != "":
				omitted = append(omitted, OmittedTool{Route: r.Name, Reason: r.toolProblem})
			case r.tool == nil:
			case r.Withheld != "":
				omitted = append(omitted, OmittedTool{Route: r.Name, Reason: "the route is withheld: " + r.Withheld})
			case names[r.tool.GetName()] != "":
				omitted = append(omitted, OmittedTool{Route: r.Name, Reason: fmt.Sprintf("tool name %q is already route %q's",
					r.tool.GetName(), names[r.tool.GetName()])})
			default:
				names[r.tool.GetName()] = r.Name
				tools = append(tools, r.tool)
			}
		}
	}
	return tools, omitted
}

// Tools returns the Model Context Protocol tools of the served routes, in route order: the
// gatewayv1.MCPTool messages the control plane put on them, checked and with unique names. The
// messages must not be modified.
func (t *Table) Tools() []*gatewayv1.MCPTool { return t.tools }

// OmittedTools returns the routes of the served listener whose tools are not offered, in route
// order.
func (t *Table) OmittedTools() []OmittedTool { return t.omittedTools }
