package zookeeper

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
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
	SessionTimeout Duration `yaml:"sessionTimeout" json:"sessionTimeout"`
	// Debounce is how long to let a burst of changes settle before publishing.
	Debounce Duration `yaml:"debounce" json:"debounce"`
	// ResyncInterval is how often the whole tree is listed again, as a safety net for lost watches.
	ResyncInterval Duration `yaml:"resyncInterval" json:"resyncInterval"`
}

// Duration is a time.Duration that YAML writes and reads as a string such as "5s".
type Duration time.Duration

// UnmarshalYAML decodes "5s"-style strings.
func (d *Duration) UnmarshalYAML(node *yaml.Node) error {
	var s string
	if err := node.Decode(&s); err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML encodes the duration as a "5s"-style string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

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
		v    *Duration
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
			*f.v = Duration(f.def)
		}
	}
	return c, nil
}

// UnmarshalJSON decodes "5s"-style strings, for configuration read through JSON.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON encodes the duration as a "5s"-style string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }
