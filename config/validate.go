package config

import (
	"fmt"
	"net"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/rpcbridge/rpcbridge/registries/consul"
	"github.com/rpcbridge/rpcbridge/registries/nacos"
	"github.com/rpcbridge/rpcbridge/registries/zookeeper"
)

var (
	registryNameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	httpMethodRE   = regexp.MustCompile(`^[A-Z]+$`)
)

// validate reports every invalid value; Problem.Key is set, File and Line are filled in by Parse.
func (c *Config) validate() []Problem {
	var ps []Problem
	add := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
	}
	for _, l := range []struct{ key, addr string }{
		{"xds.listen", c.XDS.Listen}, {"gateway.listen", c.Gateway.Listen}, {"admin.listen", c.Admin.Listen},
	} {
		if _, _, err := net.SplitHostPort(l.addr); err != nil {
			add(l.key, "%q is not a host:port address", l.addr)
		}
	}
	if c.Envoy.HTTPPort > 65535 {
		add("envoy.httpPort", "port %d is not in 1..65535", c.Envoy.HTTPPort)
	}
	if c.Envoy.DubboPort > 65535 {
		add("envoy.dubboPort", "port %d is not in 1..65535", c.Envoy.DubboPort)
	}
	if c.Envoy.Flavor != "envoy" && c.Envoy.Flavor != "higress" {
		add("envoy.flavor", "flavor %q is not one of envoy, higress", c.Envoy.Flavor)
	}
	names := map[string]int{}
	for i, r := range c.Registries {
		at := fmt.Sprintf("registries[%d]", i)
		if !registryNameRE.MatchString(r.Name) {
			add(at+".name", "registry name %q must be lower-case letters, digits and dashes", r.Name)
		}
		if first, dup := names[r.Name]; dup {
			add(at+".name", "registry %q is already defined at registries[%d]", r.Name, first)
		}
		names[r.Name] = i
		for j, g := range append(append([]string{}, r.Include...), r.Exclude...) {
			if _, err := path.Match(g, ""); err != nil {
				add(fmt.Sprintf("%s.include/exclude[%d]", at, j), "bad glob %q: %v", g, err)
			}
		}
		ps = append(ps, validateRegistryType(at, r)...)
	}
	for i, rt := range c.Routes {
		at := fmt.Sprintf("routes[%d]", i)
		if strings.TrimSpace(rt.Service) == "" {
			add(at+".service", "route names no service")
		}
		switch {
		case rt.PathPrefix == "" && rt.Path == "":
			add(at, "route needs pathPrefix or path")
		case rt.PathPrefix != "" && rt.Path != "":
			add(at+".path", "pathPrefix and path are exclusive")
		case rt.PathPrefix != "" && !strings.HasPrefix(rt.PathPrefix, "/"):
			add(at+".pathPrefix", "%q must start with /", rt.PathPrefix)
		case rt.Path != "" && !strings.HasPrefix(rt.Path, "/"):
			add(at+".path", "%q must start with /", rt.Path)
		}
		if rt.RewritePrefix != nil && rt.PathPrefix == "" {
			add(at+".rewritePrefix", "rewritePrefix needs pathPrefix")
		}
		for j, m := range rt.Methods {
			if !httpMethodRE.MatchString(m) {
				add(fmt.Sprintf("%s.methods[%d]", at, j), "%q is not an upper-case HTTP method", m)
			}
		}
	}
	for i, rr := range c.RPCRoutes {
		at := fmt.Sprintf("rpcRoutes[%d]", i)
		if strings.TrimSpace(rr.Service) == "" {
			add(at+".service", "rpc route names no service")
		}
		if strings.TrimSpace(rr.Method) == "" {
			add(at+".method", "rpc route names no method")
		}
		if !httpMethodRE.MatchString(rr.HTTP.Method) {
			add(at+".http.method", "%q is not an upper-case HTTP method", rr.HTTP.Method)
		}
		if !strings.HasPrefix(rr.HTTP.Path, "/") {
			add(at+".http.path", "path template %q must start with /", rr.HTTP.Path)
		}
		for j, p := range rr.Params {
			switch p.From {
			case "path", "query", "header", "body", "wholeBody":
			default:
				add(fmt.Sprintf("%s.params[%d].from", at, j), "%q is not one of path, query, header, body, wholeBody", p.From)
			}
			if p.Arg == "" {
				add(fmt.Sprintf("%s.params[%d].arg", at, j), "the argument is not named")
			}
		}
	}
	for i, g := range c.Discovery.Reflection.Include {
		if _, err := path.Match(g, ""); err != nil {
			add(fmt.Sprintf("discovery.reflection.include[%d]", i), "bad glob %q: %v", g, err)
		}
	}
	for i, mc := range c.Discovery.MetadataCenters {
		if len(mc.Servers) == 0 {
			add(fmt.Sprintf("discovery.metadataCenters[%d].servers", i), "a metadata center needs its ZooKeeper servers")
		}
	}
	ps = append(ps, validateUpstreams(c.Upstreams)...)
	return ps
}

// registryTypes lists the registry types and the key of each one's block.
var registryTypes = "static, zookeeper, nacos, consul"

// validateRegistryType checks that exactly the block the type names is set, and its contents.
func validateRegistryType(at string, r RegistryConfig) []Problem {
	var ps []Problem
	add := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
	}
	blocks := map[string]bool{"static": r.Static != nil, "zookeeper": r.ZooKeeper != nil, "nacos": r.Nacos != nil, "consul": r.Consul != nil}
	_, known := blocks[r.Type]
	for block, set := range blocks {
		if known && set && block != r.Type {
			add(at+"."+block, "a %s block in a registry of type %q", block, r.Type)
		}
	}
	switch r.Type {
	case "static":
		if r.Static == nil {
			add(at+".static", "a static registry needs a static: block with its services")
			break
		}
		for _, p := range r.Static.Validate() {
			add(at+".static."+p.Path, "%s", p.Message)
		}
	case "zookeeper":
		if r.ZooKeeper == nil {
			add(at+".zookeeper", "a zookeeper registry needs a zookeeper: block with its servers")
			break
		}
		if _, err := zookeeper.New(r.Name, *r.ZooKeeper, nil); err != nil {
			add(at+".zookeeper", "%v", err)
		}
	case "nacos":
		if r.Nacos == nil {
			add(at+".nacos", "a nacos registry needs a nacos: block with its servers")
			break
		}
		if _, err := nacos.New(r.Name, *r.Nacos, nil); err != nil {
			add(at+".nacos", "%v", err)
		}
	case "consul":
		if r.Consul == nil {
			add(at+".consul", "a consul registry needs a consul: block (address, datacenter, ...)")
			break
		}
		if _, err := consul.New(r.Name, *r.Consul, nil); err != nil {
			add(at+".consul", "%v", err)
		}
	case "":
		add(at+".type", "registry type is missing (one of: %s)", registryTypes)
	default:
		add(at+".type", "unknown registry type %q (one of: %s)", r.Type, registryTypes)
	}
	slices.SortFunc(ps, func(a, b Problem) int { return strings.Compare(a.Key, b.Key) })
	return ps
}
