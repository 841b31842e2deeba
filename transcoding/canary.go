package transcoding

// Canary and Dubbo tag routing as plain clusters and routes (ir/canary.go): a subset cluster per
// (service, subset) holding the service's endpoints whose labels match, with the service's
// policies; header- and cookie-matched copies of the route placed just before it, sending to the
// subset; the route itself split by weight between the rest of the endpoints and the subset.
// Everything is computed from the catalog, so a provider that comes or goes (or changes its
// tag) changes the subsets and routes with the next build.

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/diag"
)

// subsets collects the subset clusters the routes use, each once.
type subsets struct {
	parents map[string]ir.Cluster
	added   map[string]ir.Cluster
}

// subset returns the subset cluster of parent named parent~suffix with the endpoints keep
// accepts, adding it once.
func (s *subsets) subset(parent ir.Cluster, suffix, selector string, keep func(ir.Endpoint) bool) ir.Cluster {
	name := parent.Name + "~" + suffix
	if c, ok := s.added[name]; ok {
		return c
	}
	c := parent
	c.Name, c.Subset, c.Endpoints = name, &ir.Subset{Parent: parent.Name, Selector: selector}, []ir.Endpoint{}
	for _, ep := range parent.Endpoints {
		if keep(ep) {
			c.Endpoints = append(c.Endpoints, ep)
		}
	}
	s.added[name] = c
	return c
}

// applyCanaries expands every route whose policy has a canary block, and adds the subset
// clusters they use to g.
func applyCanaries(g *ir.Gateway, policies []Policy) []diag.Diagnostic {
	canaries := map[string]*Canary{}
	for _, p := range policies {
		if _, seen := canaries[p.Name]; !seen {
			canaries[p.Name] = p.Canary
		}
	}
	s := &subsets{parents: map[string]ir.Cluster{}, added: map[string]ir.Cluster{}}
	for _, c := range g.Clusters {
		s.parents[c.Name] = c
	}
	var ds []diag.Diagnostic
	inactive := map[string]bool{}
	report := func(subject, msg string) {
		if !inactive[subject+msg] {
			inactive[subject+msg] = true
			ds = append(ds, diagnostic(diag.PolicyCanaryInactive, diag.Warning, subject, msg))
		}
	}
	var out []ir.Route
	for _, r := range g.Routes {
		var c *Canary
		if r.Policy != nil && r.Withheld == "" {
			c = canaries[r.Policy.Name]
		}
		parent, ok := s.parents[r.Cluster]
		switch {
		case c == nil || !ok:
			out = append(out, r)
		case c.DubboTag != nil:
			out = append(out, s.dubboTagRoutes(r, parent, *c.DubboTag)...)
		default:
			routes, msg := s.canaryRoutes(r, parent, *c)
			if msg != "" {
				report(fmt.Sprintf("policy %q on %s", r.Policy.Name, r.Cluster), msg)
			}
			out = append(out, routes...)
		}
	}
	g.Routes = out
	for _, name := range slices.Sorted(maps.Keys(s.added)) {
		g.Clusters = append(g.Clusters, s.added[name])
	}
	return ds
}

// canaryRoutes are r's header and cookie routes to the subset, then r split by weight; msg
// says why the weight split is inactive, if it is.
func (s *subsets) canaryRoutes(r ir.Route, parent ir.Cluster, c Canary) (routes []ir.Route, msg string) {
	key := selectorKey(c.Subset)
	sub := s.subset(parent, key, key, func(ep ir.Endpoint) bool { return inSubset(ep, c.Subset) })
	if len(sub.Endpoints) == 0 {
		msg = fmt.Sprintf("no endpoint has the labels %s: requests that the header or cookie selects are answered 503, the others stay on the whole service", key)
	}
	if h := c.Header; h != nil {
		routes = append(routes, to(r, " canary-header", sub.Name, ir.HeaderMatch{Name: strings.ToLower(h.Name), Exact: h.Value}))
	}
	if k := c.Cookie; k != nil {
		routes = append(routes, to(r, " canary-cookie", sub.Name, ir.HeaderMatch{Name: "cookie", Regex: cookieRegex(k.Name, k.Value)}))
	}
	switch {
	case c.Weight == 0 || len(sub.Endpoints) == 0:
	case c.Weight == 100:
		r.WeightedClusters = []ir.ClusterWeight{{Cluster: sub.Name, Weight: 1}}
	default:
		rest := s.subset(parent, "!"+key, "not "+key, func(ep ir.Endpoint) bool { return !inSubset(ep, c.Subset) })
		if len(rest.Endpoints) == 0 {
			msg = fmt.Sprintf("every endpoint has the labels %s: the weight split is inactive", key)
			break
		}
		r.WeightedClusters = []ir.ClusterWeight{
			{Cluster: rest.Name, Weight: uint32(100 - c.Weight)},
			{Cluster: sub.Name, Weight: uint32(c.Weight)},
		}
	}
	return append(routes, r), msg
}

