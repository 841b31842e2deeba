package consul

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rpcbridge/rpcbridge/internal/secret"
	"github.com/rpcbridge/rpcbridge/internal/yamltime"
	"github.com/rpcbridge/rpcbridge/registries"
)

// Defaults for the optional Config fields.
const (
	DefaultAddress         = "127.0.0.1:8500"
	DefaultScheme          = "http"
	DefaultWait            = 30 * time.Second
	DefaultDebounce        = 100 * time.Millisecond
	DefaultProtocolMetaKey = "protocol"
	DefaultProtocol        = registries.ProtocolHTTP
)

// The places a service's protocol can be read from, the values of Config.Precedence.
const (
	// FromMeta reads the service metadata entry named by Config.ProtocolMetaKey.
	FromMeta = "meta"
	// FromTags reads the first service tag that names a protocol (see registries.ParseProtocol).
	FromTags = "tags"
	// FromTaggedAddresses looks for a "grpc", then an "http" tagged address.
	FromTaggedAddresses = "taggedAddresses"
	// FromDefault is Config.DefaultProtocol; it ends the list.
	FromDefault = "default"
)

// DefaultPrecedence is the order in which protocol sources are asked when none is configured.
var DefaultPrecedence = []string{FromMeta, FromTags, FromTaggedAddresses, FromDefault}

// Config configures one Consul registry.
type Config struct {
	// Address is the Consul agent's HTTP API "host:port".
	Address string `yaml:"address" json:"address"`
	// Datacenter is the datacenter to read; empty means the agent's own.
	Datacenter string `yaml:"datacenter" json:"datacenter"`
	// Token is where the ACL token sent with every request is read from ({file: PATH} or
	// {env: NAME}, never the token itself); unset means the agent's default (or the
	// CONSUL_HTTP_TOKEN environment variable, as the Consul client library reads it).
	Token secret.Ref `yaml:"token" json:"token"`
	// Scheme is "http" or "https".
	Scheme string `yaml:"scheme" json:"scheme"`
	// TLS configures HTTPS to the agent (scheme: https): the CA to trust, a client certificate.
	TLS TLSConfig `yaml:"tls" json:"tls"`
	// Wait is how long one blocking query may wait for a change.
	Wait yamltime.Duration `yaml:"wait" json:"wait"`
	// Debounce is how long to let a burst of changes settle before publishing.
	Debounce yamltime.Duration `yaml:"debounce" json:"debounce"`
	// ProtocolMetaKey is the service metadata key that names the protocol.
	ProtocolMetaKey string `yaml:"protocolMetaKey" json:"protocolMetaKey"`
	// Precedence is the order in which a service's protocol sources are asked: "meta" (the
	// ProtocolMetaKey entry), "tags", "taggedAddresses" ("grpc", then "http"), "default"
	// (DefaultProtocol, implied at the end): FromMeta, FromTags, FromTaggedAddresses, FromDefault.
	Precedence []string `yaml:"precedence" json:"precedence"`
	// DefaultProtocol is the protocol of instances that no other source names.
	DefaultProtocol registries.Protocol `yaml:"defaultProtocol" json:"defaultProtocol"`
}

// TLSConfig is the TLS side of the connection to the agent.
type TLSConfig struct {
	// CAFile is the PEM bundle of CAs that sign the agent's certificate (default: the system's).
	CAFile string `yaml:"caFile" json:"caFile"`
	// CertFile is a PEM client certificate, for agents that verify incoming connections
	// (verify_incoming); KeyFile is its key.
	CertFile string `yaml:"certFile" json:"certFile"`
	// KeyFile is the PEM key of CertFile.
	KeyFile string `yaml:"keyFile" json:"keyFile"`
	// ServerName is the name to verify the agent's certificate against (default: the host of
	// Address).
	ServerName string `yaml:"serverName" json:"serverName"`
}

func (t TLSConfig) set() bool { return t != TLSConfig{} }

// Validate reports the first problem of c, as New would; nil means New accepts it.
func (c Config) Validate() error {
	_, err := c.withDefaults()
	return err
}

// Defaults returns c with every unset optional field set to its default, checking nothing. It
// is the one place that applies the defaults: New uses it, and docs/configuration.md shows
// what it sets.
func (c Config) Defaults() Config {
	c.Address = strings.TrimSpace(c.Address)
	if c.Address == "" {
		c.Address = DefaultAddress
	}
	if c.Scheme == "" {
		c.Scheme = DefaultScheme
	}
	c.Wait = yamltime.Duration(c.Wait.Or(DefaultWait))
	c.Debounce = yamltime.Duration(c.Debounce.Or(DefaultDebounce))
	if c.ProtocolMetaKey == "" {
		c.ProtocolMetaKey = DefaultProtocolMetaKey
	}
	if c.DefaultProtocol == "" {
		c.DefaultProtocol = DefaultProtocol
	}
	if len(c.Precedence) == 0 {
		c.Precedence = slices.Clone(DefaultPrecedence)
	}
	return c
}

// withDefaults fills unset fields and checks the result.
func (c Config) withDefaults() (Config, error) {
	c = c.Defaults()
	if c.Scheme != "http" && c.Scheme != "https" {
		return c, fmt.Errorf("consul: scheme %q: want http or https", c.Scheme)
	}
	if c.TLS.set() && c.Scheme != "https" {
		return c, errors.New("consul: tls is set: set scheme: https too")
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		return c, errors.New("consul: tls: certFile and keyFile go together")
	}
	if err := c.Token.Validate(); err != nil {
		return c, fmt.Errorf("consul: token: %w", err)
	}
	if c.Wait < 0 || c.Debounce < 0 {
		return c, errors.New("consul: wait and debounce must not be negative")
	}
	if !c.DefaultProtocol.Valid() {
		return c, fmt.Errorf("consul: defaultProtocol %q: want http, grpc, triple or dubbo", c.DefaultProtocol)
	}
	precedence, err := checkPrecedence(c.Precedence)
	if err != nil {
		return c, err
	}
	c.Precedence = precedence
	return c, nil
}

// checkPrecedence validates a precedence list and ends it with FromDefault.
func checkPrecedence(list []string) ([]string, error) {
	if len(list) == 0 {
		return slices.Clone(DefaultPrecedence), nil
	}
	out := make([]string, 0, len(list)+1)
	for i, p := range list {
		switch p {
		case FromMeta, FromTags, FromTaggedAddresses, FromDefault:
		default:
			return nil, fmt.Errorf("consul: precedence entry %q: want %s, %s, %s or %s",
				p, FromMeta, FromTags, FromTaggedAddresses, FromDefault)
		}
		if slices.Contains(out, p) {
			return nil, fmt.Errorf("consul: precedence lists %q twice", p)
		}
		if p == FromDefault && i != len(list)-1 {
			return nil, fmt.Errorf("consul: precedence: %q must come last", FromDefault)
		}
		out = append(out, p)
	}
	if out[len(out)-1] != FromDefault {
		out = append(out, FromDefault)
	}
	return out, nil
}
