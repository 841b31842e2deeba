package dubbojson

import (
	"math/big"
	"strings"
	"testing"

	gxbig "github.com/dubbogo/gost/math/big"

	"github.com/rpcbridge/rpcbridge/javatype"
)

// TestDefaultDecimalLimitsFitDubboGo checks the claim behind javatype's default NumberLimits:
// every BigDecimal within them, written as the gateway writes it (javatype.Decimal.String), is
// decoded exactly by dubbo-go-hessian2's decimal (gost's math/big.Decimal, what a dubbo-go
// provider turns a java.math.BigDecimal into; its FromString failing is what made the provider
// close the connection). Every precision and scale within the limits is tried, with digits that
// fill every word, and with the sign both ways; just beyond the limits the layout overflows,
// which is why they are where they are.
func TestDefaultDecimalLimitsFitDubboGo(t *testing.T) {
	limits := javatype.NumberLimits{}.OrDefaults()
	failures := 0
	for p := 1; p <= limits.MaxDecimalDigits; p++ {
		for s := -limits.MaxDecimalScale; s <= limits.MaxDecimalScale; s++ {
			for _, digits := range []string{strings.Repeat("9", p), "1" + strings.Repeat("0", p-1), "1" + strings.Repeat("2", p-1)} {
				for _, neg := range []bool{false, true} {
					d := javatype.Decimal{Negative: neg, Digits: digits, Scale: s}
					if err := decodesInDubboGo(d); err != nil && failures < 10 {
						failures++
						t.Errorf("precision %d scale %d: %s: %v", p, s, d, err)
					}
				}
			}
		}
	}
	zero := javatype.Decimal{Digits: "0", Scale: -limits.MaxDecimalScale}
	if err := decodesInDubboGo(zero); err != nil {
		t.Errorf("%s: %v", zero, err)
	}
	// One digit more at the largest scale magnitude does not fit: the limits are not loose.
	over := javatype.Decimal{Digits: strings.Repeat("9", limits.MaxDecimalDigits+2), Scale: -limits.MaxDecimalScale}
	if err := decodesInDubboGo(over); err == nil {
		t.Errorf("%s decodes in dubbo-go: the defaults could be larger", over)
	}
}

// decodesInDubboGo decodes d's text as dubbo-go-hessian2's DecimalSerializer does and compares
// the value.
func decodesInDubboGo(d javatype.Decimal) error {
	text := d.String()
	var got gxbig.Decimal
	if err := got.FromString(text); err != nil {
		return err
	}
	want, _ := new(big.Rat).SetString(text)
	have, ok := new(big.Rat).SetString(got.String())
	if !ok || have.Cmp(want) != 0 {
		return &valueError{reason: "decoded as " + got.String()}
	}
	return nil
}
