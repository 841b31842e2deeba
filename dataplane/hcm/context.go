package hcm

import (
	"context"
	"net/netip"
)

// Downstream is what the connection manager found out about a request's origin. The gateway
// keeps it in the request's context (NewContext) for its logs.
type Downstream struct {
	// RequestID is the request's x-request-id after Apply (generated, or kept from the
	// client); empty when the request has none.
	RequestID string
	// RemoteAddress is Envoy's trusted client address (%DOWNSTREAM_REMOTE_ADDRESS%): the peer,
	// or the address trusted proxies wrote into X-Forwarded-For.
	RemoteAddress netip.Addr
	// DirectRemoteAddress is the connection's peer (%DOWNSTREAM_DIRECT_REMOTE_ADDRESS%).
	DirectRemoteAddress netip.Addr
	// Internal is set for internal requests (x-envoy-internal: true).
	Internal bool
	// Edge is set for external requests to a gateway that uses the remote address.
	Edge bool
	// Upgrade is the lower-cased Upgrade of an upgrade request some upgrade_configs may allow
	// ("websocket"); the gateway checks the matched route's (see Policy.MayUpgrade).
	Upgrade string
}

type contextKey struct{}

// NewContext returns ctx carrying d.
func NewContext(ctx context.Context, d Downstream) context.Context {
	return context.WithValue(ctx, contextKey{}, d)
}

// FromContext returns the Downstream of the request whose context ctx is, if Apply ran on it.
func FromContext(ctx context.Context) (Downstream, bool) {
	d, ok := ctx.Value(contextKey{}).(Downstream)
	return d, ok
}
