package controlplane

import (
	"fmt"

	mutationv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/early_header_mutation/header_mutation/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// earlyHeaderMutationName is the HCM early header mutation extension that removes
// proxyCredentialHeaders before any filter runs.
const earlyHeaderMutationName = "envoy.http.early_header_mutation.header_mutation"

// proxyCredentialHeaders are removed from every request on the HTTP listener, before routing
// and before any filter (the gRPC-JSON and HTTP-to-Dubbo transcoders turn headers into gRPC
// metadata and Dubbo attachments). They are meant for the proxy the client talks to (RFC 9110
// 11.7.1, 11.7.2) and must never reach an upstream; Envoy's connection manager strips the other
// hop-by-hop headers itself but passes these on (envoyproxy/envoy#5544 was closed unmerged),
// hence an early_header_mutation_extensions entry that both data planes execute.
var proxyCredentialHeaders = []string{"proxy-authenticate", "proxy-authorization"}

// applyForwarding sets the forwarding policy f on the HTTP listener's connection manager: the
// HCM settings of the same names and the early removal of proxyCredentialHeaders.
func applyForwarding(hcm *hcmv3.HttpConnectionManager, f ir.Forwarding) error {
	internal, err := internalAddressConfig(f.InternalAddresses)
	if err != nil {
		return err
	}
	mutations := make([]*mutationv3.HeaderMutation, len(proxyCredentialHeaders))
	for i, h := range proxyCredentialHeaders {
		mutations[i] = &mutationv3.HeaderMutation{Action: &mutationv3.HeaderMutation_Remove{Remove: h}}
	}
	early, err := typedConfig(&headermutationv3.HeaderMutation{Mutations: mutations})
	if err != nil {
		return err
	}
	hcm.UseRemoteAddress = wrapperspb.Bool(f.UseRemoteAddress)
	hcm.XffNumTrustedHops = f.XFFNumTrustedHops
	hcm.SkipXffAppend = f.SkipXFFAppend
	hcm.InternalAddressConfig = internal
	hcm.GenerateRequestId = wrapperspb.Bool(f.GenerateRequestID)
	hcm.PreserveExternalRequestId = f.PreserveExternalRequestID
	hcm.AlwaysSetRequestIdInResponse = f.AlwaysSetRequestIDInResponse
	hcm.EarlyHeaderMutationExtensions = []*corev3.TypedExtensionConfig{{Name: earlyHeaderMutationName, TypedConfig: early}}
	return nil
}

// internalAddressConfig is the HCM internal_address_config of the CIDR ranges, nil for none
// (Envoy ≥ 1.33 then treats no address as internal).
func internalAddressConfig(cidrs []string) (*hcmv3.HttpConnectionManager_InternalAddressConfig, error) {
	if len(cidrs) == 0 {
		return nil, nil
	}
	out := &hcmv3.HttpConnectionManager_InternalAddressConfig{}
	for _, c := range cidrs {
		p, err := ir.ParseInternalAddress(c)
		if err != nil {
			return nil, fmt.Errorf("forwarding: %w", err)
		}
		out.CidrRanges = append(out.CidrRanges, &corev3.CidrRange{
			AddressPrefix: p.Addr().String(), PrefixLen: wrapperspb.UInt32(uint32(p.Bits())),
		})
	}
	return out, nil
}

// applyInternalOnlyHeaders sets the route configuration's internal_only_headers: the headers
// removed from external requests.
func applyInternalOnlyHeaders(rc *routev3.RouteConfiguration, f ir.Forwarding) error {
	for _, h := range f.InternalOnlyHeaders {
		if err := ir.CheckInternalOnlyHeader(h); err != nil {
			return fmt.Errorf("forwarding: %w", err)
		}
	}
	if len(f.InternalOnlyHeaders) > 0 {
		rc.InternalOnlyHeaders = append([]string(nil), f.InternalOnlyHeaders...)
	}
	return nil
}
