package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// TestForwardingDefaultsAreTheEdgePolicy: without gateway.forwarding the policy is
// ir.DefaultForwarding (use_remote_address true, no trusted hop, ids generated).
func TestForwardingDefaultsAreTheEdgePolicy(t *testing.T) {
	cfg, err := Parse("rpcbridge.yaml", []byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ir.DefaultForwarding(), cfg.Gateway.Forwarding.IR()); diff != "" {
		t.Errorf("forwarding (-want +got):\n%s", diff)
	}
}

// TestForwardingKeys decodes every key and checks that set keys replace their defaults only.
func TestForwardingKeys(t *testing.T) {
	doc := valid + `gateway:
  forwarding:
    useRemoteAddress: false
    xffNumTrustedHops: 2
    skipXffAppend: true
    internalAddresses: [10.0.0.0/8]
    generateRequestId: false
    preserveExternalRequestId: true
    alwaysSetRequestIdInResponse: true
    internalOnlyHeaders: []
`
	cfg, err := Parse("rpcbridge.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := ir.Forwarding{XFFNumTrustedHops: 2, SkipXFFAppend: true, InternalAddresses: []string{"10.0.0.0/8"},
		PreserveExternalRequestID: true, AlwaysSetRequestIDInResponse: true, InternalOnlyHeaders: []string{}}
	if diff := cmp.Diff(want, cfg.Gateway.Forwarding.IR()); diff != "" {
		t.Errorf("forwarding (-want +got):\n%s", diff)
	}
	partial, err := Parse("rpcbridge.yaml", []byte(valid+"gateway:\n  forwarding: {xffNumTrustedHops: 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	wantPartial := ir.DefaultForwarding()
	wantPartial.XFFNumTrustedHops = 1
	if diff := cmp.Diff(wantPartial, partial.Gateway.Forwarding.IR()); diff != "" {
		t.Errorf("forwarding with one key (-want +got):\n%s", diff)
	}
}

// TestForwardingRefusals: unknown keys, wrong types and invalid values name file, line and key.
func TestForwardingRefusals(t *testing.T) {
	cases := map[string]string{
		"gateway:\n  forwarding: {useRemoteAdress: true}\n":         `unknown key "useRemoteAdress"`,
		"gateway:\n  forwarding: {xffNumTrustedHops: -1}\n":         "gateway.forwarding.xffNumTrustedHops: cannot unmarshal !!int `-1` into uint32",
		"gateway:\n  forwarding: {internalAddresses: [10.0.0.1]}\n": `gateway.forwarding.internalAddresses[0]: internal address "10.0.0.1" is not a CIDR range`,
		"gateway:\n  forwarding: {internalOnlyHeaders: [Host]}\n":   `gateway.forwarding.internalOnlyHeaders[0]: internal-only header "Host"`,
		"gateway:\n  forwarding: {internalOnlyHeaders: [host]}\n":   `gateway.forwarding.internalOnlyHeaders[0]`,
		"gateway:\n  forwarding: {generateRequestId: 3}\n":          "into bool",
	}
	for doc, want := range cases {
		_, err := Parse("rpcbridge.yaml", []byte(valid+doc))
		var cerr *Error
		if !errors.As(err, &cerr) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "rpcbridge.yaml:") {
			t.Errorf("%q: got %v, want a problem with file:line mentioning %q", doc, err, want)
		}
	}
}
