package controlplane

import "fmt"

// Flavor selects the Envoy build that the resources are for.
type Flavor string

// The flavors.
const (
	// FlavorEnvoy is stock Envoy: HTTP-to-Dubbo routes go to the rpcbridge gateways of
	// Options.DubboGateways (dubbogateways.go), or without them are left out (rpcbridge's own
	// gateways serve them) and reported as diagnostics.
	FlavorEnvoy Flavor = "envoy"
	// FlavorHigress is the Higress Envoy build, which has the HTTP-to-Dubbo transcoder and the
	// Dubbo TCP upstream. The embedded gateway always gets this flavor.
	FlavorHigress Flavor = "higress"
)

// ParseFlavor returns the flavor named s; "" means FlavorEnvoy.
func ParseFlavor(s string) (Flavor, error) {
	switch Flavor(s) {
	case "", FlavorEnvoy:
		return FlavorEnvoy, nil
	case FlavorHigress:
		return FlavorHigress, nil
	default:
		return "", fmt.Errorf("unknown flavor %q (want %q or %q)", s, FlavorEnvoy, FlavorHigress)
	}
}

// Validate reports an unknown flavor; "" is valid (FlavorEnvoy). The configuration file holds a
// Flavor and calls this, so the flavors are known here only.
func (f Flavor) Validate() error {
	_, err := ParseFlavor(string(f))
	return err
}
