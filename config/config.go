// Package config reads rpcbridge.yaml: the registries to watch, the route rules, and where the
// xDS server, the embedded gateway and the admin API listen. Parts that belong to another package
// are that package's own types, embedded as they are and validating themselves: the route rules
// are transcoding's HTTPRule and RPCRule, each registry block is its adapter's Config.
//
// Decoding is strict: an unknown key, a wrong type, a bad duration or an invalid value is a
// problem that names the file, the line and the key, and one run reports every problem of the
// file. An empty file is invalid.
//
// docs/configuration.md is generated from these types, their doc comments and their Defaults
// methods (TestConfigurationReference; -update rewrites it): a new key needs a yaml tag, a doc
// comment, its default in a Defaults method and a value in testdata/example.yaml.
package config

import (
	"slices"
	"time"

	"github.com/rpcbridge/rpcbridge/admin/auth"
	"github.com/rpcbridge/rpcbridge/controlplane"
	"github.com/rpcbridge/rpcbridge/idl/discovery"
	"github.com/rpcbridge/rpcbridge/internal/secret"
	"github.com/rpcbridge/rpcbridge/internal/tlsfiles"
	"github.com/rpcbridge/rpcbridge/internal/yamltime"
	"github.com/rpcbridge/rpcbridge/telemetry"
	"github.com/rpcbridge/rpcbridge/transcoding"
)

// Config is the whole configuration file, rpcbridge.yaml.
type Config struct {
	// XDS is the xDS (ADS) server that Envoy and the embedded gateway connect to.
	XDS XDSConfig `yaml:"xds"`
	// Gateway is the embedded gateway.
	Gateway GatewayConfig `yaml:"gateway"`
	// Admin is the admin HTTP server (health, readiness, metrics, API).
	Admin AdminConfig `yaml:"admin"`
	// Envoy shapes the resources served to Envoy.
	Envoy EnvoyConfig `yaml:"envoy"`
	// DataDir holds rpcbridge's state: the IDL store (<dataDir>/idl) with every uploaded schema.
	DataDir string `yaml:"dataDir"`
	// SyncTimeout bounds how long the first xDS push waits for every registry's first listing.
	SyncTimeout yamltime.Duration `yaml:"syncTimeout"`
	// Registries are the registries to watch.
	Registries []RegistryConfig `yaml:"registries"`
	// Routes are HTTP route rules: each exposes a plain HTTP service under a path or path prefix
	// of the gateway. An HTTP service that no rule names is served at /<name>/ (rewritten to /).
	// Parse sets each rule's Origin to "<file> routes[i]".
	Routes []transcoding.HTTPRule `yaml:"routes"`
	// RPCRoutes map an HTTP method and path template onto one gRPC or Dubbo method, replacing
	// that method's default routes. Parse sets each rule's Origin to "<file> rpcRoutes[i]".
	RPCRoutes []transcoding.RPCRule `yaml:"rpcRoutes"`
	// Policies are the edge policies (authentication, CORS, rate limits, canary) that routes and
	// rpcRoutes reference by name (policy:) or that attach to services (services:); a route
	// whose policy is missing or invalid is withheld, never served without it (docs/policies.md).
	// Parse sets each policy's Origin to "<file> policies[i]".
	Policies []transcoding.Policy `yaml:"policies"`
	// Discovery learns schemas from the services and registries themselves.
	Discovery DiscoveryConfig `yaml:"discovery"`
	// Upstreams override the upstream policy defaults (upstreams.go).
	Upstreams UpstreamsConfig `yaml:"upstreams"`
	// Telemetry configures what rpcbridge reports about itself beside its metrics.
	Telemetry TelemetryConfig `yaml:"telemetry"`
	// Store is where uploaded IDL (and with store.rules the route rules) is kept: local (the
	// default, <dataDir>/idl) or a store shared by replicas (store.go, docs/store.md).
	Store StoreConfig `yaml:"store"`
}

// TelemetryConfig is the telemetry section.
type TelemetryConfig struct {
	// Tracing exports OpenTelemetry traces of the gateway's requests over OTLP, in telemetry's
	// own type (off while its endpoint is empty).
	Tracing telemetry.TracingConfig `yaml:"tracing"`
}

// DiscoveryConfig turns on schema discovery beside uploaded IDL.
type DiscoveryConfig struct {
	// Reflection asks gRPC services for their descriptors by server reflection.
	Reflection ReflectionConfig `yaml:"reflection"`
	// MetadataCenters read Java providers' service definitions from ZooKeeper.
	MetadataCenters []MetadataCenterConfig `yaml:"metadataCenters"`
}

