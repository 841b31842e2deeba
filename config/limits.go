package config

import (
	"time"

	"github.com/rpcbridge/rpcbridge/controlplane"
	"github.com/rpcbridge/rpcbridge/internal/yamltime"
)

// ListenerTimeouts are the timeouts of one HTTP listener, Envoy's HTTP connection manager
// fields of the same names. An absent key takes the default; "0s" turns the timeout off, as a
// zero does in Envoy. docs/operations.md lists the defaults and why.
type ListenerTimeouts struct {
	// IdleTimeout closes a connection without requests (common_http_protocol_options.idle_timeout).
	IdleTimeout *yamltime.Duration `yaml:"idleTimeout"`
	// StreamIdleTimeout answers 408 to a request whose body and response both stalled
	// (stream_idle_timeout).
	StreamIdleTimeout *yamltime.Duration `yaml:"streamIdleTimeout"`
	// RequestTimeout answers 408 to a request not received in full (request_timeout).
	RequestTimeout *yamltime.Duration `yaml:"requestTimeout"`
	// RequestHeadersTimeout answers 408 to headers not received in full (request_headers_timeout).
	RequestHeadersTimeout *yamltime.Duration `yaml:"requestHeadersTimeout"`
}

// GatewayLimits bound what clients can make the gateway hold (gateway.limits). The timeouts,
// bufferLimitBytes and maxConcurrentStreams are listener settings: they are emitted over xDS to
// Envoy and to the embedded gateway alike. maxConnections and bufferBudgetBytes are the embedded
// gateway's process limits (Envoy keeps those in its bootstrap: `rpcbridge bootstrap
// --max-connections`). Read at start; zero sizes take the default.
type GatewayLimits struct {
	ListenerTimeouts `yaml:",inline"`
	// BufferLimitBytes bounds a request body the transcoders buffer; larger ones get 413
	// (listener per_connection_buffer_limit_bytes and the transcoders' max_request_body_size).
	BufferLimitBytes int64 `yaml:"bufferLimitBytes"`
	// MaxUploadBytes bounds the body of a route that takes a file (a bytes or
	// google.api.HttpBody body field, a byte[] argument from the body) instead of
	// bufferLimitBytes: raw, multipart/form-data or JSON, read as it arrives; larger ones get
	// 413 (the gRPC routes' max_request_body_size, the Dubbo routes' upload limit). Default 8 MiB.
	MaxUploadBytes int64 `yaml:"maxUploadBytes"`
	// MaxConcurrentStreams bounds the streams of one HTTP/2 connection
	// (http2_protocol_options.max_concurrent_streams).
	MaxConcurrentStreams int64 `yaml:"maxConcurrentStreams"`
	// MaxConnections bounds the embedded gateway's client connections; more are closed as they
	// arrive (Envoy's global_downstream_max_connections).
	MaxConnections int `yaml:"maxConnections"`
	// BufferBudgetBytes bounds the request bodies the embedded gateway's transcoders hold at
	// once; a request beyond it gets 503 (as Envoy's stop_accepting_requests).
	BufferBudgetBytes int64 `yaml:"bufferBudgetBytes"`
}

// AdminLimits bound what clients can make the admin API hold (admin.limits); read at start.
type AdminLimits struct {
	ListenerTimeouts `yaml:",inline"`
	// MaxConnections bounds the admin API's client connections; more are closed as they arrive.
	MaxConnections int `yaml:"maxConnections"`
}

// The admin API's defaults where they differ from the gateway's.
const (
	// DefaultAdminRequestTimeout gives an IDL upload of admin.uploads.maxBytes (32 MiB) five
	// minutes, Envoy's edge-guide request_timeout, which is 110 KiB/s.
	DefaultAdminRequestTimeout = yamltime.Duration(5 * time.Minute)
	// DefaultAdminMaxConnections is ample for operators, scrapers and the console, and keeps
	// the admin API's file descriptors few.
	DefaultAdminMaxConnections = 256
)

