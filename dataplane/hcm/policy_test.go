package hcm

import (
	"net/netip"
	"testing"

	mutationv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/early_header_mutation/header_mutation/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func mustAny(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestFromEnvoyDefaults: an HCM with nothing set is Envoy's defaults (use_remote_address
// false, generate_request_id true).
func TestFromEnvoyDefaults(t *testing.T) {
	p, err := FromEnvoy(&hcmv3.HttpConnectionManager{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&Policy{GenerateRequestID: true}, p); diff != "" {
		t.Errorf("policy (-want +got):\n%s", diff)
	}
}

// TestFromEnvoyReadsEveryField reads each field the gateway executes.
func TestFromEnvoyReadsEveryField(t *testing.T) {
	m := &hcmv3.HttpConnectionManager{
		UseRemoteAddress: wrapperspb.Bool(true), XffNumTrustedHops: 2, SkipXffAppend: true,
		GenerateRequestId: wrapperspb.Bool(false), PreserveExternalRequestId: true, AlwaysSetRequestIdInResponse: true,
		ForwardClientCertDetails: hcmv3.HttpConnectionManager_ALWAYS_FORWARD_ONLY,
		InternalAddressConfig: &hcmv3.HttpConnectionManager_InternalAddressConfig{CidrRanges: []*corev3.CidrRange{
			{AddressPrefix: "10.0.0.0", PrefixLen: wrapperspb.UInt32(8)}, {AddressPrefix: "fd00::", PrefixLen: wrapperspb.UInt32(8)}}},
		EarlyHeaderMutationExtensions: []*corev3.TypedExtensionConfig{{Name: "strip", TypedConfig: mustAny(t, &headermutationv3.HeaderMutation{
			Mutations: []*mutationv3.HeaderMutation{{Action: &mutationv3.HeaderMutation_Remove{Remove: "proxy-authorization"}}}})}},
	}
	p, err := FromEnvoy(m, &routev3.RouteConfiguration{InternalOnlyHeaders: []string{"x-real-ip"}})
	if err != nil {
		t.Fatal(err)
	}
	want := &Policy{UseRemoteAddress: true, XFFNumTrustedHops: 2, SkipXFFAppend: true, PreserveExternalRequestID: true,
		AlwaysSetRequestIDInResponse: true, ForwardClientCert: true,
		Internal:            []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")},
		InternalOnlyHeaders: []string{"X-Real-Ip"}, EarlyRemove: []string{"Proxy-Authorization"}}
	if diff := cmp.Diff(want, p, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("policy (-want +got):\n%s", diff)
	}
}

// TestFromEnvoyRefuses: what the gateway cannot execute is an error (the resources are
// NACKed) rather than silently ignored.
func TestFromEnvoyRefuses(t *testing.T) {
	cases := map[string]*hcmv3.HttpConnectionManager{
		"original_ip_detection": {OriginalIpDetectionExtensions: []*corev3.TypedExtensionConfig{{Name: "xff"}}},
		"early mutation type": {EarlyHeaderMutationExtensions: []*corev3.TypedExtensionConfig{{Name: "other",
			TypedConfig: mustAny(t, &wrapperspb.StringValue{})}}},
		"early append": {EarlyHeaderMutationExtensions: []*corev3.TypedExtensionConfig{{Name: "add",
			TypedConfig: mustAny(t, &headermutationv3.HeaderMutation{Mutations: []*mutationv3.HeaderMutation{
				{Action: &mutationv3.HeaderMutation_Append{Append: &corev3.HeaderValueOption{
					Header: &corev3.HeaderValue{Key: "x-a", Value: "1"}}}}}})}}},
		"bad cidr": {InternalAddressConfig: &hcmv3.HttpConnectionManager_InternalAddressConfig{CidrRanges: []*corev3.CidrRange{
			{AddressPrefix: "not-an-ip", PrefixLen: wrapperspb.UInt32(8)}}}},
	}
	for name, m := range cases {
		if _, err := FromEnvoy(m, nil); err == nil {
			t.Errorf("%s: FromEnvoy accepted it", name)
		}
	}
}