// ReflectionConfig selects the gRPC services to reflect; none unless Include names some.
type ReflectionConfig struct {
	// Include are globs on catalog service names ("grpc.testing.*", "*").
	Include []string `yaml:"include"`
	// Refresh is how often descriptors are fetched again.
	Refresh yamltime.Duration `yaml:"refresh"`
}

// MetadataCenterConfig is a Dubbo metadata center in ZooKeeper.
type MetadataCenterConfig struct {
	// Servers are the ZooKeeper addresses.
	Servers []string `yaml:"servers"`
	// Root is the Dubbo root node.
	Root string `yaml:"root"`
	// Resync is how often all definitions are read again although no watch fired, a safety net
	// behind the ZooKeeper watches.
	Resync yamltime.Duration `yaml:"resync"`
	// Debounce is how long a burst of changes may settle before they are read.
	Debounce yamltime.Duration `yaml:"debounce"`
	// Digest is where the "user:password" of ZooKeeper digest authentication is read from.
	Digest secret.Ref `yaml:"digest"`
}

// XDSConfig configures the xDS server.
type XDSConfig struct {
	// TLS serves xDS over TLS (off while it has no certificates); with clientCAFile and
	// requireClientCert, a client without a verified certificate gets no configuration
	// (gRPC Unauthenticated): mTLS (docs/tls.md).
	TLS tlsfiles.Server `yaml:"tls"`
	// Listen is the host:port of the xDS server (gRPC).
	Listen string `yaml:"listen"`
	// Auth makes xDS clients present a bearer token (docs/security.md).
	Auth auth.XDSConfig `yaml:"auth"`
}

// GatewayConfig configures the embedded gateway.
type GatewayConfig struct {
	// Enabled false turns the embedded gateway off: rpcbridge then only serves xDS to Envoy.
	Enabled *bool `yaml:"enabled"`
	// Listen is the host:port of the gateway's HTTP listener.
	Listen string `yaml:"listen"`
	// TLS serves the listener as HTTPS, HTTP/2 by ALPN (off while it has no certificates);
	// several certificates are chosen by SNI (docs/tls.md).
	TLS tlsfiles.Server `yaml:"tls"`
	// Forwarding is the forwarding-header policy of the HTTP listener (also Envoy's).
	Forwarding ForwardingConfig `yaml:"forwarding"`
	// Limits bound what clients can make the gateway hold: timeouts, buffer limits, connections.
	Limits GatewayLimits `yaml:"limits"`
	// Dubbo bounds the values of REST-to-Dubbo calls.
	Dubbo DubboConfig `yaml:"dubbo"`
	// AccessLog writes one JSON line per request, in telemetry's own type (default off).
	AccessLog telemetry.AccessLogConfig `yaml:"accessLog"`
	// MCP offers the gRPC and Dubbo routes of chosen services as Model Context Protocol tools
	// on a path of the listener (default off).
	MCP MCPConfig `yaml:"mcp"`
}

// On reports whether the gateway is enabled.
func (g GatewayConfig) On() bool { return g.Enabled == nil || *g.Enabled }

// AdminConfig configures the admin HTTP server.
type AdminConfig struct {
	// Listen is the host:port of the admin API (/healthz, /readyz, /metrics, /api/v1/...).
	Listen string `yaml:"listen"`
	// TLS serves the admin API as HTTPS (off while it has no certificates; docs/tls.md).
	TLS tlsfiles.Server `yaml:"tls"`
	// Uploads bounds IDL uploads and the store they fill.
	Uploads UploadsConfig `yaml:"uploads"`
	// Limits bound what clients can make the admin API hold: timeouts and connections.
	Limits AdminLimits `yaml:"limits"`
	// Auth is the admin API's bearer tokens and public groups (docs/security.md).
	Auth auth.Config `yaml:"auth"`
}

