// Package hcm executes, for the embedded gateway, the request-header work that Envoy's HTTP
// connection manager (and its HTTP/1 codec) does before routing: hop-by-hop headers removed,
// X-Forwarded-For and X-Forwarded-Proto set by the use_remote_address / xff_num_trusted_hops
// rules, the request classified internal or external (x-envoy-internal, x-envoy-* control
// headers, internal_only_headers), x-envoy-external-address, x-forwarded-client-cert and
// x-request-id. Every path of the gateway (HTTP proxying, gRPC transcoding, Dubbo calls)
// forwards the headers as Apply leaves them, so this is the one place that decides what an
// upstream may see.
//
// The semantics are Envoy's, from
// https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/headers and
// source/common/http/conn_manager_utility.cc (ConnectionManagerUtility::mutateRequestHeaders,
// cleanInternalHeaders), source/common/http/utility.cc (getLastAddressFromXFF,
// sanitizeConnectionHeader) and source/common/http/http1/codec_impl.cc.
package hcm

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/early_header_mutation/header_mutation/v3"
)

// Policy is what one HttpConnectionManager and its route configuration ask of request headers.
// The zero value is Envoy's HCM with every field unset (use_remote_address false, so
// X-Forwarded-For is trusted as it arrives); FromEnvoy reads a real one. A Policy is immutable
// once built and safe for concurrent use.
type Policy struct {
	// UseRemoteAddress, XFFNumTrustedHops, SkipXFFAppend, GenerateRequestID,
	// PreserveExternalRequestID and AlwaysSetRequestIDInResponse are the HCM fields of the same
	// names.
	UseRemoteAddress             bool
	XFFNumTrustedHops            uint32
	SkipXFFAppend                bool
	GenerateRequestID            bool
	PreserveExternalRequestID    bool
	AlwaysSetRequestIDInResponse bool
	// Internal are the internal_address_config CIDR ranges (none: no address is internal, as in
	// Envoy ≥ 1.33).
	Internal []netip.Prefix
	// ForwardClientCert keeps x-forwarded-client-cert (forward_client_cert_details
	// ALWAYS_FORWARD_ONLY); otherwise it is removed, the gateway having no mTLS listener.
	ForwardClientCert bool
	// InternalOnlyHeaders are the route configuration's internal_only_headers, removed from
	// external requests.
	InternalOnlyHeaders []string
	// EarlyRemove are the headers the HCM's early_header_mutation_extensions remove from every
	// request before anything else looks at it.
	EarlyRemove []string
	// Upgrades are the HCM's upgrade_configs; RouteMayUpgrade the upgrade types some route of
	// the route configuration enables. An upgrade of another type is refused before routing.
	Upgrades        Upgrades
	RouteMayUpgrade map[string]bool
}

// earlyHeaderMutationType is the one early header mutation extension the gateway executes.
const earlyHeaderMutationType = "type.googleapis.com/envoy.extensions.http.early_header_mutation.header_mutation.v3.HeaderMutation"

// FromEnvoy reads the policy of an HCM and the route configuration it routes with (nil when it
// has none yet). It fails, so that the resources are rejected, on settings the gateway cannot
// execute: original_ip_detection_extensions (they replace the XFF rules) and early header
// mutations other than remove.
func FromEnvoy(m *hcmv3.HttpConnectionManager, rc *routev3.RouteConfiguration) (*Policy, error) {
	if len(m.GetOriginalIpDetectionExtensions()) > 0 {
		return nil, errors.New("original_ip_detection_extensions are not supported by the embedded gateway")
	}
	p := &Policy{
		UseRemoteAddress:             m.GetUseRemoteAddress().GetValue(),
		XFFNumTrustedHops:            m.GetXffNumTrustedHops(),
		SkipXFFAppend:                m.GetSkipXffAppend(),
		GenerateRequestID:            m.GetGenerateRequestId() == nil || m.GetGenerateRequestId().GetValue(),
		PreserveExternalRequestID:    m.GetPreserveExternalRequestId(),
		AlwaysSetRequestIDInResponse: m.GetAlwaysSetRequestIdInResponse(),
		ForwardClientCert:            m.GetForwardClientCertDetails() == hcmv3.HttpConnectionManager_ALWAYS_FORWARD_ONLY,
	}
	for _, c := range m.GetInternalAddressConfig().GetCidrRanges() {
		addr, err := netip.ParseAddr(c.GetAddressPrefix())
		if err != nil {
			return nil, fmt.Errorf("internal_address_config: %w", err)
		}
		prefix, err := addr.Prefix(int(c.GetPrefixLen().GetValue()))
		if err != nil {
			return nil, fmt.Errorf("internal_address_config: %w", err)
		}
		p.Internal = append(p.Internal, prefix)
	}
	for _, ext := range m.GetEarlyHeaderMutationExtensions() {
		if ext.GetTypedConfig().GetTypeUrl() != earlyHeaderMutationType {
			return nil, fmt.Errorf("early header mutation %q: type %s is not supported", ext.GetName(), ext.GetTypedConfig().GetTypeUrl())
		}
		var hm headermutationv3.HeaderMutation
		if err := ext.GetTypedConfig().UnmarshalTo(&hm); err != nil {
			return nil, fmt.Errorf("early header mutation %q: %w", ext.GetName(), err)
		}
		for _, mut := range hm.GetMutations() {
			if mut.GetRemove() == "" {
				return nil, fmt.Errorf("early header mutation %q: only remove mutations are supported", ext.GetName())
			}
			p.EarlyRemove = append(p.EarlyRemove, http.CanonicalHeaderKey(mut.GetRemove()))
		}
	}
	p.Upgrades = HCMUpgrades(m)
	for _, vh := range rc.GetVirtualHosts() {
		for _, r := range vh.GetRoutes() {
			for typ, enabled := range RouteUpgrades(r.GetRoute()) {
				if enabled {
					if p.RouteMayUpgrade == nil {
						p.RouteMayUpgrade = map[string]bool{}
					}
					p.RouteMayUpgrade[typ] = true
				}
			}
		}
	}
	for _, h := range rc.GetInternalOnlyHeaders() {
		p.InternalOnlyHeaders = append(p.InternalOnlyHeaders, http.CanonicalHeaderKey(h))
	}
	return p, nil
}

// internal reports whether addr is in one of the internal ranges.
func (p *Policy) internal(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, r := range p.Internal {
		if r.Contains(addr) {
			return true
		}
	}
	return false
}
