package config

import (
	"github.com/rpcbridge/rpcbridge/internal/field"
	"github.com/rpcbridge/rpcbridge/internal/tlsfiles"
)

// validateTLS reports the problems of the listeners' TLS blocks (tlsfiles.Server validates
// itself; this puts its problems under each block's key).
func (c *Config) validateTLS() []Problem {
	var ps []Problem
	for _, b := range []struct {
		key string
		tls tlsfiles.Server
	}{{"xds.tls", c.XDS.TLS}, {"gateway.tls", c.Gateway.TLS}, {"admin.tls", c.Admin.TLS}} {
		for _, p := range field.List(field.Under(b.key, b.tls.Validate())) {
			ps = append(ps, Problem{Key: p.Path, Message: p.Err.Error()})
		}
	}
	return ps
}
