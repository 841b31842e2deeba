package gatewayv1

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/types/known/anypb"
)

// Hashed API keys: the names of the contract's api_key_auth variant whose credentials are
// digests (see APIKeyDigestAuth in gateway.proto).
const (
	// APIKeyDigestAuthFilter is the name of the connection manager's HTTP filter that
	// authenticates API keys by their digests, and the key of its per-route
	// ApiKeyAuthPerRoute in a route's typed_per_filter_config. The control plane sends it to
	// rpcbridge gateways only, never is_optional: a gateway or an Envoy that does not know it
	// refuses the routes that enable it (an rpcbridge gateway withholds them, an Envoy rejects
	// the listener), so a digest is never read as a key.
	APIKeyDigestAuthFilter = "rpcbridge.filters.http.api_key_auth_digest"
	// APIKeyDigestAuthTypeURL is the type URL of this version's APIKeyDigestAuth.
	APIKeyDigestAuthTypeURL = typeURLPrefix + contractPackage + "v1.APIKeyDigestAuth"
)

// MarshalAPIKeyDigestAuth checks m and packs it as the typed_config of APIKeyDigestAuthFilter:
// an Any holding an xds.type.v3.TypedStruct of APIKeyDigestAuthTypeURL (as MarshalDubboRoute
// packs a DubboRoute, for the same reason). Equal messages give equal bytes.
func MarshalAPIKeyDigestAuth(m *APIKeyDigestAuth) (*anypb.Any, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return packTypedStruct(APIKeyDigestAuthFilter, APIKeyDigestAuthTypeURL, m)
}

// UnmarshalAPIKeyDigestAuth decodes and checks the typed_config of APIKeyDigestAuthFilter: the
// TypedStruct MarshalAPIKeyDigestAuth writes or the binary Any of an APIKeyDigestAuth. Another
// type URL (a later version) or an algorithm this version does not know is an
// *UnsupportedError: the gateway withholds the routes that enable the filter.
func UnmarshalAPIKeyDigestAuth(a *anypb.Any) (*APIKeyDigestAuth, error) {
	m := &APIKeyDigestAuth{}
	// An enum name this version does not know fails in the JSON form; it is a later version's.
	if err := unpackTypedStruct(a, APIKeyDigestAuthTypeURL, m, unsupportedDigestType, func(err error) error {
		return &UnsupportedError{Reason: fmt.Sprintf("%s: %v: upgrade the gateway to the control plane's version", APIKeyDigestAuthFilter, err)}
	}); err != nil {
		return nil, err
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// unsupportedDigestType is the error for a filter config of a type URL this version does not
// read.
func unsupportedDigestType(url string) error {
	name := url[strings.LastIndex(url, "/")+1:]
	return &UnsupportedError{Reason: fmt.Sprintf("%s holds a %q, this gateway reads %s only: upgrade the gateway to the control plane's version",
		APIKeyDigestAuthFilter, name, strings.TrimPrefix(APIKeyDigestAuthTypeURL, typeURLPrefix))}
}

// Validate reports an algorithm that is unset or unknown to this version (an
// *UnsupportedError).
func (m *APIKeyDigestAuth) Validate() error {
	if m == nil {
		return errors.New(APIKeyDigestAuthFilter + ": no configuration")
	}
	switch m.GetAlgorithm() {
	case DigestAlgorithm_DIGEST_ALGORITHM_SHA256:
		return nil
	}
	return &UnsupportedError{Reason: fmt.Sprintf("%s: digest algorithm %v is unset or unknown to this gateway: upgrade the gateway to the control plane's version",
		APIKeyDigestAuthFilter, m.GetAlgorithm())}
}
