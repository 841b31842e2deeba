package gatewayv1_test

import (
	"errors"
	"testing"

	xdstypev3 "github.com/cncf/xds/go/xds/type/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
)

// TestAPIKeyDigestAuthRoundTrip: the TypedStruct and the binary Any both decode to the
// message; the type URL constant is the descriptor's.
func TestAPIKeyDigestAuthRoundTrip(t *testing.T) {
	want := &gatewayv1.APIKeyDigestAuth{Algorithm: gatewayv1.DigestAlgorithm_DIGEST_ALGORITHM_SHA256}
	packed, err := gatewayv1.MarshalAPIKeyDigestAuth(want)
	if err != nil {
		t.Fatal(err)
	}
	binary, err := anypb.New(want)
	if err != nil {
		t.Fatal(err)
	}
	if binary.GetTypeUrl() != gatewayv1.APIKeyDigestAuthTypeURL {
		t.Errorf("APIKeyDigestAuthTypeURL = %q, the descriptor says %q", gatewayv1.APIKeyDigestAuthTypeURL, binary.GetTypeUrl())
	}
	for name, a := range map[string]*anypb.Any{"typed struct": packed, "binary": binary} {
		got, err := gatewayv1.UnmarshalAPIKeyDigestAuth(a)
		if err != nil || got.GetAlgorithm() != want.GetAlgorithm() {
			t.Errorf("%s: %v, %v", name, got, err)
		}
	}
}

// TestUnmarshalAPIKeyDigestAuthRefusesWhatItDoesNotRead: an unset or unknown algorithm, a later
// version's type URL and another type are *UnsupportedError (the gateway withholds the routes),
// and Marshal refuses an unset algorithm.
func TestUnmarshalAPIKeyDigestAuthRefusesWhatItDoesNotRead(t *testing.T) {
	typed := func(url string, fields map[string]any) *anypb.Any {
		v, err := structpb.NewStruct(fields)
		if err != nil {
			t.Fatal(err)
		}
		a, err := anypb.New(&xdstypev3.TypedStruct{TypeUrl: url, Value: v})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	unset, err := anypb.New(&gatewayv1.APIKeyDigestAuth{})
	if err != nil {
		t.Fatal(err)
	}
	other, err := anypb.New(&gatewayv1.DubboRoute{})
	if err != nil {
		t.Fatal(err)
	}
	for name, a := range map[string]*anypb.Any{
		"unset":             unset,
		"unknown algorithm": typed(gatewayv1.APIKeyDigestAuthTypeURL, map[string]any{"algorithm": "DIGEST_ALGORITHM_ARGON2"}),
		"unset in struct":   typed(gatewayv1.APIKeyDigestAuthTypeURL, map[string]any{}),
		"v2":                typed("type.googleapis.com/rpcbridge.gateway.v2.APIKeyDigestAuth", map[string]any{"algorithm": "DIGEST_ALGORITHM_SHA256"}),
		"other type":        other,
	} {
		_, err := gatewayv1.UnmarshalAPIKeyDigestAuth(a)
		var unsupported *gatewayv1.UnsupportedError
		if !errors.As(err, &unsupported) {
			t.Errorf("%s: %v, want an *UnsupportedError", name, err)
		}
	}
	if _, err := gatewayv1.MarshalAPIKeyDigestAuth(&gatewayv1.APIKeyDigestAuth{}); err == nil {
		t.Error("Marshal of an unset algorithm succeeded")
	}
}
