// Package fraction reads Envoy's runtime fractions (RuntimeFractionalPercent: a filter's
// filter_enabled, filter_enforced) the way the gateway executes them. The gateway has no runtime
// and does not sample: a fraction's default value must be all requests or none.
package fraction

import (
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
)

// AllOrNothing is f's default value as all requests (true) or none (false); unset is unset
// (each filter has its own default: CORS's filter_enabled is on, local_ratelimit's off). A
// fraction between is an error.
func AllOrNothing(f *corev3.RuntimeFractionalPercent, unset bool) (bool, error) {
	if f == nil {
		return unset, nil
	}
	v := f.GetDefaultValue()
	denominator := map[typev3.FractionalPercent_DenominatorType]uint32{
		typev3.FractionalPercent_HUNDRED:      100,
		typev3.FractionalPercent_TEN_THOUSAND: 10_000,
		typev3.FractionalPercent_MILLION:      1_000_000,
	}[v.GetDenominator()]
	switch {
	case v.GetNumerator() == 0:
		return false, nil
	case v.GetNumerator() >= denominator:
		return true, nil
	}
	return false, fmt.Errorf("%d/%d of requests: the gateway runs a filter for all requests or none", v.GetNumerator(), denominator)
}
