package gatewayv1_test

import (
	"errors"
	"testing"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
)

// TestDubboRouteProtocol: Triple routes round-trip; a protocol this version does not know is
// refused as unsupported (the gateway withholds the route), never run as Dubbo.
func TestDubboRouteProtocol(t *testing.T) {
	r := &gatewayv1.DubboRoute{Interface: "org.foo.Greeter", Method: "greet", Protocol: gatewayv1.DubboProtocol_DUBBO_PROTOCOL_TRIPLE}
	a, err := gatewayv1.MarshalDubboRoute(r)
	if err != nil {
		t.Fatal(err)
	}
	back, err := gatewayv1.UnmarshalDubboRoute(a)
	if err != nil || back.GetProtocol() != gatewayv1.DubboProtocol_DUBBO_PROTOCOL_TRIPLE {
		t.Fatalf("round trip: %v %v", back, err)
	}
	r.Protocol = gatewayv1.DubboProtocol(7)
	var unsupported *gatewayv1.UnsupportedError
	if err := r.Validate(); !errors.As(err, &unsupported) {
		t.Fatalf("unknown protocol: %v, want *gatewayv1.UnsupportedError", err)
	}
}
