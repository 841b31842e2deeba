package openapi

// The security of operations whose route has an edge policy with authentication: the OpenAPI
// security schemes of where a JWT or an API key is read from, and each operation's requirement.
// OpenAPI's security is a list of alternatives, each a set of schemes that must all be present;
// a policy with JWT and an API key requires both, a token may come from any of its locations,
// and a JWT policy with allowMissing also accepts none.

import (
	"sort"
	"strings"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// bearerScheme is the scheme of a token in "Authorization: Bearer <token>".
const bearerScheme = "bearerAuth"

// securityOf is the security requirement of r's operations, adding the schemes it uses to
// d.security; nil when r's policy authenticates nothing.
func (d *document) securityOf(r ir.Route) []any {
	p := r.Policy
	if p == nil || (p.JWT == nil && p.APIKey == nil) {
		return nil
	}
	alternatives := [][]string{{}}
	if p.JWT != nil {
		var locs []string
		for _, prov := range p.JWT.Providers {
			locs = append(locs, d.jwtSchemes(prov)...)
		}
		locs = dedupe(locs)
		if p.JWT.AllowMissing {
			locs = append(locs, "")
		}
		alternatives = product(alternatives, locs)
	}
	if p.APIKey != nil {
		var locs []string
		for _, s := range p.APIKey.Sources {
			locs = append(locs, d.apiKeyScheme("apiKey", s.Header, s.Query, s.Cookie, "An API key (Envoy api_key_auth)."))
		}
		alternatives = product(alternatives, dedupe(locs))
	}
	out := make([]any, 0, len(alternatives))
	for _, alt := range alternatives {
		req := obj{}
		for _, s := range alt {
			req[s] = []any{}
		}
		out = append(out, req)
	}
	return out
}

// jwtSchemes are the schemes of the places a provider's token is read from (Envoy's default:
// the Authorization bearer header and the access_token query parameter).
func (d *document) jwtSchemes(p ir.JWTProvider) []string {
	const desc = "A JSON Web Token (Envoy jwt_authn)."
	if len(p.FromHeaders) == 0 && len(p.FromParams) == 0 && len(p.FromCookies) == 0 {
		return []string{d.bearer(), d.apiKeyScheme("jwt", "", "access_token", "", desc)}
	}
	var out []string
	for _, h := range p.FromHeaders {
		if strings.EqualFold(h.Name, "authorization") && strings.EqualFold(h.ValuePrefix, "Bearer ") {
			out = append(out, d.bearer())
			continue
		}
		out = append(out, d.apiKeyScheme("jwt", h.Name, "", "", desc))
	}
	for _, q := range p.FromParams {
		out = append(out, d.apiKeyScheme("jwt", "", q, "", desc))
	}
	for _, c := range p.FromCookies {
		out = append(out, d.apiKeyScheme("jwt", "", "", c, desc))
	}
	return out
}

// bearer registers and names the HTTP bearer scheme.
func (d *document) bearer() string {
	d.security[bearerScheme] = obj{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
	return bearerScheme
}

// apiKeyScheme registers and names an OpenAPI apiKey scheme (a credential in a header, query
// parameter or cookie; exactly one of them is set).
func (d *document) apiKeyScheme(kind, header, query, cookie, desc string) string {
	in, name := "header", header
	switch {
	case query != "":
		in, name = "query", query
	case cookie != "":
		in, name = "cookie", cookie
	}
	key := kind + "_" + in + "_" + sanitize(name)
	d.security[key] = obj{"type": "apiKey", "in": in, "name": name, "description": desc}
	return key
}

// product combines every alternative with every location ("" adds none).
func product(alts [][]string, locs []string) [][]string {
	var out [][]string
	for _, a := range alts {
		for _, l := range locs {
			next := append([]string(nil), a...)
			if l != "" {
				next = append(next, l)
			}
			out = append(out, next)
		}
	}
	return out
}

// dedupe sorts and removes repeated names.
func dedupe(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
