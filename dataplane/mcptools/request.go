package mcptools

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/httprule"
)

// notForwarded are the MCP request's headers that describe the MCP exchange, not the caller,
// and so do not go to the REST request (hop-by-hop headers, the body's framing, MCP's own).
var notForwarded = []string{"Accept", "Accept-Encoding", "Connection", "Content-Length", "Content-Type", "Keep-Alive",
	"Last-Event-Id", "Mcp-Protocol-Version", "Mcp-Session-Id", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding",
	"Upgrade", peerAddrHeader, peerHostHeader, peerTLSHeader}

// arguments checks a call's raw arguments against the tool's schema and returns its
// top-level properties as JSON (numbers exactly as sent). Absent arguments are {}.
func arguments(raw json.RawMessage, schema *jsonschema.Resolved) (map[string]json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		raw = json.RawMessage("{}")
	}
	var instance any
	if err := json.Unmarshal(raw, &instance); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if _, ok := instance.(map[string]any); !ok {
		return nil, errors.New("the arguments must be a JSON object")
	}
	if err := schema.Validate(instance); err != nil {
		return nil, err
	}
	var props map[string]json.RawMessage
	if err := json.Unmarshal(raw, &props); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	return props, nil
}

// restRequest is the REST request of a call of def with args, carrying the MCP request's
// headers and connection facts (extra).
func restRequest(ctx context.Context, def *gatewayv1.MCPTool, args map[string]json.RawMessage, extra *mcp.RequestExtra) (*http.Request, error) {
	vars := map[string]string{}
	query := url.Values{}
	header := http.Header{}
	var members map[string]json.RawMessage
	var body json.RawMessage
	for _, a := range def.GetArguments() {
		raw, ok := args[a.GetName()]
		if !ok || string(raw) == "null" {
			continue
		}
		switch a.GetSource() {
		case gatewayv1.ParamSource_PARAM_SOURCE_PATH:
			v, err := scalarText(a.GetName(), raw)
			if err != nil {
				return nil, err
			}
			vars[a.GetKey()] = v
		case gatewayv1.ParamSource_PARAM_SOURCE_QUERY:
			values, err := queryValues(a.GetName(), raw)
			if err != nil {
				return nil, err
			}
			query[a.GetKey()] = append(query[a.GetKey()], values...)
		case gatewayv1.ParamSource_PARAM_SOURCE_HEADER:
			v, err := scalarText(a.GetName(), raw)
			if err != nil {
				return nil, err
			}
			header.Set(a.GetKey(), v)
		case gatewayv1.ParamSource_PARAM_SOURCE_BODY:
			if members == nil {
				members = map[string]json.RawMessage{}
			}
			members[a.GetKey()] = raw
		case gatewayv1.ParamSource_PARAM_SOURCE_WHOLE_BODY:
			body = raw
		}
	}
	path, err := fillTemplate(def.GetPathTemplate(), vars)
	if err != nil {
		return nil, err
	}
	if members != nil {
		if body, err = json.Marshal(members); err != nil {
			return nil, fmt.Errorf("encode body: %w", err)
		}
	}
	target := path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, def.GetMethod(), target, rd)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if extra != nil {
		for k, vs := range extra.Header {
			req.Header[k] = append([]string(nil), vs...)
		}
		req.Host = extra.Header.Get(peerHostHeader)
		req.RemoteAddr = extra.Header.Get(peerAddrHeader)
		if extra.Header.Get(peerTLSHeader) != "" {
			// The MCP request came over TLS; the REST request is that request's (the gateway
			// reads only whether there was TLS, for x-forwarded-proto).
			req.TLS = &tls.ConnectionState{HandshakeComplete: true}
		}
	}
	for _, k := range notForwarded {
		req.Header.Del(k)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	return req, nil
}

// fillTemplate is the path of a google.api.http template with its variables set: a one-segment
// variable's value escaped whole ('/' too), a "**" variable's segment by segment. A template
// without variables is the route's exact path, taken as it is: the path of a Dubbo default
// route ("/dubbo/<interface>:<version>/<method>~<types>") is not in the template grammar.
func fillTemplate(template string, vars map[string]string) (string, error) {
	if strings.HasPrefix(template, "/") && !strings.ContainsAny(template, "{}*") {
		return template, nil
	}
	t, err := httprule.Parse(template)
	if err != nil {
		return "", fmt.Errorf("tool path template: %w", err)
	}
	var segs []string
	next := 0
	for _, v := range t.Variables {
		segs = append(segs, t.Segments[next:v.Start]...)
		value, ok := vars[v.FieldPath]
		if !ok || value == "" {
			return "", fmt.Errorf("argument %q is missing or empty: it is part of the path", v.FieldPath)
		}
		if v.Pattern(t) == "**" {
			parts := strings.Split(value, "/")
			for i, p := range parts {
				parts[i] = url.PathEscape(p)
			}
			segs = append(segs, strings.Join(parts, "/"))
		} else {
			segs = append(segs, url.PathEscape(value))
		}
		next = v.End
	}
	segs = append(segs, t.Segments[next:]...)
	for _, s := range segs {
		if s == "*" || s == "**" {
			return "", fmt.Errorf("tool path template %q has a wildcard outside a variable", template)
		}
	}
	out := "/" + strings.Join(segs, "/")
	if t.Verb != "" {
		out += ":" + t.Verb
	}
	return out, nil
}

// scalarText is a JSON string, number or boolean as text in a URL or header: a string's value,
// a number or boolean as written.
func scalarText(name string, raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("argument %q: %w", name, err)
		}
		return s, nil
	}
	if len(raw) == 0 || raw[0] == '{' || raw[0] == '[' {
		return "", fmt.Errorf("argument %q must be a string, number or boolean", name)
	}
	return string(raw), nil
}

// queryValues is a query argument's values: one for a scalar, one per element of an array.
func queryValues(name string, raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '[' {
		v, err := scalarText(name, raw)
		return []string{v}, err
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, fmt.Errorf("argument %q: %w", name, err)
	}
	out := make([]string, 0, len(elems))
	for _, e := range elems {
		v, err := scalarText(name, e)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
