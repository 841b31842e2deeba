package fraction

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
)

// TestAllOrNothing: unset gives the filter's default, 0 none, the whole denominator (or more)
// all, anything between an error.
func TestAllOrNothing(t *testing.T) {
	frac := func(n uint32, d typev3.FractionalPercent_DenominatorType) *corev3.RuntimeFractionalPercent {
		return &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{Numerator: n, Denominator: d}}
	}
	for _, c := range []struct {
		f       *corev3.RuntimeFractionalPercent
		unset   bool
		want    bool
		wantErr bool
	}{
		{nil, true, true, false}, {nil, false, false, false},
		{frac(0, typev3.FractionalPercent_HUNDRED), true, false, false},
		{frac(100, typev3.FractionalPercent_HUNDRED), false, true, false},
		{frac(1_000_000, typev3.FractionalPercent_MILLION), false, true, false},
		{frac(100, typev3.FractionalPercent_MILLION), false, false, true},
		{frac(50, typev3.FractionalPercent_HUNDRED), false, false, true},
	} {
		got, err := AllOrNothing(c.f, c.unset)
		if got != c.want || (err != nil) != c.wantErr {
			t.Errorf("AllOrNothing(%v, %v) = %v, %v; want %v, error %v", c.f, c.unset, got, err, c.want, c.wantErr)
		}
	}
}
