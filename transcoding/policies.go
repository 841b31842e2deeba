package transcoding

// The policies: section: named edge policies (authentication, CORS, rate limits, canary splits)
// that routes reference by name, or that attach to every route of the services they name. Each
// policy block is its own type in policy_<block>.go and validates itself; this file owns the
// names, the references and which policy a route gets.

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/rpcbridge/rpcbridge/bridge"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/internal/field"
)

// Policy is a named edge policy: what a request must satisfy before it goes upstream and how a
// route's traffic is split. A route rule (routes[], rpcRoutes[]) references it with policy:
// <name>; Services attaches it to every route of the services it names whose rule references no
// policy of its own. A route has at most one policy: its rule's, else its service's.
type Policy struct {
	// Origin names where the policy was written ("rpcbridge.yaml policies[0]"), for
	// diagnostics. It is set by whoever read the policy (config.Parse), never written in YAML.
	Origin string `yaml:"-"`
	// Name is what route rules reference: lower-case letters, digits and dashes.
	Name string `yaml:"name"`
	// Services attaches the policy to every route of these services (service IDs or names)
	// whose rule names no policy.
	Services []string `yaml:"services,omitempty"`
	// CORS lets browser pages of other origins call the policy's routes (docs/policies.md#cors).
	CORS *CORSRule `yaml:"cors,omitempty"`
	// RateLimit limits the rate of requests per route and per client
	// (docs/policies.md#rate-limit).
	RateLimit *RateLimitRule `yaml:"rateLimit,omitempty"`
	// JWT requires a valid JSON Web Token (Envoy's envoy.filters.http.jwt_authn).
	JWT *JWTRule `yaml:"jwt,omitempty"`
	// Canary splits the routes' traffic onto a subset of their service's endpoints, by
	// weight, header or cookie, or routes Dubbo requests by their tag (docs/policies.md).
	Canary *Canary `yaml:"canary,omitempty"`
	// APIKey authenticates the policy's requests by an API key, as Envoy's api_key_auth does
	// (docs/policies.md).
	APIKey *APIKeyRule `yaml:"apiKey,omitempty"`
	// Retry is the retry policy of the policy's routes (Envoy's route retry_policy), in place of
	// their service's.
	Retry *RetryBlock `yaml:"retry,omitempty"`
	// ClientAddressHeader, when set, is the request header that carries the client's address
	// to the provider (gRPC metadata, a Dubbo attachment): the address the connection manager
	// trusts (the peer, or the X-Forwarded-For entry its trusted hops name), without the port,
	// as Envoy's %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%. A copy sent by the client is always
	// replaced.
	ClientAddressHeader string `yaml:"clientAddressHeader,omitempty"`
}

// policyNameRE is what a policy name may be (it appears in Envoy route metadata and metrics).
var policyNameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// Validate reports every problem of the policy that shows without a catalog, each a field.Error
// at its key ("services[1]"), joined; nil means none.
func (p Policy) Validate() error {
	var errs []error
	if !policyNameRE.MatchString(p.Name) {
		errs = append(errs, field.Errorf("name", "%q is not a policy name (lower-case letters, digits and dashes, at most 63)", p.Name))
	}
	for i, s := range p.Services {
		if s == "" {
			errs = append(errs, field.Errorf(fmt.Sprintf("services[%d]", i), "empty service reference"))
		}
	}
	if p.CORS != nil {
		errs = append(errs, field.Under("cors", p.CORS.Validate()))
	}
	if p.RateLimit != nil {
		errs = append(errs, field.Under("rateLimit", p.RateLimit.Validate()))
	}
	if p.JWT != nil {
		errs = append(errs, field.Under("jwt", p.JWT.Validate()))
	}
	if p.Canary != nil {
		errs = append(errs, field.Under("canary", p.Canary.Validate()))
	}
	if p.APIKey != nil {
		errs = append(errs, field.Under("apiKey", p.APIKey.Validate()))
	}
	if p.Retry != nil {
		errs = append(errs, field.Under("retry", p.Retry.Validate()))
	}
	if h := p.ClientAddressHeader; h != "" && (!headerNameRE.MatchString(h) || strings.EqualFold(h, "host")) {
		errs = append(errs, field.Errorf("clientAddressHeader", "%q is not a header name a policy may set", h))
	}
	return errors.Join(errs...)
}

