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
	DefaultRoot           = "dubbo"
	DefaultSessionTimeout = 10 * time.Second
	DefaultDebounce       = 200 * time.Millisecond
	DefaultResyncInterval = 5 * time.Minute
)

// Config configures one ZooKeeper registry.
type Config struct {
	// Servers are the ZooKeeper "host:port" addresses.
	Servers []string `yaml:"servers" json:"servers"`
	// Root is the Dubbo root node without slashes ("dubbo" unless Dubbo's registry group is set).
	Root string `yaml:"root" json:"root"`
	// SessionTimeout is the ZooKeeper session timeout the client asks for.
	SessionTimeout yamltime.Duration `yaml:"sessionTimeout" json:"sessionTimeout"`
	// Debounce is how long to let a burst of changes settle before publishing.
	Debounce yamltime.Duration `yaml:"debounce" json:"debounce"`
	// ResyncInterval is how often the whole tree is listed again, as a safety net for lost watches.
	ResyncInterval yamltime.Duration `yaml:"resyncInterval" json:"resyncInterval"`
	// Digest is where the "user:password" of ZooKeeper digest authentication is read from
	// (file or env); it is added to every session, so nodes with a digest ACL can be read.
	Digest secret.Ref `yaml:"digest" json:"digest"`
}

// Validate reports the first problem of c, as New would; nil means New accepts it.
func (c Config) Validate() error {
	_, err := c.withDefaults()
	return err
}

// Defaults returns c with every unset optional field set to its default, checking nothing. It
// is the one place that applies the defaults: New uses it, and docs/configuration.md shows
// what it sets.
func (c Config) Defaults() Config {
	c.Root = strings.Trim(c.Root, "/")
	if c.Root == "" {
		c.Root = DefaultRoot
	}
	c.SessionTimeout = yamltime.Duration(c.SessionTimeout.Or(DefaultSessionTimeout))
	c.Debounce = yamltime.Duration(c.Debounce.Or(DefaultDebounce))
	c.ResyncInterval = yamltime.Duration(c.ResyncInterval.Or(DefaultResyncInterval))
	return c
}

// withDefaults fills unset fields and checks the result.
func (c Config) withDefaults() (Config, error) {
	if len(c.Servers) == 0 {
		return c, errors.New("zookeeper: no servers configured")
	}
	for _, s := range c.Servers {
		if strings.TrimSpace(s) == "" {
			return c, errors.New("zookeeper: empty server address")
		}
	}
	if err := c.Digest.Validate(); err != nil {
		return c, fmt.Errorf("zookeeper: digest: %w", err)
	}
	c = c.Defaults()
	if strings.Contains(c.Root, "/") {
		return c, fmt.Errorf("zookeeper: root %q must be a single node name", c.Root)
	}
	for _, f := range []struct {
		name string
		v    yamltime.Duration
	}{{"sessionTimeout", c.SessionTimeout}, {"debounce", c.Debounce}, {"resyncInterval", c.ResyncInterval}} {
		if f.v < 0 {
			return c, fmt.Errorf("zookeeper: %s must not be negative", f.name)
		}
	}
	return c, nil
}
