package controlplane

import (
	"fmt"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// DownstreamLimits bound what clients can make the north-south listener hold. They are emitted
// as Envoy's own listener and HTTP connection manager fields, and the embedded gateway executes
// the same fields as it receives them over xDS. A zero duration disables that timeout, as it
// does in Envoy; a zero size or count leaves Envoy's default.
//
// Envoy documents the fields in
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto
// and https://www.envoyproxy.io/docs/envoy/latest/faq/configuration/timeouts; the defaults
// follow https://www.envoyproxy.io/docs/envoy/latest/configuration/best_practices/edge.
type DownstreamLimits struct {
	// IdleTimeout closes a connection without active requests
	// (common_http_protocol_options.idle_timeout; Envoy's default 1 h).
	IdleTimeout time.Duration
	// StreamIdleTimeout ends a request when neither its body nor its response moved for that
	// long: 408 before the response started, a reset after (stream_idle_timeout; Envoy's
	// default 5 min).
	StreamIdleTimeout time.Duration
	// RequestTimeout bounds receiving the whole request; 408 (request_timeout; off by default
	// in Envoy).
	RequestTimeout time.Duration
	// RequestHeadersTimeout bounds receiving the request headers (request_headers_timeout; off
	// by default in Envoy).
	RequestHeadersTimeout time.Duration
	// BufferLimitBytes bounds each connection's (and so each stream's) buffer, and so a body
	// that a filter buffers whole: 413 beyond it (listener per_connection_buffer_limit_bytes,
	// Envoy's default 1 MiB). It is also each gRPC-JSON transcoder's max_request_body_size.
	BufferLimitBytes uint32
	// UploadLimitBytes bounds the body of a route that takes a file (ir.GRPCRoute.Upload,
	// ir.DubboRoute.Upload) instead of BufferLimitBytes: 413 beyond it. It is such a gRPC
	// route's max_request_body_size and such a Dubbo route's upload_limit (the gateway
	// contract); 0 means BufferLimitBytes.
	UploadLimitBytes uint32
	// MaxConcurrentStreams, InitialStreamWindowSize and InitialConnectionWindowSize are the
	// downstream HTTP/2 settings (http2_protocol_options).
	MaxConcurrentStreams        uint32
	InitialStreamWindowSize     uint32
	InitialConnectionWindowSize uint32
}

// Defaults of DownstreamLimits, for a gateway at the edge.
const (
	// DefaultIdleTimeout and DefaultStreamIdleTimeout are Envoy's defaults, which its edge
	// guide keeps.
	DefaultIdleTimeout       = time.Hour
	DefaultStreamIdleTimeout = 5 * time.Minute
	// DefaultRequestTimeout is on, unlike Envoy's default: without it a client that sends a
	// byte of its body just before each stream idle timeout holds a connection and its buffer
	// for ever. Envoy's edge guide sets 300 s for any edge; rpcbridge's routes transcode
	// bodies of at most BufferLimitBytes (1 MiB by default), and 60 s lets that much arrive
	// at 17 KiB/s. Raise it for plain HTTP routes that take large uploads.
	DefaultRequestTimeout = time.Minute
	// DefaultRequestHeadersTimeout is on, unlike Envoy's default: request headers are a few
	// KiB, so 10 s is ample on a slow link and bounds clients that trickle headers
	// (slowloris).
	DefaultRequestHeadersTimeout = 10 * time.Second
	// DefaultBufferLimitBytes is Envoy's default per-connection buffer limit. The edge guide
	// advises 32 KiB for streaming proxies; the transcoders need the whole body, so it stays at
	// 1 MiB, and the gateway's global buffer budget bounds many such bodies at once.
	DefaultBufferLimitBytes = 1 << 20
	// DefaultUploadLimitBytes is Dubbo's default payload limit (8 MiB), which a file sent to
	// a Dubbo provider cannot exceed anyway; grpc-go servers take 4 MiB messages by default.
	DefaultUploadLimitBytes = 8 << 20
	// DefaultMaxConcurrentStreams and the window sizes are the edge guide's values.
	DefaultMaxConcurrentStreams        = 100
	DefaultInitialStreamWindowSize     = 64 << 10
	DefaultInitialConnectionWindowSize = 1 << 20
)

// DefaultDownstreamLimits returns the limits Translate uses when Options.Downstream is nil.
func DefaultDownstreamLimits() DownstreamLimits {
	return DownstreamLimits{
		IdleTimeout:                 DefaultIdleTimeout,
		StreamIdleTimeout:           DefaultStreamIdleTimeout,
		RequestTimeout:              DefaultRequestTimeout,
		RequestHeadersTimeout:       DefaultRequestHeadersTimeout,
		BufferLimitBytes:            DefaultBufferLimitBytes,
		UploadLimitBytes:            DefaultUploadLimitBytes,
		MaxConcurrentStreams:        DefaultMaxConcurrentStreams,
		InitialStreamWindowSize:     DefaultInitialStreamWindowSize,
		InitialConnectionWindowSize: DefaultInitialConnectionWindowSize,
	}
}

// validate refuses negative timeouts (a zero one is off).
func (d DownstreamLimits) validate() error {
	for _, t := range []struct {
		name string
		d    time.Duration
	}{{"idle timeout", d.IdleTimeout}, {"stream idle timeout", d.StreamIdleTimeout},
		{"request timeout", d.RequestTimeout}, {"request headers timeout", d.RequestHeadersTimeout}} {
		if t.d < 0 {
			return fmt.Errorf("downstream limits: negative %s %s", t.name, t.d)
		}
	}
	return nil
}

// uploadLimit is the body limit of a route that takes a file.
func (d DownstreamLimits) uploadLimit() uint32 {
	if d.UploadLimitBytes == 0 {
		return d.BufferLimitBytes
	}
	return d.UploadLimitBytes
}

// bufferLimit is the listener's per_connection_buffer_limit_bytes; nil leaves Envoy's default.
func (d DownstreamLimits) bufferLimit() *wrapperspb.UInt32Value {
	if d.BufferLimitBytes == 0 {
		return nil
	}
	return wrapperspb.UInt32(d.BufferLimitBytes)
}

// limitConnectionManager sets d's fields on a connection manager. Every timeout is written, a
// disabled one as 0, so that Envoy's own defaults never apply in its place.
func limitConnectionManager(hcm *hcmv3.HttpConnectionManager, d DownstreamLimits) {
	if hcm.CommonHttpProtocolOptions == nil {
		hcm.CommonHttpProtocolOptions = &corev3.HttpProtocolOptions{}
	}
	hcm.CommonHttpProtocolOptions.IdleTimeout = durationpb.New(d.IdleTimeout)
	hcm.StreamIdleTimeout = durationpb.New(d.StreamIdleTimeout)
	hcm.RequestTimeout = durationpb.New(d.RequestTimeout)
	hcm.RequestHeadersTimeout = durationpb.New(d.RequestHeadersTimeout)
	h2 := &corev3.Http2ProtocolOptions{}
	if d.MaxConcurrentStreams > 0 {
		h2.MaxConcurrentStreams = wrapperspb.UInt32(d.MaxConcurrentStreams)
	}
	if d.InitialStreamWindowSize > 0 {
		h2.InitialStreamWindowSize = wrapperspb.UInt32(d.InitialStreamWindowSize)
	}
	if d.InitialConnectionWindowSize > 0 {
		h2.InitialConnectionWindowSize = wrapperspb.UInt32(d.InitialConnectionWindowSize)
	}
	hcm.Http2ProtocolOptions = h2
}
