// Package config reads rpcbridge.yaml: the registries to watch, the route rules, and where the
// xDS server, the embedded gateway and the admin API listen. Parts that belong to another package
// are that package's own types, embedded as they are and validating themselves: the route rules
// are transcoding's HTTPRule and RPCRule, each registry block is its adapter's Config.
//
// Decoding is strict: an unknown key, a wrong type, a bad duration or an invalid value is a
// problem that names the file, the line and the key, and one run reports every problem of the
// file. An empty file is invalid.
package config

import (
	"time"

	"github.com/rpcbridge/rpcbridge/controlplane"
	"github.com/rpcbridge/rpcbridge/internal/yamltime"
	"github.com/rpcbridge/rpcbridge/telemetry"
	"github.com/rpcbridge/rpcbridge/transcoding"
)

// Config is the whole configuration file.
type Config struct {
	// XDS is the xDS (ADS) server that Envoy and the embedded gateway connect to.
	XDS XDSConfig `yaml:"xds"`
	// Gateway is the embedded gateway.
	Gateway GatewayConfig `yaml:"gateway"`
	// Admin is the admin HTTP server (health, readiness, metrics, API).
	Admin AdminConfig `yaml:"admin"`
	// Envoy shapes the resources served to Envoy.
	Envoy EnvoyConfig `yaml:"envoy"`
	// DataDir keeps uploaded IDL and other state.
	DataDir string `yaml:"dataDir"`
	// SyncTimeout bounds how long the first xDS push waits for every registry's first listing.
	SyncTimeout yamltime.Duration `yaml:"syncTimeout"`
	// Registries are the registries to watch.
	Registries []RegistryConfig `yaml:"registries"`
	// Routes are the user's HTTP route rules, in transcoding's own type: each validates itself
	// and its Origin is set to "<file> routes[i]".
	Routes []transcoding.HTTPRule `yaml:"routes"`
	// RPCRoutes are the user's rules that map HTTP requests onto RPC methods, in transcoding's
	// own type; Origin is "<file> rpcRoutes[i]".
	RPCRoutes []transcoding.RPCRule `yaml:"rpcRoutes"`
	// Discovery learns schemas from the services and registries themselves.
	Discovery DiscoveryConfig `yaml:"discovery"`
	// Telemetry configures what rpcbridge reports about itself beside its metrics.
	Telemetry TelemetryConfig `yaml:"telemetry"`
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
	// Refresh is how often descriptors are fetched again (default 10m).
	Refresh yamltime.Duration `yaml:"refresh"`
}

// MetadataCenterConfig is a Dubbo metadata center in ZooKeeper.
type MetadataCenterConfig struct {
	// Servers are the ZooKeeper addresses.
	Servers []string `yaml:"servers"`
	// Root is the Dubbo root node (default dubbo).
	Root string `yaml:"root"`
	// Resync is how often all definitions are read again although no watch fired, a safety net
	// behind the ZooKeeper watches (default 5m).
	Resync yamltime.Duration `yaml:"resync"`
	// Debounce is how long a burst of changes may settle before they are read (default 200ms).
	Debounce yamltime.Duration `yaml:"debounce"`
}

// XDSConfig configures the xDS server.
type XDSConfig struct {
	// Listen is the gRPC listen address.
	Listen string `yaml:"listen"`
}

// GatewayConfig configures the embedded gateway.
type GatewayConfig struct {
	// Enabled turns the embedded gateway on; default true.
	Enabled *bool `yaml:"enabled"`
	// Listen is the HTTP listen address.
	Listen string `yaml:"listen"`
	// Forwarding is the forwarding-header policy of the HTTP listener (also Envoy's).
	Forwarding ForwardingConfig `yaml:"forwarding"`
	// AccessLog writes one JSON line per request, in telemetry's own type (default off).
	AccessLog telemetry.AccessLogConfig `yaml:"accessLog"`
}

// On reports whether the gateway is enabled.
func (g GatewayConfig) On() bool { return g.Enabled == nil || *g.Enabled }

// AdminConfig configures the admin HTTP server.
type AdminConfig struct {
	// Listen is the HTTP listen address.
	Listen string `yaml:"listen"`
	// Uploads bounds IDL uploads and the store they fill.
	Uploads UploadsConfig `yaml:"uploads"`
}

// EnvoyConfig shapes the Envoy resources.
type EnvoyConfig struct {
	// Flavor is the Envoy build that connects: "envoy" (stock; Dubbo REST routes are served only
	// by the embedded gateway) or "higress" (with the HTTP-to-Dubbo transcoder). Default envoy.
	// The control plane owns the type and validates it.
	Flavor controlplane.Flavor `yaml:"flavor"`
	// HTTPPort is the port of Envoy's north-south listener rpcbridge-http.
	HTTPPort uint32 `yaml:"httpPort"`
	// DubboPort is the port of Envoy's Dubbo ingress listener rpcbridge-dubbo.
	DubboPort uint32 `yaml:"dubboPort"`
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
	return transcoding.Rules{HTTP: c.Routes, RPC: c.RPCRoutes, DefaultTimeout: DefaultRouteTimeout, Forwarding: &forwarding}
}

// applyDefaults fills in what the file left out.
func (c *Config) applyDefaults() {
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
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.SyncTimeout == 0 {
		c.SyncTimeout = DefaultSyncTimeout
	}
}
