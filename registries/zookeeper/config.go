package zookeeper

import (
	"errors"
	"fmt"
	"strings"
	"time"

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
}

// Validate reports the first problem of c, as New would; nil means New accepts it.
func (c Config) Validate() error {
	_, err := c.withDefaults()
	return err
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
	c.Root = strings.Trim(c.Root, "/")
	if c.Root == "" {
		c.Root = DefaultRoot
	}
	if strings.Contains(c.Root, "/") {
		return c, fmt.Errorf("zookeeper: root %q must be a single node name", c.Root)
	}
	for _, f := range []struct {
		name string
		v    *yamltime.Duration
		def  time.Duration
	}{
		{"sessionTimeout", &c.SessionTimeout, DefaultSessionTimeout},
		{"debounce", &c.Debounce, DefaultDebounce},
		{"resyncInterval", &c.ResyncInterval, DefaultResyncInterval},
	} {
		if *f.v < 0 {
			return c, fmt.Errorf("zookeeper: %s must not be negative", f.name)
		}
		if *f.v == 0 {
			*f.v = yamltime.Duration(f.def)
		}
	}
	return c, nil
}
