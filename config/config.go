// Package config reads rpcbridge.yaml: the registries to watch, the route rules, and where the
// xDS server, the embedded gateway and the admin API listen. Decoding is strict: an unknown key, a
// wrong type or an invalid value is an error that names the file, the line and the key.
package config

import (
	"time"

	"github.com/rpcbridge/rpcbridge/internal/yamltime"
	"github.com/rpcbridge/rpcbridge/registries/consul"
	"github.com/rpcbridge/rpcbridge/registries/nacos"
	"github.com/rpcbridge/rpcbridge/registries/static"
	"github.com/rpcbridge/rpcbridge/registries/zookeeper"
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
	// Routes are the user's HTTP route rules.
	Routes []RouteConfig `yaml:"routes"`
	// RPCRoutes are the user's rules that map HTTP requests onto RPC methods.
	RPCRoutes []RPCRouteConfig `yaml:"rpcRoutes"`
	// Discovery learns schemas from the services and registries themselves.
	Discovery DiscoveryConfig `yaml:"discovery"`
	// Upstreams override the upstream policy defaults (upstreams.go).
	Upstreams UpstreamsConfig `yaml:"upstreams"`
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

// RPCRouteConfig maps HTTP requests onto one gRPC or Dubbo method, replacing the method's
// default routes.
type RPCRouteConfig struct {
	// Service is a service ID ("dubbo:com.foo.Users:1.0.0:", "grpc:pkg.Greeter"), a service
	// name, or a Dubbo interface.
	Service string `yaml:"service"`
	// Method is the method name.
	Method string `yaml:"method"`
	// ParamTypes picks one overload of a Dubbo method by its parameter types ("long",
	// "java.lang.String[]").
	ParamTypes []string `yaml:"paramTypes"`
	// HTTP is the request that calls the method.
	HTTP RPCHTTPConfig `yaml:"http"`
	// Params say where each argument of a Dubbo method comes from.
	Params []RPCParamConfig `yaml:"params"`
	// Body and ResponseBody are google.api.http's body and response_body, for gRPC methods.
	Body         string `yaml:"body"`
	ResponseBody string `yaml:"responseBody"`
	// Attachments are request headers forwarded as Dubbo attachments; "*" forwards all.
	Attachments []string `yaml:"attachments"`
	// Timeout bounds the call.
	Timeout *yamltime.Duration `yaml:"timeout"`
}

// RPCHTTPConfig is the HTTP side of an RPC route.
type RPCHTTPConfig struct {
	// Method is the HTTP verb.
	Method string `yaml:"method"`
	// Path is a google.api.http path template ("/users/{id}").
	Path string `yaml:"path"`
}

// RPCParamConfig says where one Dubbo argument comes from.
type RPCParamConfig struct {
	// Arg is the parameter's name, or arg0, arg1, ... by position.
	Arg string `yaml:"arg"`
	// From is path, query, header, body or wholeBody.
	From string `yaml:"from"`
	// Key is the path variable, query parameter, header or body field (default: Arg).
	Key string `yaml:"key"`
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
}

// On reports whether the gateway is enabled.
func (g GatewayConfig) On() bool { return g.Enabled == nil || *g.Enabled }

// AdminConfig configures the admin HTTP server.
type AdminConfig struct {
	// Listen is the HTTP listen address.
	Listen string `yaml:"listen"`
}

// EnvoyConfig shapes the Envoy resources.
type EnvoyConfig struct {
	// Flavor is the Envoy build that connects: "envoy" (stock; Dubbo REST routes are served only
	// by the embedded gateway) or "higress" (with the HTTP-to-Dubbo transcoder). Default envoy.
	Flavor string `yaml:"flavor"`
	// HTTPPort is the port of Envoy's north-south listener rpcbridge-http.
	HTTPPort uint32 `yaml:"httpPort"`
	// DubboPort is the port of Envoy's Dubbo ingress listener rpcbridge-dubbo.
	DubboPort uint32 `yaml:"dubboPort"`
}

// RegistryConfig is one registry to watch. Exactly the block named by Type is set.
type RegistryConfig struct {
	// Name identifies the registry in labels, diagnostics and logs.
	Name string `yaml:"name"`
	// Type is the registry kind: static, zookeeper, nacos or consul.
	Type string `yaml:"type"`
	// Include keeps only services whose registry name matches one of these globs (all if empty).
	Include []string `yaml:"include"`
	// Exclude drops services whose registry name matches one of these globs.
	Exclude []string `yaml:"exclude"`
	// Static is the static registry's service list.
	Static *static.Config `yaml:"static"`
	// ZooKeeper configures a ZooKeeper registry holding Dubbo providers.
	ZooKeeper *zookeeper.Config `yaml:"zookeeper"`
	// Nacos configures a Nacos registry (namespaces, groups, credentials).
	Nacos *nacos.Config `yaml:"nacos"`
	// Consul configures a Consul agent or server to read the catalog from.
	Consul *consul.Config `yaml:"consul"`
}

// RouteConfig is a user rule that exposes a service over HTTP.
type RouteConfig struct {
	// Service is the service ID ("http:hello") or its name ("hello").
	Service string `yaml:"service"`
	// PathPrefix matches paths starting with it; exclusive with Path.
	PathPrefix string `yaml:"pathPrefix"`
	// Path matches one path exactly; exclusive with PathPrefix.
	Path string `yaml:"path"`
	// Methods restricts HTTP methods; empty means all.
	Methods []string `yaml:"methods"`
	// RewritePrefix replaces PathPrefix before the request goes upstream.
	RewritePrefix *string `yaml:"rewritePrefix"`
	// Timeout bounds the upstream exchange; 0s disables it.
	Timeout *yamltime.Duration `yaml:"timeout"`
}

// The defaults of the embedded configuration.
const (
	DefaultXDSListen     = "127.0.0.1:18000"
	DefaultGatewayListen = "127.0.0.1:8080"
	DefaultAdminListen   = "127.0.0.1:9901"
	DefaultEnvoyHTTPPort = 10080
	DefaultEnvoyDubbo    = 20880
	DefaultEnvoyFlavor   = "envoy"
	DefaultDataDir       = "./data"
	DefaultSyncTimeout   = yamltime.Duration(30 * time.Second)
	DefaultRouteTimeout  = yamltime.Duration(15 * time.Second)
)

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