// EnvoyConfig shapes the Envoy resources.
type EnvoyConfig struct {
	// Flavor is the Envoy build that connects: "envoy" (stock; Dubbo REST routes go to the
	// rpcbridge gateways of dubboGateways, or are left out and served only by rpcbridge's
	// gateways) or "higress" (with the HTTP-to-Dubbo transcoder). Default envoy.
	// The control plane owns the type and validates it.
	Flavor controlplane.Flavor `yaml:"flavor"`
	// HTTPPort is the port of Envoy's north-south listener rpcbridge-http.
	HTTPPort uint32 `yaml:"httpPort"`
	// DubboPort is the port of Envoy's Dubbo ingress listener rpcbridge-dubbo.
	DubboPort uint32 `yaml:"dubboPort"`
	// DubboGateways are the rpcbridge gateways (`rpcbridge gateway`, or serve's embedded one)
	// that stock Envoy (flavor envoy) routes the Dubbo REST routes to, so that Envoy serves every
	// route and rpcbridge does only the Dubbo hop (docs/protocols.md). Without addresses those
	// routes are left out of Envoy's configuration, with a diagnostic. The control plane owns
	// the type and validates it.
	DubboGateways controlplane.DubboGateways `yaml:"dubboGateways"`
}

// The defaults of the embedded configuration.
const (
	DefaultXDSListen     = "127.0.0.1:18000"
	DefaultGatewayListen = "127.0.0.1:8080"
	// DefaultAdminListen is not Envoy's conventional admin port 9901 (controlplane's
	// DefaultAdminPort, which `rpcbridge bootstrap` gives Envoy), so that rpcbridge and the Envoy
	// it configures run side by side on one host with their defaults.
	DefaultAdminListen   = "127.0.0.1:19901"
	DefaultEnvoyHTTPPort = controlplane.DefaultHTTPPort
	DefaultEnvoyDubbo    = controlplane.DefaultDubboPort
	DefaultEnvoyFlavor   = controlplane.FlavorEnvoy
	DefaultDataDir       = "./data"
	DefaultSyncTimeout   = yamltime.Duration(30 * time.Second)
	DefaultRouteTimeout  = yamltime.Duration(15 * time.Second)
)

// Rules are the route rules of the configuration with the defaults that apply to them.
func (c *Config) Rules() transcoding.Rules {
	forwarding := c.Gateway.Forwarding.IR()
	return transcoding.Rules{HTTP: c.Routes, RPC: c.RPCRoutes, DefaultTimeout: DefaultRouteTimeout, Forwarding: &forwarding,
		Upstreams: c.Upstreams, DubboValues: c.Gateway.Dubbo.IR(), Policies: c.Policies}
}

// Defaults returns c with what the file left out set to its default, checking nothing; c's
// lists are not modified. It is the one place that applies the defaults of the keys this package
// owns (the registry blocks apply their own when their source is built), and
// docs/configuration.md is generated from what it sets.
func (c Config) Defaults() Config {
	if c.XDS.Listen == "" {
		c.XDS.Listen = DefaultXDSListen
	}
	if c.Gateway.Listen == "" {
		c.Gateway.Listen = DefaultGatewayListen
	}
	if c.Admin.Listen == "" {
		c.Admin.Listen = DefaultAdminListen
	}
	if c.Envoy.HTTPPort == 0 {
		c.Envoy.HTTPPort = DefaultEnvoyHTTPPort
	}
	if c.Envoy.DubboPort == 0 {
		c.Envoy.DubboPort = DefaultEnvoyDubbo
	}
	if c.Envoy.Flavor == "" {
		c.Envoy.Flavor = DefaultEnvoyFlavor
	}
	if c.Envoy.DubboGateways.Protocol == "" {
		c.Envoy.DubboGateways.Protocol = controlplane.GatewayHTTP1
	}
	c.Envoy.DubboGateways.Addresses = slices.Clone(c.Envoy.DubboGateways.Addresses)
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.SyncTimeout == 0 {
		c.SyncTimeout = DefaultSyncTimeout
	}
	if c.Gateway.Enabled == nil {
		on := true
		c.Gateway.Enabled = &on
	}
	c.Routes = slices.Clone(c.Routes)
	for i := range c.Routes {
		if c.Routes[i].Timeout == nil {
			timeout := DefaultRouteTimeout
			c.Routes[i].Timeout = &timeout
		}
	}
	c.Discovery.Reflection.Refresh = yamltime.Duration(c.Discovery.Reflection.Refresh.Or(discovery.DefaultReflectRefresh))
	c.Discovery.MetadataCenters = slices.Clone(c.Discovery.MetadataCenters)
	for i := range c.Discovery.MetadataCenters {
		mc := &c.Discovery.MetadataCenters[i]
		if mc.Root == "" {
			mc.Root = discovery.DefaultMetadataRoot
		}
		mc.Resync = yamltime.Duration(mc.Resync.Or(discovery.DefaultMetadataResync))
		mc.Debounce = yamltime.Duration(mc.Debounce.Or(discovery.DefaultMetadataDebounce))
	}
	return c
}
