package controlplane

// The apiKey block of an edge policy: Envoy's envoy.filters.http.api_key_auth. The connection
// manager carries the filter disabled, with an empty configuration, so routes without the block
// never run it; each route of the block enables it with a complete ApiKeyAuthPerRoute
// (credentials, key sources, forwarding, allowed clients), which overrides the empty
// filter-level configuration field by field (api_key_auth.cc, decodeHeaders) — and a route's
// typed_per_filter_config entry enables a disabled filter (source/common/router/
// per_filter_config.cc: "If a filter is explicitly configured we treat it as enabled").
//
// Hashed keys. Envoy's filter compares the presented key with its credentials' keys
// (api_key_auth.cc, decodeHeaders: credentials.find(api_key)); it cannot verify a digest, and a
// digest written where it expects a key would be a key. So a route whose credentials include a
// digest is withheld for Envoy (fail closed, envoy.policy-withheld). For rpcbridge's gateways
// (Options.RPCBridgeGateway) the route instead enables the contract's
// gatewayv1.APIKeyDigestAuthFilter with the same ApiKeyAuthPerRoute, every credential's key
// being the key's SHA-256 in hex (a plaintext key of the same file is hashed here, so no key of
// that set travels in the clear); api_key_auth itself is not enabled on that route, so a
// gateway that does not know the contract filter withholds the route instead of accepting a
// digest as the key.

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	apikeyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// apiKeyAuthFilter is the HTTP filter that authenticates API keys.
const apiKeyAuthFilter = "envoy.filters.http.api_key_auth"

// apiKeyPerRoute is the per-route config of p's apiKey block and the filter it is for:
// api_key_auth, or, for hashed keys on an rpcbridge gateway, the contract's digest filter; nil
// when the block is absent. Errors never name a key or a digest.
func apiKeyPerRoute(p *ir.EdgePolicy, rpcbridgeGateway bool) (string, *apikeyv3.ApiKeyAuthPerRoute, error) {
	a := p.APIKey
	if a == nil {
		return apiKeyAuthFilter, nil, nil
	}
	out, err := apiKeyConfig(a, a.HasDigests())
	if err != nil {
		return "", nil, err
	}
	switch {
	case !a.HasDigests():
		return apiKeyAuthFilter, out, nil
	case !rpcbridgeGateway:
		return "", nil, errors.New("api key: the key file holds hashed keys (sha256:), which Envoy's api_key_auth cannot verify " +
			"(it needs the keys themselves); only rpcbridge's gateways serve this route")
	}
	return gatewayv1.APIKeyDigestAuthFilter, out, nil
}

// apiKeyConfig is the ApiKeyAuthPerRoute of a; with digests, every credential's key is the hex
// SHA-256 of the key (a digest as it is, a key hashed).
func apiKeyConfig(a *ir.APIKeyAuth, digests bool) (*apikeyv3.ApiKeyAuthPerRoute, error) {
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
		if (c.Key == "") == (c.Digest == "") || c.Client == "" {
			return nil, fmt.Errorf("api key: credential %d: want a client and exactly one of key and digest", i)
		}
		key := c.Key
		if digests {
			key = c.Digest
			if key == "" {
				d := sha256.Sum256([]byte(c.Key))
				key = hex.EncodeToString(d[:])
			} else if b, err := hex.DecodeString(key); err != nil || len(b) != sha256.Size || hex.EncodeToString(b) != key {
				return nil, fmt.Errorf("api key: credential %d: the digest is not 64 lower-case hex digits", i)
			}
		}
		if first, dup := seen[key]; dup {
			return nil, fmt.Errorf("api key: credentials %d and %d have the same key", first, i)
		}
		seen[key] = i
		out.Credentials = append(out.Credentials, &apikeyv3.Credential{Key: key, Client: c.Client})
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

// apiKeyDigestHTTPFilter is the connection manager's digest filter: disabled (as api_key_auth)
// and not optional, so that a gateway that does not know it withholds the routes that enable
// it.
func apiKeyDigestHTTPFilter() (*hcmv3.HttpFilter, error) {
	cfg, err := gatewayv1.MarshalAPIKeyDigestAuth(&gatewayv1.APIKeyDigestAuth{Algorithm: gatewayv1.DigestAlgorithm_DIGEST_ALGORITHM_SHA256})
	if err != nil {
		return nil, err
	}
	return &hcmv3.HttpFilter{Name: gatewayv1.APIKeyDigestAuthFilter, Disabled: true, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: cfg}}, nil
}
