package transcoding

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/rpcbridge/rpcbridge/bridge"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/httprule"
	"github.com/rpcbridge/rpcbridge/registries"
)

// candidate is a route before conflicts are resolved, with where it came from.
type candidate struct {
	origin string
	route  ir.Route
	// tmpl is the parsed Match.PathTemplate, when set.
	tmpl httprule.Template
}

// ruleRoutes turns the user's HTTP rules into candidate routes, marking every service a rule
// exposes in exposed.
func ruleRoutes(cat bridge.Catalog, rules Rules, exposed map[string]bool) ([]candidate, []diag.Diagnostic) {
	var out []candidate
	var ds []diag.Diagnostic
	for _, r := range rules.HTTP {
		svc, err := findService(cat, r.Service)
		if err != nil {
			ds = append(ds, diagnostic(diag.RuleUnknownService, diag.Error, r.Origin, err.Error()+"; the rule is skipped"))
			continue
		}
		if svc.Protocol != registries.ProtocolHTTP {
			ds = append(ds, diagnostic(diag.RuleWrongProtocol, diag.Error, r.Origin, fmt.Sprintf(
				"service %s speaks %s; plain HTTP rules route only http services (RPC services get routes from their IDL); the rule is skipped", svc.ID, svc.Protocol)))
			continue
		}
		exposed[svc.ID] = true
		route := ir.Route{
			Match:   ir.Match{PathPrefix: r.PathPrefix, Path: r.Path, Methods: slices.Sorted(slices.Values(r.Methods))},
			Cluster: svc.ID,
			Timeout: rules.DefaultTimeout.Std(),
		}
		route.Match.Methods = slices.Compact(route.Match.Methods)
		if r.RewritePrefix != nil {
			route.PrefixRewrite = *r.RewritePrefix
		}
		if r.Timeout != nil {
			route.Timeout = r.Timeout.Std()
		}
		route.Policy = policyReference(r.Policy)
		out = append(out, candidate{origin: r.Origin, route: route})
	}
	return out, ds
}

// findService resolves a rule's service reference: an exact ID, or a name that only one service
// has.
func findService(cat bridge.Catalog, ref string) (bridge.Service, error) {
	var byName []bridge.Service
	for _, s := range cat.Services {
		if s.ID == ref {
			return s, nil
		}
		if s.Name == ref {
			byName = append(byName, s)
		}
	}
	switch len(byName) {
	case 0:
		return bridge.Service{}, fmt.Errorf("no service %q in the catalog", ref)
	case 1:
		return byName[0], nil
	default:
		ids := make([]string, len(byName))
		for i, s := range byName {
			ids[i] = s.ID
		}
		return bridge.Service{}, fmt.Errorf("service name %q is ambiguous (%s): use the service ID", ref, strings.Join(ids, ", "))
	}
}

// resolveConflicts orders the candidates, names them, and drops every pair that claims the same
// requests (same path, prefix or normalized template with overlapping methods), reporting both.
// A route of a retained service (retained: by service ID; it left every registry and only keeps
// its routes to answer 503) yields to a live service's instead: a service that moved to another
// identity (a new version or group, an application-level placeholder resolved to its real
// interface) serves at once, and the route it replaces is reported.
func resolveConflicts(cs []candidate, retained map[string]bool) ([]ir.Route, []diag.Diagnostic) {
	slices.SortStableFunc(cs, compareCandidates)
	drop := make([]bool, len(cs))
	var ds []diag.Diagnostic
	for i := range cs {
		for j := i + 1; j < len(cs) && sameMatchPath(cs[i], cs[j]); j++ {
			if !methodsOverlap(cs[i].route.Match.Methods, cs[j].route.Match.Methods) {
				continue
			}
			if ri, rj := retained[cs[i].route.Cluster], retained[cs[j].route.Cluster]; ri != rj {
				gone, live := i, j
				if rj {
					gone, live = j, i
				}
				drop[gone] = true
				ds = append(ds, diagnostic(diag.RouteConflict, diag.Info, matchKey(cs[gone].route.Match), fmt.Sprintf(
					"%s and %s claim the same requests; the first is of a retained service (no registry lists it), so the second is served", cs[gone].origin, cs[live].origin)))
				continue
			}
			drop[i], drop[j] = true, true
			ds = append(ds, diagnostic(diag.RouteConflict, diag.Error, matchKey(cs[i].route.Match), fmt.Sprintf(
				"%s and %s claim the same requests; neither is served until one changes", cs[i].origin, cs[j].origin)))
		}
	}
	var routes []ir.Route
	for i, c := range cs {
		if drop[i] {
			continue
		}
		c.route.Name = c.route.Cluster + " " + matchKey(c.route.Match)
		routes = append(routes, c.route)
	}
	return routes, ds
}

// matchClass ranks exact paths first, then templates, then prefixes.
func matchClass(m ir.Match) int {
	switch {
	case m.Path != "":
		return 0
	case m.PathTemplate != "":
		return 1
	}
	return 2
}

// compareCandidates orders exact paths first, then templates from the most specific (see
// httprule.Compare), then longer prefixes before shorter ones; on the same path, template or
// prefix, method-restricted routes come before catch-all ones, then routes sort by cluster.
func compareCandidates(a, b candidate) int {
	am, bm := a.route.Match, b.route.Match
	if c := cmp.Compare(matchClass(am), matchClass(bm)); c != 0 {
		return c
	}
	var byPath int
	if matchClass(am) == 1 {
		byPath = httprule.Compare(&a.tmpl, &b.tmpl)
	} else {
		byPath = cmp.Or(-cmp.Compare(len(am.PathPrefix), len(bm.PathPrefix)),
			cmp.Compare(am.Path+am.PathPrefix, bm.Path+bm.PathPrefix))
	}
	return cmp.Or(
		byPath,
		-cmp.Compare(len(am.Methods), len(bm.Methods)),
		cmp.Compare(joinMethods(am.Methods), joinMethods(bm.Methods)),
		cmp.Compare(a.route.Cluster, b.route.Cluster),
		cmp.Compare(am.PathTemplate, bm.PathTemplate),
	)
}

// sameMatchPath reports whether two candidates select the same paths: equal exact paths, equal
// prefixes, or templates equal once variables are replaced by their patterns.
func sameMatchPath(a, b candidate) bool {
	am, bm := a.route.Match, b.route.Match
	if matchClass(am) != matchClass(bm) {
		return false
	}
	if matchClass(am) == 1 {
		return a.tmpl.Normalized() == b.tmpl.Normalized()
	}
	return am.Path == bm.Path && am.PathPrefix == bm.PathPrefix
}

// methodsOverlap reports whether two routes on the same path claim the same requests: both
// take every method, or their method lists share one. A method-restricted route beside a
// catch-all one is no conflict: the restricted one is ordered first, as the more specific.
func methodsOverlap(a, b []string) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	for _, m := range a {
		if slices.Contains(b, m) {
			return true
		}
	}
	return false
}

// matchKey renders a match as "prefix:/a/ GET,POST", "path:/a *" or "template:/a/{b} GET".
func matchKey(m ir.Match) string {
	switch matchClass(m) {
	case 0:
		return "path:" + m.Path + " " + joinMethods(m.Methods)
	case 1:
		return "template:" + m.PathTemplate + " " + joinMethods(m.Methods)
	}
	return "prefix:" + m.PathPrefix + " " + joinMethods(m.Methods)
}
