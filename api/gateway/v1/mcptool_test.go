package gatewayv1_test

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
)

func TestMCPToolRoundTrip(t *testing.T) {
	in := &gatewayv1.MCPTool{Name: "pkg.Svc.Get", Description: "d", InputSchema: `{"type":"object"}`, Method: "GET", PathTemplate: "/v1/{id}",
		Arguments: []*gatewayv1.MCPArgument{{Name: "id", Source: gatewayv1.ParamSource_PARAM_SOURCE_PATH, Key: "id"}}}
	packed, err := gatewayv1.MarshalMCPTool(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := gatewayv1.UnmarshalMCPTool(packed)
	if err != nil || !proto.Equal(in, out) {
		t.Fatalf("round trip: %v, %v", out, err)
	}
	if string(in.ProtoReflect().Descriptor().FullName()) != strings.TrimPrefix(gatewayv1.MCPToolTypeURL, "type.googleapis.com/") {
		t.Errorf("MCPToolTypeURL %s does not name the message", gatewayv1.MCPToolTypeURL)
	}
	var unsupported *gatewayv1.UnsupportedError
	if _, err := gatewayv1.UnmarshalMCPTool(&anypb.Any{TypeUrl: "type.googleapis.com/rpcbridge.gateway.v2.MCPTool"}); !errors.As(err, &unsupported) {
		t.Errorf("v2 type URL: %v, want an UnsupportedError", err)
	}
}

func TestMCPToolValidate(t *testing.T) {
	ok := func() *gatewayv1.MCPTool {
		return &gatewayv1.MCPTool{Name: "a", InputSchema: `{"type":"object"}`, Method: "GET", PathTemplate: "/a"}
	}
	bad := map[string]func(*gatewayv1.MCPTool){
		"empty name":      func(m *gatewayv1.MCPTool) { m.Name = "" },
		"bad name":        func(m *gatewayv1.MCPTool) { m.Name = "a b" },
		"long name":       func(m *gatewayv1.MCPTool) { m.Name = strings.Repeat("a", 129) },
		"schema not JSON": func(m *gatewayv1.MCPTool) { m.InputSchema = "{" },
		"schema array":    func(m *gatewayv1.MCPTool) { m.InputSchema = `{"type":"array"}` },
		"no method":       func(m *gatewayv1.MCPTool) { m.Method = "" },
		"relative path":   func(m *gatewayv1.MCPTool) { m.PathTemplate = "a" },
		"no key": func(m *gatewayv1.MCPTool) {
			m.Arguments = []*gatewayv1.MCPArgument{{Name: "x", Source: gatewayv1.ParamSource_PARAM_SOURCE_QUERY}}
		},
		"unset source": func(m *gatewayv1.MCPTool) { m.Arguments = []*gatewayv1.MCPArgument{{Name: "x", Key: "x"}} },
		"repeated": func(m *gatewayv1.MCPTool) {
			m.Arguments = []*gatewayv1.MCPArgument{{Name: "x", Source: gatewayv1.ParamSource_PARAM_SOURCE_WHOLE_BODY},
				{Name: "x", Source: gatewayv1.ParamSource_PARAM_SOURCE_WHOLE_BODY}}
		},
	}
	if err := ok().Validate(); err != nil {
		t.Fatalf("valid tool: %v", err)
	}
	for name, edit := range bad {
		m := ok()
		edit(m)
		if err := m.Validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
