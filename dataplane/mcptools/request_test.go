package mcptools

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
)

func TestFillTemplate(t *testing.T) {
	cases := []struct {
		template string
		vars     map[string]string
		want     string
		err      string
	}{
		{"/v1/shelves/{name}", map[string]string{"name": "a/b c"}, "/v1/shelves/a%2Fb%20c", ""},
		{"/files/{path=**}:get", map[string]string{"path": "a/b c"}, "/files/a/b%20c:get", ""},
		{"/v1/{a}/x/{b.c}", map[string]string{"a": "1", "b.c": "2"}, "/v1/1/x/2", ""},
		{"/v1/{a}", map[string]string{}, "", `argument "a" is missing`},
		{"/v1/{a}", map[string]string{"a": ""}, "", `argument "a" is missing or empty`},
		{"/dubbo/a.B:1.0.0/m~java.lang.String,int", nil, "/dubbo/a.B:1.0.0/m~java.lang.String,int", ""},
		{"/v1/*/x", nil, "", "wildcard outside a variable"},
	}
	for _, c := range cases {
		got, err := fillTemplate(c.template, c.vars)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s %v: %q, %v; want error %q", c.template, c.vars, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s %v: %q, %v; want %q", c.template, c.vars, got, err, c.want)
		}
	}
}

func TestRESTRequest(t *testing.T) {
	def := &gatewayv1.MCPTool{Name: "t", Method: "POST", PathTemplate: "/v1/{id}", InputSchema: `{"type":"object"}`,
		Arguments: []*gatewayv1.MCPArgument{
			{Name: "id", Source: gatewayv1.ParamSource_PARAM_SOURCE_PATH, Key: "id"},
			{Name: "tags", Source: gatewayv1.ParamSource_PARAM_SOURCE_QUERY, Key: "tag"},
			{Name: "trace", Source: gatewayv1.ParamSource_PARAM_SOURCE_HEADER, Key: "x-trace"},
			{Name: "a", Source: gatewayv1.ParamSource_PARAM_SOURCE_BODY, Key: "a"},
		}}
	args := map[string]json.RawMessage{"id": json.RawMessage(`9007199254740993`), "tags": json.RawMessage(`["x",true]`),
		"trace": json.RawMessage(`"t1"`), "a": json.RawMessage(`{"n":1}`)}
	extra := &mcp.RequestExtra{Header: http.Header{"Authorization": {"Bearer tok"}, "Mcp-Session-Id": {"s"},
		peerAddrHeader: {"192.0.2.1:5"}, peerHostHeader: {"api.example"}}}
	req, err := restRequest(context.Background(), def, args, extra)
	if err != nil {
		t.Fatal(err)
	}
	if got := req.URL.String(); got != "/v1/9007199254740993?tag=x&tag=true" {
		t.Errorf("URL %s", got)
	}
	if req.Header.Get("Authorization") != "Bearer tok" || req.Header.Get("Mcp-Session-Id") != "" || req.Header.Get("X-Trace") != "t1" ||
		req.Header.Get(peerAddrHeader) != "" || req.Host != "api.example" || req.RemoteAddr != "192.0.2.1:5" {
		t.Errorf("headers %v host %q remote %q", req.Header, req.Host, req.RemoteAddr)
	}
	body := make([]byte, 100)
	n, _ := req.Body.Read(body)
	if string(body[:n]) != `{"a":{"n":1}}` {
		t.Errorf("body %s", body[:n])
	}
	if _, err := restRequest(context.Background(), def, map[string]json.RawMessage{"id": json.RawMessage(`{"x":1}`)}, nil); err == nil {
		t.Error("an object as a path variable: no error")
	}
}

func TestArguments(t *testing.T) {
	var s jsonschema.Schema
	if err := json.Unmarshal([]byte(`{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"],"additionalProperties":false}`), &s); err != nil {
		t.Fatal(err)
	}
	rs, err := s.Resolve(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := arguments(json.RawMessage(`{"n":9007199254740993}`), rs); err != nil || string(got["n"]) != "9007199254740993" {
		t.Errorf("valid: %v, %v", got, err)
	}
	for _, bad := range []string{`{}`, `{"n":"x"}`, `{"n":1,"m":2}`, `[1]`, `{"n":`, `null`} {
		if _, err := arguments(json.RawMessage(bad), rs); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
