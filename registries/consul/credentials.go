package consul

import "github.com/hashicorp/consul/api"

// apiConfig is the Consul client configuration of the source: address, datacenter, the ACL
// token read at New and the TLS files (the client library loads them).
func (s *Source) apiConfig() *api.Config {
	return &api.Config{Address: s.cfg.Address, Scheme: s.cfg.Scheme, Datacenter: s.cfg.Datacenter, Token: s.token,
		TLSConfig: api.TLSConfig{Address: s.cfg.TLS.ServerName, CAFile: s.cfg.TLS.CAFile,
			CertFile: s.cfg.TLS.CertFile, KeyFile: s.cfg.TLS.KeyFile}}
}
