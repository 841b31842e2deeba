package config

import (
	"math"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// DubboConfig is gateway.dubbo: the limits of the values the Dubbo routes convert from JSON, so
// that no provider is sent a value it cannot decode (a dubbo-go provider that fails to decode a
// request closes the connection every other call on it shares). A zero or absent key keeps the
// default of javatype.NumberLimits, which owns their meaning; docs/operations.md lists them.
// A reload applies them.
type DubboConfig struct {
	// MaxDecimalDigits bounds a java.math.BigDecimal's precision (significant digits).
	MaxDecimalDigits int `yaml:"maxDecimalDigits"`
	// MaxDecimalScale bounds the absolute value of a BigDecimal's scale (digits after the point;
	// negative for an exponent: 1E+3 has scale -3).
	MaxDecimalScale int `yaml:"maxDecimalScale"`
	// MaxIntegerDigits bounds the digits of a java.math.BigInteger.
	MaxIntegerDigits int `yaml:"maxIntegerDigits"`
}

// validate refuses negative limits (zero means the default) and a scale beyond Java's int, the
// type of a BigDecimal's scale.
func (d DubboConfig) validate(add func(key, format string, args ...any)) {
	for _, f := range []struct {
		key   string
		value int
	}{{"maxDecimalDigits", d.MaxDecimalDigits}, {"maxDecimalScale", d.MaxDecimalScale}, {"maxIntegerDigits", d.MaxIntegerDigits}} {
		if f.value < 0 {
			add("gateway.dubbo."+f.key, "%d is negative; use 0 for the default", f.value)
		}
	}
	if d.MaxDecimalScale > math.MaxInt32 {
		add("gateway.dubbo.maxDecimalScale", "%d is beyond Java's int, the type of a BigDecimal's scale", d.MaxDecimalScale)
	}
}

// IR is the gateway's value limits, nil when every key keeps its default.
func (d DubboConfig) IR() *ir.DubboValueLimits {
	out := ir.DubboValueLimits{MaxDecimalDigits: d.MaxDecimalDigits, MaxDecimalScale: d.MaxDecimalScale, MaxIntegerDigits: d.MaxIntegerDigits}
	if out == (ir.DubboValueLimits{}) {
		return nil
	}
	return &out
}
