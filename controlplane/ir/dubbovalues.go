package ir

// DubboValueLimits bound the java.math.BigDecimal and java.math.BigInteger values that Dubbo
// routes convert from JSON, so that no provider receives a value it cannot decode (a
// provider that fails to decode a request may close the connection other calls share). Each
// zero field means the default of javatype.NumberLimits, which owns the limits' meaning and
// defaults; these are the gateway's configured overrides (gateway.dubbo).
type DubboValueLimits struct {
	// MaxDecimalDigits bounds a BigDecimal's precision (significant digits).
	MaxDecimalDigits int `json:"maxDecimalDigits,omitempty" yaml:"maxDecimalDigits,omitempty"`
	// MaxDecimalScale bounds the absolute value of a BigDecimal's scale.
	MaxDecimalScale int `json:"maxDecimalScale,omitempty" yaml:"maxDecimalScale,omitempty"`
	// MaxIntegerDigits bounds the digits of a BigInteger.
	MaxIntegerDigits int `json:"maxIntegerDigits,omitempty" yaml:"maxIntegerDigits,omitempty"`
}
