package javatype

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// NumberLimits bound the java.math.BigDecimal and java.math.BigInteger values the gateway
// accepts, so that every value it sends is one that every provider decodes.
//
// Java itself accepts far more: a BigDecimal's scale is any int, so new
// BigDecimal("1e999999999") works (and a provider that then calls toPlainString or setScale on
// it allocates a billion digits). Other decoders do not: dubbo-go-hessian2 decodes a BigDecimal
// into github.com/dubbogo/gost/math/big.Decimal, MySQL's decimal layout of nine words of nine
// digits (math/big/decimal.go: wordBufLen, digitsPerWord), whose FromString answers "Data
// Overflow" or "Data Truncated" beyond it, and a dubbo-go provider that fails to decode one
// argument closes the connection, failing every other call on it. The defaults keep every
// accepted value inside that layout (81 digits, the integer and fraction parts rounded up to
// whole words each): 40 significant digits with a scale within ±40 need at most 80 integer
// digits (1.234…E+79), or 40 fraction digits, so a value written as Decimal.String writes it
// always fits (decimal_test.go in dataplane/dubbojson checks every precision and scale within
// the defaults against gost's decoder). Larger limits are for Java providers only.
//
// A zero field means its default.
type NumberLimits struct {
	// MaxDecimalDigits bounds a BigDecimal's precision: the digits of its unscaled value,
	// BigDecimal.precision() (default DefaultMaxDecimalDigits).
	MaxDecimalDigits int
	// MaxDecimalScale bounds the absolute value of a BigDecimal's scale, BigDecimal.scale(): the
	// digits after the point, negative for a value written with a positive exponent ("1E+3" has
	// scale -3) (default DefaultMaxDecimalScale).
	MaxDecimalScale int
	// MaxIntegerDigits bounds the digits of a BigInteger, leading zeros included (default
	// DefaultMaxIntegerDigits).
	MaxIntegerDigits int
}

// The defaults of NumberLimits.
const (
	DefaultMaxDecimalDigits = 40
	DefaultMaxDecimalScale  = 40
	// DefaultMaxIntegerDigits is Jackson's limit on the length of a number
	// (StreamReadConstraints.DEFAULT_MAX_NUM_LEN, 1000 since Jackson 2.15): well beyond any
	// integer a JSON API carries (a 256-bit value has 78 digits), small enough that converting
	// it costs nothing. Every provider decodes any BigInteger (dubbo-go as a math/big.Int).
	DefaultMaxIntegerDigits = 1000
)

// OrDefaults returns l with every zero field replaced by its default.
func (l NumberLimits) OrDefaults() NumberLimits {
	or := func(v, d int) int {
		if v == 0 {
			return d
		}
		return v
	}
	return NumberLimits{
		MaxDecimalDigits: or(l.MaxDecimalDigits, DefaultMaxDecimalDigits),
		MaxDecimalScale:  or(l.MaxDecimalScale, DefaultMaxDecimalScale),
		MaxIntegerDigits: or(l.MaxIntegerDigits, DefaultMaxIntegerDigits),
	}
}

// DecimalMaxLength is the longest text Decimal accepts: room for any precision and scale within
// the limits in plain or exponent notation, with a sign. It bounds the work a value can cost
// before its digits are counted.
func (l NumberLimits) DecimalMaxLength() int {
	l = l.OrDefaults()
	return l.MaxDecimalDigits + l.MaxDecimalScale + len(strconv.Itoa(l.MaxDecimalDigits+l.MaxDecimalScale)) + 6
}

// maxRegexpRepeat is the largest repeat count Go's regexp (and so a validator built on it)
// accepts in a pattern.
const maxRegexpRepeat = 1000

// schema is the JSON Schema of BigDecimal or BigInteger values (family f) within the limits.
func (l NumberLimits) schema(f Family) JSONSchema {
	l = l.OrDefaults()
	if f == BigInteger {
		s := JSONSchema{Type: "string", Format: "integer", Pattern: IntegerPattern, MaxLength: l.MaxIntegerDigits + 1,
			Description: fmt.Sprintf("An integer of at most %d digits.", l.MaxIntegerDigits)}
		if l.MaxIntegerDigits <= maxRegexpRepeat {
			s.Pattern = fmt.Sprintf(`^-?[0-9]{1,%d}$`, l.MaxIntegerDigits)
		}
		return s
	}
	return JSONSchema{Type: "string", Format: "decimal", Pattern: DecimalPattern, MaxLength: l.DecimalMaxLength(),
		Description: fmt.Sprintf("A decimal of at most %d significant digits and a scale within ±%d, as "+
			"java.math.BigDecimal's precision() and scale() count them (the scale is the number of digits after "+
			"the point, negative for an exponent: \"1E-%d\" and \"1E+%d\" are at its bounds).",
			l.MaxDecimalDigits, l.MaxDecimalScale, l.MaxDecimalScale, l.MaxDecimalScale)}
}

