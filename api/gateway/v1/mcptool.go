package gatewayv1

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/types/known/anypb"
)

// MCPToolKey is the key of a route's MCPTool in the route's metadata.typed_filter_metadata (see
// MarshalMCPTool). Envoy ignores it: no Envoy extension registers this key.
const MCPToolKey = "rpcbridge.io/mcp"

// MCPToolTypeURL is the type URL of this version's MCPTool.
const MCPToolTypeURL = typeURLPrefix + contractPackage + "v1.MCPTool"

// maxToolName is the longest tool name MCP clients accept (the MCP go-sdk's validateToolName).
const maxToolName = 128

// MarshalMCPTool checks t and packs it for metadata.typed_filter_metadata[MCPToolKey], as
// MarshalDubboRoute packs a DubboRoute: an Any holding an xds.type.v3.TypedStruct whose
// type_url is MCPToolTypeURL. Equal tools give equal bytes.
func MarshalMCPTool(t *MCPTool) (*anypb.Any, error) {
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", MCPToolKey, err)
	}
	return packTypedStruct(MCPToolKey, MCPToolTypeURL, t)
}

// UnmarshalMCPTool decodes and checks the value of metadata.typed_filter_metadata[MCPToolKey]:
// the TypedStruct MarshalMCPTool writes or the binary Any of an MCPTool. Another type URL, or a
// value this version does not know, is an *UnsupportedError: the gateway then does not offer
// the tool (the route itself is served as before).
func UnmarshalMCPTool(a *anypb.Any) (*MCPTool, error) {
	t := &MCPTool{}
	unsupported := func(url string) error {
		return &UnsupportedError{Reason: fmt.Sprintf("%s holds a %q, this gateway reads %s only", MCPToolKey, url,
			strings.TrimPrefix(MCPToolTypeURL, typeURLPrefix))}
	}
	if err := unpackTypedStruct(a, MCPToolTypeURL, t, unsupported, func(err error) error {
		return &UnsupportedError{Reason: fmt.Sprintf("decoding %s: %v", MCPToolTypeURL, err)}
	}); err != nil {
		return nil, err
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return t, nil
}

// Validate reports what makes t unusable: a name MCP clients refuse, an input schema that is
// not a JSON object schema of type "object", a missing method or path template, an argument
// without a name or key, two arguments of one name, or a source this version does not know
// (an *UnsupportedError).
func (t *MCPTool) Validate() error {
	if err := validToolName(t.GetName()); err != nil {
		return fmt.Errorf("mcp tool %q: %w", t.GetName(), err)
	}
	var schema map[string]any
	if err := json.Unmarshal([]byte(t.GetInputSchema()), &schema); err != nil {
		return fmt.Errorf("mcp tool %q: input schema: %w", t.GetName(), err)
	}
	if schema["type"] != "object" {
		return fmt.Errorf("mcp tool %q: input schema has type %v, want \"object\"", t.GetName(), schema["type"])
	}
	if t.GetMethod() == "" || !strings.HasPrefix(t.GetPathTemplate(), "/") {
		return fmt.Errorf("mcp tool %q: empty method or path template %q", t.GetName(), t.GetPathTemplate())
	}
	seen := map[string]bool{}
	for i, a := range t.GetArguments() {
		if a.GetName() == "" || seen[a.GetName()] {
			return fmt.Errorf("mcp tool %q argument %d: empty or repeated name %q", t.GetName(), i, a.GetName())
		}
		seen[a.GetName()] = true
		switch a.GetSource() {
		case ParamSource_PARAM_SOURCE_QUERY, ParamSource_PARAM_SOURCE_HEADER, ParamSource_PARAM_SOURCE_PATH, ParamSource_PARAM_SOURCE_BODY:
			if a.GetKey() == "" {
				return fmt.Errorf("mcp tool %q argument %q: empty key", t.GetName(), a.GetName())
			}
		case ParamSource_PARAM_SOURCE_WHOLE_BODY:
		default:
			return &UnsupportedError{Reason: fmt.Sprintf("mcp tool %q argument %q: source %v is unset or unknown to this gateway",
				t.GetName(), a.GetName(), a.GetSource())}
		}
	}
	return nil
}

// validToolName applies MCP's rule for tool names: 1 to 128 characters of A-Z, a-z, 0-9, '_',
// '-' and '.' (the go-sdk's validateToolName, which logs others as invalid).
func validToolName(name string) error {
	if name == "" || len(name) > maxToolName {
		return errors.New("a tool name has 1 to 128 characters")
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return fmt.Errorf("a tool name has only A-Z, a-z, 0-9, '_', '-' and '.', not %q", c)
		}
	}
	return nil
}
