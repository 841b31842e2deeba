package consul

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rpcbridge/rpcbridge/internal/secret"
	"github.com/rpcbridge/rpcbridge/internal/yamltime"
)

// Defaults for the optional Config fields.
const (
	DefaultAddress        = "127.0.0.1:8500"
	DefaultRoot           = "rpcbridge/store"
	DefaultWait           = 30 * time.Second
	DefaultRequestTimeout = 10 * time.Second
	// DefaultChunkSize is half of Consul's default kv_max_value_size (512 KiB).
	DefaultChunkSize = 256 << 10
	// MaxChunkSize stays below kv_max_value_size's default.
	MaxChunkSize = 512<<10 - 1<<10
)

// Config configures a Consul KV store.
type Config struct {
	// Address is the Consul agent's HTTP API "host:port" (default 127.0.0.1:8500).
	Address string `yaml:"address" json:"address"`
	// Scheme is "http" (default) or "https".
	Scheme string `yaml:"scheme" json:"scheme"`
	// Datacenter is the datacenter whose KV store is used; empty means the agent's own.
	Datacenter string `yaml:"datacenter" json:"datacenter"`
	// Token is where the ACL token is read from. Unset, the Consul client library's own
	// environment variables (CONSUL_HTTP_TOKEN, CONSUL_HTTP_TOKEN_FILE) apply.
	Token secret.Ref `yaml:"token" json:"token"`
	// TLS configures HTTPS: the CA to trust and a client certificate.
	TLS TLSConfig `yaml:"tls" json:"tls"`
	// Root is the KV prefix the store lives under, without slashes at either end (default
	// rpcbridge/store).
	Root string `yaml:"root" json:"root"`
	// Wait is how long one blocking query of a watch may wait for a change (default 30s).
	Wait yamltime.Duration `yaml:"wait" json:"wait"`
	// RequestTimeout bounds every other request (default 10s).
	RequestTimeout yamltime.Duration `yaml:"requestTimeout" json:"requestTimeout"`
	// ChunkSize is the largest chunk value (default 256 KiB, at most 511 KiB).
	ChunkSize int `yaml:"chunkSize" json:"chunkSize"`
}

// TLSConfig is the TLS side of the connection to the agent.
type TLSConfig struct {
	// CAFile is the PEM bundle of CAs that sign the agent's certificate (default: the system's).
	CAFile string `yaml:"caFile" json:"caFile"`
	// CertFile and KeyFile are a PEM client certificate and its key, for agents that verify
	// incoming connections.
	CertFile string `yaml:"certFile" json:"certFile"`
	KeyFile  string `yaml:"keyFile" json:"keyFile"`
	// ServerName is the name to verify the agent's certificate against (default: the host of
	// Address).
	ServerName string `yaml:"serverName" json:"serverName"`
}

func (t TLSConfig) set() bool { return t != TLSConfig{} }

// Validate reports everything that is wrong with c.
func (c Config) Validate() error {
	var errs []error
	switch c.Scheme {
	case "", "http", "https":
	default:
		errs = append(errs, fmt.Errorf("scheme %q: want http or https", c.Scheme))
	}
	if c.TLS.set() && c.Scheme != "https" {
		errs = append(errs, errors.New("tls: set scheme: https"))
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		errs = append(errs, errors.New("tls: certFile and keyFile go together"))
	}
	if err := c.Token.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("token: %w", err))
	}
	if c.Root != "" && (strings.HasPrefix(c.Root, "/") || strings.HasSuffix(c.Root, "/") || strings.Contains(c.Root, "//")) {
		errs = append(errs, fmt.Errorf("root %q: want a KV prefix such as %s", c.Root, DefaultRoot))
	}
	if c.Wait < 0 || c.RequestTimeout < 0 {
		errs = append(errs, errors.New("wait and requestTimeout must not be negative"))
	}
	if c.ChunkSize < 0 || c.ChunkSize > MaxChunkSize {
		errs = append(errs, fmt.Errorf("chunkSize %d: want 1..%d", c.ChunkSize, MaxChunkSize))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("consul store: %w", err)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Address == "" {
		c.Address = DefaultAddress
	}
	if c.Scheme == "" {
		c.Scheme = "http"
	}
	if c.Root == "" {
		c.Root = DefaultRoot
	}
	c.Wait = yamltime.Duration(c.Wait.Or(DefaultWait))
	c.RequestTimeout = yamltime.Duration(c.RequestTimeout.Or(DefaultRequestTimeout))
	if c.ChunkSize == 0 {
		c.ChunkSize = DefaultChunkSize
	}
	return c
}
