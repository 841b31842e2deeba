package nacos

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"

	"github.com/rpcbridge/rpcbridge/internal/secret"
	"github.com/rpcbridge/rpcbridge/internal/yamltime"
)

// Defaults for the optional Config fields.
const (
	DefaultGroup          = "RPCBRIDGE"
	DefaultRoot           = "rpcbridge.store"
	DefaultRequestTimeout = 10 * time.Second
	DefaultResync         = 10 * time.Second
	// DefaultChunkSize is the raw size of a chunk; its base64 content is a third larger. It is
	// small next to Nacos's 10 MB limit because the SDK gives every publish a fixed 3 s
	// (constant.DEFAULT_TIMEOUT_MILLS, whatever TimeoutMs says).
	DefaultChunkSize = 512 << 10
	// MaxChunkSize keeps a chunk's base64 content (8 MiB) below Nacos's default maxContent
	// (10 MB) and the SDK's 10 MB gRPC message limit.
	MaxChunkSize = 6 << 20
)

// Config configures a Nacos config-service store.
type Config struct {
	// Servers are the Nacos "host:port" addresses with the HTTP port (8848 by default); the
	// SDK talks gRPC on that port + 1000.
	Servers []string `yaml:"servers" json:"servers"`
	// Namespace is the namespace ID; "" is the public namespace.
	Namespace string `yaml:"namespace" json:"namespace"`
	// Group is the Nacos group of the store's configurations (default RPCBRIDGE).
	Group string `yaml:"group" json:"group"`
	// Root prefixes the store's data IDs (default rpcbridge.store): the index is
	// <root>.index, chunks are <root>.chunk.<write>.<i>.
	Root string `yaml:"root" json:"root"`
	// Username and Password are where the credentials of a Nacos server with auth enabled
	// are read from.
	Username secret.Ref `yaml:"username" json:"username"`
	Password secret.Ref `yaml:"password" json:"password"`
	// CacheDir and LogDir are the directories the SDK insists on; empty means a temporary
	// directory removed by Close (the store never reads the SDK's cached snapshots).
	CacheDir string `yaml:"cacheDir" json:"cacheDir"`
	LogDir   string `yaml:"logDir" json:"logDir"`
	// RequestTimeout bounds one request (default 10s).
	RequestTimeout yamltime.Duration `yaml:"requestTimeout" json:"requestTimeout"`
	// Resync is how often a watch reads the index although no listener fired, which is also
	// how soon it notices an outage (default 10s).
	Resync yamltime.Duration `yaml:"resync" json:"resync"`
	// ChunkSize is the largest raw chunk (default 512 KiB, at most 6 MiB).
	ChunkSize int `yaml:"chunkSize" json:"chunkSize"`
}

// Validate reports everything that is wrong with c.
func (c Config) Validate() error {
	var errs []error
	if len(c.Servers) == 0 {
		errs = append(errs, errors.New("servers: none configured"))
	}
	for _, s := range c.Servers {
		if _, err := serverConfig(s); err != nil {
			errs = append(errs, err)
		}
	}
	for name, v := range map[string]string{"group": c.Group, "root": c.Root} {
		if v != "" && !validParam(v) {
			errs = append(errs, fmt.Errorf("%s %q: use letters, digits and _-.: only (Nacos's rule)", name, v))
		}
	}
	if err := c.Username.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("username: %w", err))
	}
	if err := c.Password.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("password: %w", err))
	}
	if c.Username.IsZero() != c.Password.IsZero() {
		errs = append(errs, errors.New("username and password go together"))
	}
	if c.RequestTimeout < 0 || c.Resync < 0 {
		errs = append(errs, errors.New("requestTimeout and resync must not be negative"))
	}
	if c.ChunkSize < 0 || c.ChunkSize > MaxChunkSize {
		errs = append(errs, fmt.Errorf("chunkSize %d: want 1..%d", c.ChunkSize, MaxChunkSize))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("nacos store: %w", err)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Group == "" {
		c.Group = DefaultGroup
	}
	if c.Root == "" {
		c.Root = DefaultRoot
	}
	c.RequestTimeout = yamltime.Duration(c.RequestTimeout.Or(DefaultRequestTimeout))
	c.Resync = yamltime.Duration(c.Resync.Or(DefaultResync))
	if c.ChunkSize == 0 {
		c.ChunkSize = DefaultChunkSize
	}
	return c
}

// serverConfig turns "host:port" (the HTTP port) into the SDK's server config.
func serverConfig(addr string) (constant.ServerConfig, error) {
	host, port, err := net.SplitHostPort(strings.TrimSpace(addr))
	n, perr := strconv.ParseUint(port, 10, 16)
	if err != nil || host == "" || perr != nil || n == 0 || n+constant.RpcPortOffset > 65535 {
		return constant.ServerConfig{}, fmt.Errorf("server %q: want host:port with the HTTP port (gRPC is port+%d)",
			addr, constant.RpcPortOffset)
	}
	return constant.ServerConfig{IpAddr: host, Port: n}, nil
}

// validParam is Nacos's rule for data IDs and groups (ParamUtils.isValid).
func validParam(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-.:", r)) {
			return false
		}
	}
	return s != ""
}
