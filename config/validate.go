package config

import (
	"fmt"
	"net"
	"path"
	"regexp"

	"github.com/rpcbridge/rpcbridge/internal/field"
	"github.com/rpcbridge/rpcbridge/transcoding"
)

var registryNameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// validate reports every invalid value; Problem.Key is set, File and Line are filled in by Parse.
// The parts that embed another package's type (rules, registry blocks) ask that type's Validate.
func (c *Config) validate() []Problem {
	var ps []Problem
	add := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
	}
	addErr := func(key string, err error) {
		for _, p := range field.List(field.Under(key, err)) {
			ps = append(ps, Problem{Key: p.Path, Message: p.Err.Error()})
		}
	}
	for _, l := range []struct{ key, addr string }{
		{"xds.listen", c.XDS.Listen}, {"gateway.listen", c.Gateway.Listen}, {"admin.listen", c.Admin.Listen},
	} {
		if _, _, err := net.SplitHostPort(l.addr); err != nil {
			add(l.key, "%q is not a host:port address", l.addr)
		}
	}
	ps = append(ps, c.validateAuth()...)
	ps = append(ps, c.validateTLS()...)
	c.Admin.Uploads.validate(add)
	ps = append(ps, c.Gateway.Forwarding.validate("gateway.forwarding")...)
	c.Admin.Limits.validate(add)
	c.Gateway.Limits.validate(add)
	c.Gateway.Dubbo.validate(add)
	c.Gateway.MCP.validate(add)
	addErr("gateway.accessLog", c.Gateway.AccessLog.Validate())
	addErr("telemetry.tracing", c.Telemetry.Tracing.Validate())
	if c.Envoy.HTTPPort > 65535 {
		add("envoy.httpPort", "port %d is not in 1..65535", c.Envoy.HTTPPort)
	}
	if c.Envoy.DubboPort > 65535 {
		add("envoy.dubboPort", "port %d is not in 1..65535", c.Envoy.DubboPort)
	}
	if err := c.Envoy.Flavor.Validate(); err != nil {
		add("envoy.flavor", "%v", err)
	}
	addErr("envoy.dubboGateways", c.Envoy.DubboGateways.Validate())
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
		for _, l := range []struct {
			key   string
			globs []string
		}{{"include", r.Include}, {"exclude", r.Exclude}} {
			for j, g := range l.globs {
				if _, err := path.Match(g, ""); err != nil {
					add(fmt.Sprintf("%s.%s[%d]", at, l.key, j), "bad glob %q: %v", g, err)
				}
			}
		}
		addErr(at, r.validateType())
	}
	for i, rt := range c.Routes {
		addErr(fmt.Sprintf("routes[%d]", i), rt.Validate())
	}
	for i, rr := range c.RPCRoutes {
		addErr(fmt.Sprintf("rpcRoutes[%d]", i), rr.Validate())
	}
	for i, p := range c.Policies {
		addErr(fmt.Sprintf("policies[%d]", i), p.Validate())
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
	c.Store.validate(addErr)
	return ps
}

// validateReferences reports the route rules' references to policies the file does not define,
// and policies defined twice.
func (c *Config) validateReferences() []Problem {
	var ps []Problem
	for _, p := range field.List(transcoding.ValidatePolicyReferences(c.Policies, c.Routes, c.RPCRoutes)) {
		ps = append(ps, Problem{Key: p.Path, Message: p.Err.Error()})
	}
	return ps
}
