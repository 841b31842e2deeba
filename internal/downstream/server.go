package downstream

import (
	"log/slog"
	"net/http"
	"time"
)

// Settings are the downstream limits of one HTTP listener, in the terms of Envoy's listener and
// HTTP connection manager. A zero duration disables that timeout, as in Envoy; a zero size
// leaves net/http's default.
type Settings struct {
	// IdleTimeout closes a connection without requests for that long (HCM
	// common_http_protocol_options.idle_timeout). HTTP/2 connections are sent GOAWAY first.
	IdleTimeout time.Duration
	// RequestHeadersTimeout bounds receiving a request's headers (HCM request_headers_timeout).
	RequestHeadersTimeout time.Duration
	// Stream are the per-request timeouts (HCM stream_idle_timeout and request_timeout).
	Stream StreamTimeouts
	// MaxRequestHeadersBytes bounds the request line and headers; beyond it net/http answers
	// 431, as Envoy does (HCM max_request_headers_kb).
	MaxRequestHeadersBytes int
	// BufferLimitBytes bounds a request body that a handler buffers whole (listener
	// per_connection_buffer_limit_bytes, which Envoy applies to each stream's buffer).
	BufferLimitBytes int64
	// HTTP2 are the HTTP/2 (h2c) settings.
	HTTP2 HTTP2Settings
}

// HTTP2Settings are HTTP/2 protocol options (Envoy's Http2ProtocolOptions).
type HTTP2Settings struct {
	// MaxConcurrentStreams bounds the streams a client may open on one connection
	// (max_concurrent_streams).
	MaxConcurrentStreams int
	// InitialStreamWindowSize and InitialConnectionWindowSize bound what a client may send
	// before the server has read it, per stream and per connection
	// (initial_stream_window_size, initial_connection_window_size). net/http accepts less than
	// 4 MiB; larger values are capped.
	InitialStreamWindowSize     int
	InitialConnectionWindowSize int
}

// maxGoWindow is the largest HTTP/2 flow-control window net/http accepts ("less than 4MiB").
const maxGoWindow = 4<<20 - 1

// headerTimeout is the read deadline of a request's headers: RequestHeadersTimeout, or, when
// that is off, the stream idle timeout (Envoy: "prior to receipt of the initial request
// headers, the stream_idle_timeout applies"), or else the idle timeout, so that a connection
// that never sends a request is still closed (Envoy's idle timer runs from the connection's
// start; net/http applies IdleTimeout only between requests).
func (s Settings) headerTimeout() time.Duration {
	for _, d := range []time.Duration{s.RequestHeadersTimeout, s.Stream.Idle, s.IdleTimeout} {
		if d > 0 {
			return d
		}
	}
	return 0
}

// NewServer returns the net/http server of s for handler, serving HTTP/1.1 and, when h2c is
// true, HTTP/2: with prior knowledge on plaintext connections, and by ALPN ("h2") on TLS
// connections that the listener wraps (tls.Server). On TLS connections the header timeout
// closes the connection without the plaintext 408. The per-stream timeouts are not the server's: run the
// handler under StartStream or Guard.
func NewServer(handler http.Handler, s Settings, h2c bool, errorLog *slog.Logger) *http.Server {
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(h2c)
	protocols.SetHTTP2(h2c)
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: s.headerTimeout(),
		IdleTimeout:       s.IdleTimeout,
		MaxHeaderBytes:    s.MaxRequestHeadersBytes,
		Protocols:         protocols,
		ConnState:         trackState,
		HTTP2: &http.HTTP2Config{
			MaxConcurrentStreams:          s.HTTP2.MaxConcurrentStreams,
			MaxReceiveBufferPerStream:     min(s.HTTP2.InitialStreamWindowSize, maxGoWindow),
			MaxReceiveBufferPerConnection: min(s.HTTP2.InitialConnectionWindowSize, maxGoWindow),
		},
	}
	if errorLog != nil {
		srv.ErrorLog = slog.NewLogLogger(errorLog.Handler(), slog.LevelWarn)
	}
	return srv
}
