package controlplane

// The apiKey block of an edge policy: Envoy's envoy.filters.http.api_key_auth. The connection
// manager carries the filter disabled, with an empty configuration, so routes without the block
// never run it; each route of the block enables it with a complete ApiKeyAuthPerRoute
// (credentials, key sources, forwarding, allowed clients), which overrides the empty
// filter-level configuration field by field (api_key_auth.cc, decodeHeaders) — and a route's
// typed_per_filter_config entry enables a disabled filter (source/common/router/
// per_filter_config.cc: "If a filter is explicitly configured we treat it as enabled").

import (
	"errors"
	"fmt"

	apikeyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// apiKeyAuthFilter is the HTTP filter that authenticates API keys.
const apiKeyAuthFilter = "envoy.filters.http.api_key_auth"

// apiKeyPerRoute is the per-route api_key_auth config of p's apiKey block; nil when it has
// none. Errors never name a key.
func apiKeyPerRoute(p *ir.EdgePolicy) (*apikeyv3.ApiKeyAuthPerRoute, error) {
	a := p.APIKey
	if a == nil {
		return nil, nil
	}
	if len(a.Sources) == 0 {
		return nil, errors.New("api key: no key source")
	}
	if len(a.Credentials) == 0 {
		return nil, errors.New("api key: no credentials")
	}
	out := &apikeyv3.ApiKeyAuthPerRoute{AllowedClients: a.AllowedClients}
	for i, s := range a.Sources {
		set := 0
		for _, v := range []string{s.Header, s.Query, s.Cookie} {
			if v != "" {
				set++
			}
		}
		if set != 1 {
			return nil, fmt.Errorf("api key: source %d: want exactly one of header, query, cookie", i)
		}
		if s.Header != "" && !httpMethodToken.MatchString(s.Header) {
			return nil, fmt.Errorf("api key: source %d: %q is not a header name", i, s.Header)
		}
		out.KeySources = append(out.KeySources, &apikeyv3.KeySource{Header: s.Header, Query: s.Query, Cookie: s.Cookie})
	}
	seen := make(map[string]int, len(a.Credentials))
	for i, c := range a.Credentials {
		if c.Key == "" || c.Client == "" {
			return nil, fmt.Errorf("api key: credential %d: empty key or client", i)
		}
		if first, dup := seen[c.Key]; dup {
			return nil, fmt.Errorf("api key: credentials %d and %d have the same key", first, i)
		}
		seen[c.Key] = i
		out.Credentials = append(out.Credentials, &apikeyv3.Credential{Key: c.Key, Client: c.Client})
	}
	if a.ClientHeader != "" && !httpMethodToken.MatchString(a.ClientHeader) {
		return nil, fmt.Errorf("api key: client header %q is not a header name", a.ClientHeader)
	}
	if a.ClientHeader != "" || a.HideCredentials {
		out.Forwarding = &apikeyv3.Forwarding{Header: a.ClientHeader, HideCredentials: a.HideCredentials}
	}
	return out, nil
}

// apiKeyHTTPFilter is the connection manager's api_key_auth filter: disabled, so only the
// routes whose per-route config enables it run it, and empty, so those configs say everything.
func apiKeyHTTPFilter() (*hcmv3.HttpFilter, error) {
	cfg, err := typedConfig(&apikeyv3.ApiKeyAuth{})
	if err != nil {
		return nil, err
	}
	return &hcmv3.HttpFilter{Name: apiKeyAuthFilter, Disabled: true, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: cfg}}, nil
}
