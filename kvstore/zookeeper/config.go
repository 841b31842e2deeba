package zookeeper

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
	DefaultRoot           = "/rpcbridge/store"
	DefaultSessionTimeout = 10 * time.Second
	DefaultRequestTimeout = 10 * time.Second
	DefaultResync         = 5 * time.Minute
	// DefaultChunkSize leaves half of ZooKeeper's default node limit (jute.maxbuffer, 1 MB,
	// which bounds a whole request packet) free.
	DefaultChunkSize = 512 << 10
	// MaxChunkSize keeps a chunk and its request below jute.maxbuffer's default.
	MaxChunkSize = 1<<20 - 16<<10
)

// Config configures a ZooKeeper store.
type Config struct {
	// Servers are the ensemble's "host:port" addresses.
	Servers []string `yaml:"servers" json:"servers"`
	// Root is the node the store lives under (default /rpcbridge/store).
	Root string `yaml:"root" json:"root"`
	// Digest is where the "user:password" of ZooKeeper digest authentication is read from. With
	// it the store authenticates every session and creates its nodes with a digest ACL that
	// grants only that user access; without it nodes are world-accessible.
	Digest secret.Ref `yaml:"digest" json:"digest"`
	// SessionTimeout is the session timeout the client asks for (default 10s).
	SessionTimeout yamltime.Duration `yaml:"sessionTimeout" json:"sessionTimeout"`
	// RequestTimeout bounds one request (default 10s).
	RequestTimeout yamltime.Duration `yaml:"requestTimeout" json:"requestTimeout"`
	// Resync is how often a watch reads everything again behind its watches (default 5m).
	Resync yamltime.Duration `yaml:"resync" json:"resync"`
	// ChunkSize is the largest chunk node (default 512 KiB, at most 1008 KiB); values
	// that do not fit in one node are compressed and chunked.
	ChunkSize int `yaml:"chunkSize" json:"chunkSize"`
}

// Validate reports everything that is wrong with c.
func (c Config) Validate() error {
	var errs []error
	if len(c.Servers) == 0 {
		errs = append(errs, errors.New("servers: none configured"))
	}
	for _, s := range c.Servers {
		if strings.TrimSpace(s) == "" {
			errs = append(errs, errors.New("servers: empty address"))
		}
	}
	if c.Root != "" && !validRoot(c.Root) {
		errs = append(errs, fmt.Errorf("root %q: want an absolute node path such as %s", c.Root, DefaultRoot))
	}
	if err := c.Digest.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("digest: %w", err))
	}
	for name, d := range map[string]yamltime.Duration{"sessionTimeout": c.SessionTimeout,
		"requestTimeout": c.RequestTimeout, "resync": c.Resync} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s: negative", name))
		}
	}
	if c.ChunkSize < 0 || c.ChunkSize > MaxChunkSize {
		errs = append(errs, fmt.Errorf("chunkSize %d: want 1..%d", c.ChunkSize, MaxChunkSize))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("zookeeper store: %w", err)
	}
	return nil
}

func validRoot(root string) bool {
	if !strings.HasPrefix(root, "/") || root == "/" || strings.HasSuffix(root, "/") || root == "/zookeeper" ||
		strings.HasPrefix(root, "/zookeeper/") {
		return false
	}
	for _, seg := range strings.Split(root[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

func (c Config) withDefaults() Config {
	if c.Root == "" {
		c.Root = DefaultRoot
	}
	c.SessionTimeout = yamltime.Duration(c.SessionTimeout.Or(DefaultSessionTimeout))
	c.RequestTimeout = yamltime.Duration(c.RequestTimeout.Or(DefaultRequestTimeout))
	c.Resync = yamltime.Duration(c.Resync.Or(DefaultResync))
	if c.ChunkSize == 0 {
		c.ChunkSize = DefaultChunkSize
	}
	return c
}