// Decimal is a java.math.BigDecimal as Java holds it: the value is Digits × 10^-Scale, negated
// when Negative.
type Decimal struct {
	Negative bool
	// Digits are the unscaled value's decimal digits without leading zeros ("0" for zero).
	Digits string
	// Scale is BigDecimal.scale().
	Scale int
}

// Precision is BigDecimal.precision(): the number of digits of the unscaled value.
func (d Decimal) Precision() int { return len(d.Digits) }

// String is the value in a form that new BigDecimal(String) reads back with the same precision
// and scale: plain notation when the scale is not negative, as BigDecimal.toPlainString prints
// it ("123.45", "0.0000001", "-12"), else as BigDecimal.toString prints it, one digit before
// the point and an exponent ("1.2345E+7", "0E+3"), since plain notation has no negative scale.
func (d Decimal) String() string {
	var b strings.Builder
	if d.Negative {
		b.WriteByte('-')
	}
	switch {
	case d.Scale == 0:
		b.WriteString(d.Digits)
	case d.Scale > 0:
		if pad := d.Scale - d.Precision(); pad >= 0 {
			b.WriteString("0.")
			b.WriteString(strings.Repeat("0", pad))
			b.WriteString(d.Digits)
		} else {
			b.WriteString(d.Digits[:-pad])
			b.WriteByte('.')
			b.WriteString(d.Digits[-pad:])
		}
	default: // the exponent of the leading digit is positive
		b.WriteString(d.Digits[:1])
		if d.Precision() > 1 {
			b.WriteByte('.')
			b.WriteString(d.Digits[1:])
		}
		b.WriteString("E+")
		b.WriteString(strconv.Itoa(d.Precision() - 1 - d.Scale))
	}
	return b.String()
}

// ParseDecimal reads a BigDecimal in the syntax of new BigDecimal(String) (DecimalPattern) and
// checks it against the limits.
func (l NumberLimits) ParseDecimal(s string) (Decimal, error) {
	l = l.OrDefaults()
	if max := l.DecimalMaxLength(); len(s) > max {
		return Decimal{}, fmt.Errorf("a java.math.BigDecimal of %d characters: at most %d are accepted", len(s), max)
	}
	var d Decimal
	rest := s
	if rest != "" && (rest[0] == '-' || rest[0] == '+') {
		d.Negative = rest[0] == '-'
		rest = rest[1:]
	}
	mantissa, exponent, hasExponent := strings.Cut(strings.ToLower(rest), "e")
	whole, fraction, _ := strings.Cut(mantissa, ".")
	if !allDigits(whole) || !allDigits(fraction) || whole+fraction == "" {
		return Decimal{}, fmt.Errorf("%q is not a java.math.BigDecimal", s)
	}
	exp := 0
	if hasExponent {
		digits := strings.TrimLeft(exponent, "+-")
		if !allDigits(digits) || digits == "" || len(exponent)-len(digits) > 1 {
			return Decimal{}, fmt.Errorf("%q is not a java.math.BigDecimal", s)
		}
		// The length bound keeps the exponent far inside int.
		exp, _ = strconv.Atoi(exponent)
	}
	d.Digits = strings.TrimLeft(whole+fraction, "0")
	if d.Digits == "" {
		d.Digits, d.Negative = "0", false
	}
	d.Scale = len(fraction) - exp
	if p := d.Precision(); p > l.MaxDecimalDigits {
		return Decimal{}, fmt.Errorf("%q has %d significant digits: at most %d are accepted", s, p, l.MaxDecimalDigits)
	}
	if d.Scale > l.MaxDecimalScale || d.Scale < -l.MaxDecimalScale {
		return Decimal{}, fmt.Errorf("%q has scale %d (digits after the point; negative for a positive exponent): "+
			"a scale within ±%d is accepted", s, d.Scale, l.MaxDecimalScale)
	}
	return d, nil
}

// ParseInteger reads a BigInteger (IntegerPattern) and checks it against the limits.
func (l NumberLimits) ParseInteger(s string) (*big.Int, error) {
	l = l.OrDefaults()
	digits := strings.TrimPrefix(s, "-")
	if !allDigits(digits) || digits == "" {
		return nil, fmt.Errorf("%q is not a java.math.BigInteger", s)
	}
	if len(digits) > l.MaxIntegerDigits {
		return nil, fmt.Errorf("a java.math.BigInteger of %d digits: at most %d are accepted", len(digits), l.MaxIntegerDigits)
	}
	n, _ := new(big.Int).SetString(s, 10)
	return n, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