// edge is the IR form of the policy, for a route of it, with the key sets of its JWT providers
// from keys and its store-held API key set from apiKeySets. It reads what the policy names
// outside the configuration (the API key file); on an error its routes are withheld, and code says which diagnostic reports it.
func (p Policy) edge(keys map[string]KeySet, apiKeySets map[string]string) (e *ir.EdgePolicy, code diag.Code, err error) {
	e = &ir.EdgePolicy{Name: p.Name}
	if h := strings.ToLower(p.ClientAddressHeader); h != "" {
		e.ClientAddressHeader = h
		e.IdentityHeaders = mergeHeaders(e.IdentityHeaders, []string{h})
	}
	if p.CORS != nil {
		e.CORS = p.CORS.ir()
	}
	if p.RateLimit != nil {
		e.RateLimit = p.RateLimit.ir()
	}
	if p.APIKey != nil {
		a, code, err := p.APIKey.edge(apiKeySets)
		if err != nil {
			return nil, code, field.Under("apiKey", err)
		}
		e.APIKey = a
		if a.ClientHeader != "" {
			e.IdentityHeaders = mergeHeaders(e.IdentityHeaders, []string{a.ClientHeader})
		}
	}
	if p.JWT != nil {
		j, err := p.JWT.ir(keys)
		if err != nil {
			return nil, diag.PolicyKeysUnavailable, fmt.Errorf("jwt: %w", err)
		}
		e.JWT = j
		e.IdentityHeaders = mergeHeaders(e.IdentityHeaders, p.JWT.identityHeaders())
	}
	return e, "", nil
}

