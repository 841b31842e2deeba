package config

import (
	"fmt"
	"net"

	"github.com/rpcbridge/rpcbridge/admin/auth"
	"github.com/rpcbridge/rpcbridge/internal/field"
)

// validateAuth checks admin.auth and xds.auth, and that an admin API reachable from other hosts
// has tokens: without them anyone who reaches the port could replace or delete the IDL.
func (c *Config) validateAuth() []Problem {
	var ps []Problem
	for _, e := range []struct {
		key string
		err error
	}{{"admin.auth", c.Admin.Auth.Validate()}, {"xds.auth", c.XDS.Auth.Validate()}} {
		for _, p := range field.List(field.Under(e.key, e.err)) {
			ps = append(ps, Problem{Key: p.Path, Message: p.Err.Error()})
		}
	}
	for i, mc := range c.Discovery.MetadataCenters {
		if err := mc.Digest.Validate(); err != nil {
			ps = append(ps, Problem{Key: fmt.Sprintf("discovery.metadataCenters[%d].digest", i), Message: err.Error()})
		}
	}
	if host, _, err := net.SplitHostPort(c.Admin.Listen); err == nil && !auth.Loopback(host) && !c.Admin.Auth.On() {
		ps = append(ps, Problem{Key: "admin.listen", Message: "admin.listen " + c.Admin.Listen +
			" is reachable from other hosts: set admin.auth.tokens (docs/security.md) or listen on a loopback address"})
	}
	return ps
}