// dubboTagRoutes is Dubbo's static tag routing (TagStateRouter.filterUsingStaticTag, and
// dubbo-go's tag router): a request tagged T goes to the providers tagged T; when none is,
// to the untagged providers, unless the request forces its tag (dubbo.force.tag), which then
// finds no provider (503); an untagged request goes to the untagged providers only. In routes:
// one per tag the providers have (tag header = T → the T subset), one for forced tags of no
// provider (→ an empty subset), and r itself to the untagged subset.
func (s *subsets) dubboTagRoutes(r ir.Route, parent ir.Cluster, t DubboTagRouting) []ir.Route {
	tagHeader, forceHeader := t.headers()
	forwardTag(&r, map[string]string{tagHeader: DubboTagLabel, forceHeader: dubboForceTagAttachment})
	tags := map[string]bool{}
	for _, ep := range parent.Endpoints {
		if tag := ep.Labels[DubboTagLabel]; tag != "" && !strings.ContainsAny(tag, "\x00\r\n") {
			tags[tag] = true
		}
	}
	var routes []ir.Route
	for _, tag := range slices.Sorted(maps.Keys(tags)) {
		sub := s.subset(parent, DubboTagLabel+"="+tag, DubboTagLabel+"="+tag, func(ep ir.Endpoint) bool { return ep.Labels[DubboTagLabel] == tag })
		routes = append(routes, to(r, " "+DubboTagLabel+"="+tag, sub.Name, ir.HeaderMatch{Name: tagHeader, Exact: tag}))
	}
	// Dubbo reads the flag with Boolean.parseBoolean: "true" in any case; a request without it
	// has the consumer's default.
	force := ir.HeaderMatch{Name: forceHeader, Exact: "true", IgnoreCase: true}
	if t.Force {
		force = ir.HeaderMatch{Name: forceHeader, Regex: "(?i:true)?", MissingAsEmpty: true}
	}
	none := s.subset(parent, DubboTagLabel+"!forced", "none", func(ir.Endpoint) bool { return false })
	routes = append(routes, to(r, " "+DubboTagLabel+"-forced", none.Name, ir.HeaderMatch{Name: tagHeader, Regex: ".+"}, force))
	untagged := s.subset(parent, DubboTagLabel+"=", DubboTagLabel+"=", func(ep ir.Endpoint) bool { return ep.Labels[DubboTagLabel] == "" })
	r.WeightedClusters = []ir.ClusterWeight{{Cluster: untagged.Name, Weight: 1}}
	return append(routes, r)
}

// dubboForceTagAttachment is the Dubbo attachment of the force flag (Dubbo's FORCE_USE_TAG).
const dubboForceTagAttachment = "dubbo.force.tag"

// forwardTag has a Dubbo route forward the tag routing headers as the Dubbo attachments of
// their names (names: header → attachment), so that the provider sees the request's tag as a
// Dubbo consumer would send it (and passes it on along the call chain).
func forwardTag(r *ir.Route, names map[string]string) {
	if r.Dubbo == nil {
		return
	}
	d := *r.Dubbo
	d.AttachmentNames = maps.Clone(d.AttachmentNames)
	if d.AttachmentNames == nil {
		d.AttachmentNames = map[string]string{}
	}
	for _, h := range slices.Sorted(maps.Keys(names)) {
		d.AttachmentNames[h] = names[h]
		if !slices.Contains(d.Attachments, "*") && !slices.Contains(d.Attachments, h) {
			d.Attachments = append(slices.Clone(d.Attachments), h)
		}
	}
	r.Dubbo = &d
}

// to is a copy of r, named r's name + suffix, that also requires the header conditions and
// sends everything to cluster.
func to(r ir.Route, suffix, cluster string, hs ...ir.HeaderMatch) ir.Route {
	out := r
	out.Name += suffix
	out.Match.Headers = append(slices.Clone(r.Match.Headers), hs...)
	out.WeightedClusters = []ir.ClusterWeight{{Cluster: cluster, Weight: 1}}
	return out
}

// cookieRegex matches a Cookie header (RFC 6265 cookie-pairs separated by "; ", or by "," when
// the header was repeated) that holds name=value.
func cookieRegex(name, value string) string {
	return `(.*[;,]\s*)?` + regexp.QuoteMeta(name) + `=` + regexp.QuoteMeta(value) + `(\s*[;,].*)?`
}

// selectorKey renders a subset's labels: "k=v" sorted by key, comma-joined.
func selectorKey(sel map[string]string) string {
	parts := make([]string, 0, len(sel))
	for _, k := range slices.Sorted(maps.Keys(sel)) {
		parts = append(parts, k+"="+sel[k])
	}
	return strings.Join(parts, ",")
}

// inSubset reports whether ep has every label of sel. "tags" matches one of the endpoint's
// comma-joined tags (Consul); "zone" and "region" fall back to the endpoint's locality.
func inSubset(ep ir.Endpoint, sel map[string]string) bool {
	for k, want := range sel {
		have, ok := ep.Labels[k]
		if !ok {
			switch k {
			case "zone":
				have = ep.Zone
			case "region":
				have = ep.Region
			}
		}
		if k == "tags" {
			if !slices.Contains(strings.Split(have, ","), want) {
				return false
			}
			continue
		}
		if have != want {
			return false
		}
	}
	return true
}