// mergeHeaders is the sorted union of two header lists.
func mergeHeaders(a, b []string) []string {
	out := slices.Clone(a)
	for _, h := range b {
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	slices.Sort(out)
	return out
}

// RouteRetry is the retry policy route r gets under the policy (as Build gives it): its retry
// block's for the route's methods, else the one r has from upstreams:.
func (p Policy) RouteRetry(r ir.Route) *ir.RetryPolicy {
	if p.Retry == nil {
		return r.Retry
	}
	return p.Retry.forRoute(r.Retry, r.Match.Methods)
}

// ValidatePolicyReferences reports, for each rule that references a policy the list does not
// define, a field.Error at "<kind>[i].policy" (kind "routes" or "rpcRoutes"), and each policy
// name defined twice at "policies[i].name"; joined, nil when every reference resolves.
func ValidatePolicyReferences(policies []Policy, http []HTTPRule, rpc []RPCRule) error {
	var errs []error
	defined := map[string]int{}
	for i, p := range policies {
		if first, dup := defined[p.Name]; dup {
			errs = append(errs, field.Errorf(fmt.Sprintf("policies[%d].name", i), "policy %q is already defined by policies[%d]", p.Name, first))
			continue
		}
		defined[p.Name] = i
	}
	check := func(key, name string) {
		if _, ok := defined[name]; name != "" && !ok {
			errs = append(errs, field.Errorf(key, "no policy is named %q (policies: %v)", name, slices.Sorted(maps.Keys(defined))))
		}
	}
	for i, r := range http {
		check(fmt.Sprintf("routes[%d].policy", i), r.Policy)
	}
	for i, r := range rpc {
		check(fmt.Sprintf("rpcRoutes[%d].policy", i), r.Policy)
	}
	return errors.Join(errs...)
}

// applyPolicies gives each route its policy: the one its rule referenced (carried as a name-only
// ir.EdgePolicy), else the first policy whose services name the route's service. A route whose
// policy is not defined or is invalid is withheld (fail closed: it keeps its match and answers
// 503, so it is neither served without its policy nor left to a less specific route), each
// with a diagnostic.
func applyPolicies(routes []ir.Route, cat bridge.Catalog, policies []Policy, keys map[string]KeySet, apiKeySets map[string]string) ([]ir.Route, []diag.Diagnostic) {
	var ds []diag.Diagnostic
	byName := map[string]Policy{}
	edges := map[string]*ir.EdgePolicy{}
	invalid := map[string]bool{}
	byService := map[string]Policy{}
	for _, p := range policies {
		if _, dup := byName[p.Name]; dup || invalid[p.Name] {
			ds = append(ds, diagnostic(diag.PolicyInvalid, diag.Error, policySubject(p), fmt.Sprintf("policy %q is defined twice; both are ignored and their routes withheld", p.Name)))
			invalid[p.Name] = true
			delete(byName, p.Name)
			continue
		}
		if err := p.Validate(); err != nil {
			for _, fe := range field.List(err) {
				ds = append(ds, diagnostic(diag.PolicyInvalid, diag.Error, policySubject(p), fe.Error()+"; routes that use the policy are withheld"))
			}
			invalid[p.Name] = true
			continue
		}
		e, code, err := p.edge(keys, apiKeySets)
		if err != nil {
			for _, fe := range field.List(err) {
				ds = append(ds, diagnostic(code, diag.Error, policySubject(p), fe.Error()+"; routes that use the policy are withheld"))
			}
			invalid[p.Name] = true
			continue
		}
		if p.JWT != nil {
			for _, s := range p.JWT.stale(keys) {
				ds = append(ds, diagnostic(diag.PolicyKeysStale, diag.Warning, policySubject(p), s+"; the last good keys are kept"))
			}
		}
		byName[p.Name] = p
		edges[p.Name] = e
	}
	withheldService := map[string]string{}
	for _, p := range policies {
		_, ok := byName[p.Name]
		for _, ref := range p.Services {
			if !ok {
				if svc, err := findService(cat, ref); err == nil && withheldService[svc.ID] == "" {
					withheldService[svc.ID] = p.Name
				}
				continue
			}
			svc, err := findService(cat, ref)
			if err != nil {
				ds = append(ds, diagnostic(diag.PolicyUnknownService, diag.Warning, policySubject(p), err.Error()+"; the policy attaches to the services it finds"))
				continue
			}
			if _, taken := byService[svc.ID]; !taken {
				byService[svc.ID] = p
			}
		}
	}
	out := routes[:0:0]
	for _, r := range routes {
		switch {
		case r.Policy != nil:
			p, ok := byName[r.Policy.Name]
			if !ok {
				ds = append(ds, diagnostic(diag.PolicyUnknown, diag.Error, r.Name, fmt.Sprintf("the route's rule references policy %q, which is not defined or is invalid; the route is withheld", r.Policy.Name)))
				out = append(out, withhold(r, fmt.Sprintf("policy %q is not defined or is invalid", r.Policy.Name)))
				continue
			}
			r.Policy, r.Retry = edges[p.Name], p.RouteRetry(r)
		default:
			if p, ok := byService[r.Cluster]; ok {
				r.Policy, r.Retry = edges[p.Name], p.RouteRetry(r)
			} else if withheldService[r.Cluster] != "" {
				out = append(out, withhold(r, fmt.Sprintf("policy %q of its service is invalid", withheldService[r.Cluster])))
				continue
			}
		}
		forwardIdentity(&r)
		out = append(out, r)
	}
	return out, ds
}

// forwardIdentity adds the route's identity headers to its Dubbo attachments (gRPC providers get
// every request header as metadata already).
func forwardIdentity(r *ir.Route) {
	if r.Policy == nil || r.Dubbo == nil || slices.Contains(r.Dubbo.Attachments, "*") {
		return
	}
	dubbo := *r.Dubbo
	for _, h := range r.Policy.IdentityHeaders {
		if !slices.Contains(dubbo.Attachments, h) {
			dubbo.Attachments = append(slices.Clone(dubbo.Attachments), h)
		}
	}
	r.Dubbo = &dubbo
}

// policyReference is the placeholder a rule's candidate route carries until applyPolicies
// resolves it; nil when the rule names no policy.
func policyReference(name string) *ir.EdgePolicy {
	if name == "" {
		return nil
	}
	return &ir.EdgePolicy{Name: name}
}

// withhold is r kept for its match only, answering 503 with the reason (ir.Route.Withheld).
func withhold(r ir.Route, reason string) ir.Route {
	return ir.Route{Name: r.Name, Match: r.Match, Cluster: r.Cluster, Withheld: reason}
}

// policySubject names a policy in diagnostics: where it was written, else its name.
func policySubject(p Policy) string {
	if p.Origin != "" {
		return p.Origin
	}
	return fmt.Sprintf("policy %q", p.Name)
}
