package routetable

import (
	"time"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"

	"github.com/rpcbridge/rpcbridge/internal/downstream"
)

// Envoy's defaults for the downstream fields a listener leaves unset, as its API documents them
// (envoy.config.listener.v3.Listener, envoy.extensions.filters.network.http_connection_manager.v3,
// envoy.config.core.v3.Http2ProtocolOptions). request_timeout and request_headers_timeout are
// off unless set.
const (
	envoyIdleTimeout                 = time.Hour
	envoyStreamIdleTimeout           = 5 * time.Minute
	envoyMaxRequestHeadersBytes      = 60 << 10
	envoyBufferLimitBytes            = 1 << 20
	envoyMaxConcurrentStreams        = 1024
	envoyInitialStreamWindowSize     = 16 << 20
	envoyInitialConnectionWindowSize = 24 << 20
)

// EnvoyDownstreamDefaults are the downstream settings of a listener that sets none of them.
// The gateway serves with them until it has received its listener.
func EnvoyDownstreamDefaults() downstream.Settings {
	return decodeDownstream(&listenerv3.Listener{}, &hcmv3.HttpConnectionManager{})
}

// decodeDownstream reads the downstream limits of a listener and its connection manager, with
// Envoy's semantics: an unset field takes Envoy's default, a zero timeout is off.
func decodeDownstream(l *listenerv3.Listener, hcm *hcmv3.HttpConnectionManager) downstream.Settings {
	h2 := hcm.GetHttp2ProtocolOptions()
	return downstream.Settings{
		IdleTimeout:           durationOr(hcm.GetCommonHttpProtocolOptions().GetIdleTimeout(), envoyIdleTimeout),
		RequestHeadersTimeout: durationOr(hcm.GetRequestHeadersTimeout(), 0),
		Stream: downstream.StreamTimeouts{
			Idle:    durationOr(hcm.GetStreamIdleTimeout(), envoyStreamIdleTimeout),
			Request: durationOr(hcm.GetRequestTimeout(), 0),
		},
		MaxRequestHeadersBytes: int(uint32Or(hcm.GetMaxRequestHeadersKb(), envoyMaxRequestHeadersBytes>>10)) << 10,
		BufferLimitBytes:       int64(uint32Or(l.GetPerConnectionBufferLimitBytes(), envoyBufferLimitBytes)),
		HTTP2: downstream.HTTP2Settings{
			MaxConcurrentStreams:        int(uint32Or(h2.GetMaxConcurrentStreams(), envoyMaxConcurrentStreams)),
			InitialStreamWindowSize:     int(uint32Or(h2.GetInitialStreamWindowSize(), envoyInitialStreamWindowSize)),
			InitialConnectionWindowSize: int(uint32Or(h2.GetInitialConnectionWindowSize(), envoyInitialConnectionWindowSize)),
		},
	}
}
