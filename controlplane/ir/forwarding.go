package ir

import (
	"fmt"
	"net/netip"
	"regexp"
)

// Forwarding is how the north-south HTTP listener treats the headers that say where a request
// came from: which peers are trusted to have set X-Forwarded-For and X-Forwarded-Proto, which
// requests count as internal, and how x-request-id is made. Each field is the Envoy
// HttpConnectionManager (or RouteConfiguration) setting of the same name, and both data planes
// apply it with Envoy's semantics: controlplane emits it on the rpcbridge-http listener, the
// embedded gateway reads it back from there. See
// https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/headers
// (x-forwarded-for, x-forwarded-proto, x-envoy-internal, x-request-id).
type Forwarding struct {
	// UseRemoteAddress makes the peer of the connection the trusted client address (the gateway
	// is the edge): X-Forwarded-For is appended to, X-Forwarded-Proto is set from the connection,
	// and request ids are regenerated. When false, the last address of X-Forwarded-For is
	// trusted instead (the gateway sits behind a trusted proxy). HCM use_remote_address.
	UseRemoteAddress bool `json:"useRemoteAddress" yaml:"useRemoteAddress"`
	// XFFNumTrustedHops is how many proxies in front of the gateway are trusted: that many
	// addresses at the right end of X-Forwarded-For were written by them, and X-Forwarded-Proto
	// from them is kept. HCM xff_num_trusted_hops.
	XFFNumTrustedHops uint32 `json:"xffNumTrustedHops,omitempty" yaml:"xffNumTrustedHops,omitempty"`
	// SkipXFFAppend keeps the gateway from appending the peer to X-Forwarded-For. HCM
	// skip_xff_append.
	SkipXFFAppend bool `json:"skipXffAppend,omitempty" yaml:"skipXffAppend,omitempty"`
	// InternalAddresses are the CIDR ranges whose clients are internal (x-envoy-internal: true,
	// x-envoy-* control headers kept). Empty means no address is internal, as in Envoy ≥ 1.33.
	// HCM internal_address_config.cidr_ranges.
	InternalAddresses []string `json:"internalAddresses,omitempty" yaml:"internalAddresses,omitempty"`
	// GenerateRequestID makes the gateway set x-request-id (a UUID v4) on requests that have
	// none, and on every external request unless PreserveExternalRequestID. HCM
	// generate_request_id.
	GenerateRequestID bool `json:"generateRequestId" yaml:"generateRequestId"`
	// PreserveExternalRequestID keeps the x-request-id an external client sent. HCM
	// preserve_external_request_id.
	PreserveExternalRequestID bool `json:"preserveExternalRequestId,omitempty" yaml:"preserveExternalRequestId,omitempty"`
	// AlwaysSetRequestIDInResponse returns the request's x-request-id in every response. HCM
	// always_set_request_id_in_response.
	AlwaysSetRequestIDInResponse bool `json:"alwaysSetRequestIdInResponse,omitempty" yaml:"alwaysSetRequestIdInResponse,omitempty"`
	// InternalOnlyHeaders are removed from external requests (lower-case names).
	// RouteConfiguration internal_only_headers.
	InternalOnlyHeaders []string `json:"internalOnlyHeaders,omitempty" yaml:"internalOnlyHeaders,omitempty"`
}

// DefaultForwarding is the forwarding policy of a gateway that is the edge and trusts no client:
// the connection's peer is the client, no proxy in front is trusted, no address is internal,
// request ids are generated and external ones replaced, and the forgeable forwarding headers
// Envoy passes through (Forwarded, X-Forwarded-Host, X-Forwarded-Port, X-Real-IP) are removed
// from external requests.
func DefaultForwarding() Forwarding {
	return Forwarding{
		UseRemoteAddress:    true,
		GenerateRequestID:   true,
		InternalOnlyHeaders: []string{"forwarded", "x-forwarded-host", "x-forwarded-port", "x-real-ip"},
	}
}

// ForwardingOrDefault is the gateway's forwarding policy: Forwarding, or DefaultForwarding when
// it is unset.
func (g Gateway) ForwardingOrDefault() Forwarding {
	if g.Forwarding == nil {
		return DefaultForwarding()
	}
	return *g.Forwarding
}

// RequestIDHeader is the header that carries a request's id to every upstream: an HTTP header,
// gRPC metadata, and a Dubbo attachment of the same name.
const RequestIDHeader = "x-request-id"

// headerNameRE is a lower-case HTTP header name (an RFC 9110 token).
var headerNameRE = regexp.MustCompile("^[a-z0-9!#$%&'*+.^_`|~-]+$")

// ParseInternalAddress parses one of Forwarding.InternalAddresses: a CIDR range.
func ParseInternalAddress(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("internal address %q is not a CIDR range (10.0.0.0/8, fd00::/8)", s)
	}
	return p.Masked(), nil
}

// CheckInternalOnlyHeader checks one of Forwarding.InternalOnlyHeaders: a lower-case header
// name other than host, which Envoy refuses to remove.
func CheckInternalOnlyHeader(h string) error {
	if !headerNameRE.MatchString(h) || h == "host" {
		return fmt.Errorf("internal-only header %q is not a lower-case header name other than host", h)
	}
	return nil
}