// Downstream returns the limits emitted for the HTTP listener: controlplane's defaults with
// what the file sets.
func (g GatewayLimits) Downstream() controlplane.DownstreamLimits {
	d := controlplane.DefaultDownstreamLimits()
	g.ListenerTimeouts.apply(&d)
	if g.BufferLimitBytes > 0 {
		d.BufferLimitBytes = uint32(g.BufferLimitBytes)
	}
	if g.MaxUploadBytes > 0 {
		d.UploadLimitBytes = uint32(g.MaxUploadBytes)
	}
	if g.MaxConcurrentStreams > 0 {
		d.MaxConcurrentStreams = uint32(g.MaxConcurrentStreams)
	}
	return d
}

// Downstream returns the admin listener's limits: the gateway's defaults (the buffer limit and
// HTTP/2 settings aside), with the admin API's request timeout, and what the file sets.
func (a AdminLimits) Downstream() controlplane.DownstreamLimits {
	d := controlplane.DefaultDownstreamLimits()
	d.RequestTimeout = DefaultAdminRequestTimeout.Std()
	a.ListenerTimeouts.apply(&d)
	return d
}

// apply overrides d's timeouts with the ones set.
func (t ListenerTimeouts) apply(d *controlplane.DownstreamLimits) {
	for _, f := range []struct {
		set *yamltime.Duration
		to  *time.Duration
	}{{t.IdleTimeout, &d.IdleTimeout}, {t.StreamIdleTimeout, &d.StreamIdleTimeout},
		{t.RequestTimeout, &d.RequestTimeout}, {t.RequestHeadersTimeout, &d.RequestHeadersTimeout}} {
		if f.set != nil {
			*f.to = f.set.Std()
		}
	}
}

// validate refuses sizes out of range (zero means the default).
func (g GatewayLimits) validate(add func(key, format string, args ...any)) {
	switch {
	case g.BufferLimitBytes < 0 || g.BufferLimitBytes > 1<<32-1:
		add("gateway.limits.bufferLimitBytes", "%d is not in 0..4294967295; use 0 for the default", g.BufferLimitBytes)
	case g.BufferBudgetBytes > 0 && g.BufferLimitBytes > g.BufferBudgetBytes:
		add("gateway.limits.bufferLimitBytes", "%d is more than bufferBudgetBytes (%d): no such body could be buffered", g.BufferLimitBytes, g.BufferBudgetBytes)
	}
	switch {
	case g.MaxUploadBytes < 0 || g.MaxUploadBytes > 1<<32-1:
		add("gateway.limits.maxUploadBytes", "%d is not in 0..4294967295; use 0 for the default", g.MaxUploadBytes)
	case g.BufferBudgetBytes > 0 && g.MaxUploadBytes > g.BufferBudgetBytes:
		add("gateway.limits.maxUploadBytes", "%d is more than bufferBudgetBytes (%d): no such upload could be read", g.MaxUploadBytes, g.BufferBudgetBytes)
	}
	if g.MaxConcurrentStreams < 0 || g.MaxConcurrentStreams > 1<<31-1 {
		add("gateway.limits.maxConcurrentStreams", "%d is not in 0..2147483647; use 0 for the default", g.MaxConcurrentStreams)
	}
	if g.MaxConnections < 0 {
		add("gateway.limits.maxConnections", "%d is negative; use 0 for the default", g.MaxConnections)
	}
	if g.BufferBudgetBytes < 0 {
		add("gateway.limits.bufferBudgetBytes", "%d is negative; use 0 for the default", g.BufferBudgetBytes)
	}
}

// validate refuses a negative connection limit (zero means the default).
func (a AdminLimits) validate(add func(key, format string, args ...any)) {
	if a.MaxConnections < 0 {
		add("admin.limits.maxConnections", "%d is negative; use 0 for the default", a.MaxConnections)
	}
}
