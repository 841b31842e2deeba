package nacos

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"

	"github.com/rpcbridge/rpcbridge/internal/secret"
	"github.com/rpcbridge/rpcbridge/internal/yamltime"
)

// Defaults for the optional Config fields.
const (
	DefaultGroup          = "DEFAULT_GROUP"
	DefaultResyncInterval = time.Minute
	DefaultPageSize       = 500
)

// Config configures one Nacos registry.
type Config struct {
	// Servers are the Nacos "host:port" addresses, with the HTTP port (8848 by default); the
	// SDK talks gRPC on that port + 1000.
	Servers []string `yaml:"servers" json:"servers"`
	// Namespaces are the namespace IDs to read; "" (or "public") is the public namespace.
	Namespaces []string `yaml:"namespaces" json:"namespaces"`
	// Groups are the Nacos groups to read in every namespace.
	Groups []string `yaml:"groups" json:"groups"`
	// Username is where the user name that logs in to a Nacos server with auth enabled is
	// read from ({file: PATH} or {env: NAME}).
	Username secret.Ref `yaml:"username" json:"username"`
	// Password is where that user's password is read from ({file: PATH} or {env: NAME}).
	Password secret.Ref `yaml:"password" json:"password"`
	// CacheDir is where the SDK writes its service cache (never read back: the source starts
	// from the server). Default: <system temp>/rpcbridge/nacos/<registry name>/cache.
	CacheDir string `yaml:"cacheDir" json:"cacheDir"`
	// LogDir is the SDK's log directory (its log lines go to rpcbridge's logger; the SDK still
	// wants the directory). Default: <system temp>/rpcbridge/nacos/<registry name>/log.
	LogDir string `yaml:"logDir" json:"logDir"`
	// ResyncInterval is how often every namespace and group is listed again, to find services
	// that appeared or went away (instance changes of known services are pushed).
	ResyncInterval yamltime.Duration `yaml:"resyncInterval" json:"resyncInterval"`
	// PageSize is how many service names one listing request asks for.
	PageSize int `yaml:"pageSize" json:"pageSize"`
}

// Validate reports the first problem of c, as New would; nil means New accepts it. (The registry
// name only shapes the default directories, which are not checked.)
func (c Config) Validate() error {
	_, err := c.withDefaults("")
	return err
}

// withDefaults fills unset fields and checks the result; name is the registry's name.
func (c Config) withDefaults(name string) (Config, error) {
	if len(c.Servers) == 0 {
		return c, errors.New("nacos: no servers configured")
	}
	for _, s := range c.Servers {
		if _, err := parseServer(s); err != nil {
			return c, err
		}
	}
	if c.PageSize < 0 {
		return c, errors.New("nacos: pageSize must not be negative")
	}
	c = c.Defaults()
	c.Namespaces = sortedUnique(c.Namespaces, normalizeNamespace)
	c.Groups = sortedUnique(c.Groups, func(g string) string { return strings.TrimSpace(g) })
	if slices.Contains(c.Groups, "") {
		return c, errors.New("nacos: empty group name")
	}
	if !c.Password.IsZero() && c.Username.IsZero() {
		return c, errors.New("nacos: password set without username")
	}
	if err := c.Username.Validate(); err != nil {
		return c, fmt.Errorf("nacos: username: %w", err)
	}
	if err := c.Password.Validate(); err != nil {
		return c, fmt.Errorf("nacos: password: %w", err)
	}
	base := filepath.Join(os.TempDir(), "rpcbridge", "nacos", safeDirName(name))
	if c.CacheDir == "" {
		c.CacheDir = filepath.Join(base, "cache")
	}
	if c.LogDir == "" {
		c.LogDir = filepath.Join(base, "log")
	}
	return c, nil
}

// Defaults returns c with every unset optional field set to its default, checking nothing (the
// directories, which depend on the registry's name, are set by New). It is the one place that
// applies the defaults: New uses it, and docs/configuration.md shows what it sets.
func (c Config) Defaults() Config {
	if len(c.Namespaces) == 0 {
		c.Namespaces = []string{""}
	}
	if len(c.Groups) == 0 {
		c.Groups = []string{DefaultGroup}
	}
	c.ResyncInterval = yamltime.Duration(c.ResyncInterval.Or(DefaultResyncInterval))
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	return c
}

// normalizeNamespace maps Nacos's two spellings of the default namespace to "".
func normalizeNamespace(ns string) string {
	ns = strings.TrimSpace(ns)
	if ns == constant.DEFAULT_NAMESPACE_ID {
		return ""
	}
	return ns
}

// namespaceLabel is how a namespace is shown in labels and diagnostics.
func namespaceLabel(ns string) string {
	if ns == "" {
		return constant.DEFAULT_NAMESPACE_ID
	}
	return ns
}

func sortedUnique(in []string, norm func(string) string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		out = append(out, norm(s))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// parseServer turns "host:port" into the SDK's server config.
func parseServer(s string) (constant.ServerConfig, error) {
	host, portText, err := net.SplitHostPort(strings.TrimSpace(s))
	if err != nil || host == "" {
		return constant.ServerConfig{}, fmt.Errorf("nacos: server %q: want host:port (the HTTP port, e.g. 127.0.0.1:8848)", s)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 || port+constant.RpcPortOffset > 65535 {
		return constant.ServerConfig{}, fmt.Errorf("nacos: server %q: port must be 1..%d (gRPC uses port+%d)",
			s, 65535-constant.RpcPortOffset, constant.RpcPortOffset)
	}
	return constant.ServerConfig{IpAddr: host, Port: port}, nil
}

// safeDirName keeps a registry name usable as one path element.
func safeDirName(name string) string {
	if name == "." || name == ".." {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || r == ':' {
			return '_'
		}
		return r
	}, name)
}
