package javatype

import (
	"regexp"
	"strings"
	"testing"
)

// TestParseDecimal: precision and scale are Java's (trailing zeros count, leading ones do not,
// an exponent moves the scale), String prints what BigDecimal.toString prints, and values
// beyond the limits (the "1e999999999" among them) are refused.
func TestParseDecimal(t *testing.T) {
	cases := []struct {
		in        string
		precision int
		scale     int
		text      string // toPlainString, or toString for a negative scale
		err       string
	}{
		{in: "0", precision: 1, scale: 0, text: "0"},
		{in: "-0.00", precision: 1, scale: 2, text: "0.00"},
		{in: "123.450", precision: 6, scale: 3, text: "123.450"},
		{in: "+.5", precision: 1, scale: 1, text: "0.5"},
		{in: "1.", precision: 1, scale: 0, text: "1"},
		{in: "000012", precision: 2, scale: 0, text: "12"},
		{in: "0.000001", precision: 1, scale: 6, text: "0.000001"},
		{in: "0.0000001", precision: 1, scale: 7, text: "0.0000001"},
		{in: "-1.2345e7", precision: 5, scale: -3, text: "-1.2345E+7"},
		{in: "1E+3", precision: 1, scale: -3, text: "1E+3"},
		{in: "0e3", precision: 1, scale: -3, text: "0E+3"},
		{in: "12.5E-10", precision: 3, scale: 11, text: "0.00000000125"},
		{in: "1e40", precision: 1, scale: -40, text: "1E+40"},
		{in: "1e-40", precision: 1, scale: 40, text: "0.0000000000000000000000000000000000000001"},
		{in: "9999999999999999999999999999999999999999e40", precision: 40, scale: -40, text: "9.999999999999999999999999999999999999999E+79"},
		{in: "1e999999999", err: "scale -999999999"},
		{in: "1e41", err: "scale -41"},
		{in: "1e-41", err: "scale 41"},
		{in: "10000000000000000000000000000000000000000", err: "41 significant digits"},
		{in: strings.Repeat("1", 90), err: "90 characters"},
		{in: "1.2.3", err: "not a java.math.BigDecimal"},
		{in: "1e", err: "not a java.math.BigDecimal"},
		{in: "1e+-3", err: "not a java.math.BigDecimal"},
		{in: "e3", err: "not a java.math.BigDecimal"},
		{in: ".", err: "not a java.math.BigDecimal"},
		{in: "0x10", err: "not a java.math.BigDecimal"},
		{in: "", err: "not a java.math.BigDecimal"},
	}
	syntax := regexp.MustCompile(DecimalPattern)
	for _, c := range cases {
		d, err := NumberLimits{}.ParseDecimal(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseDecimal(%q) = %+v, %v; want an error containing %q", c.in, d, err, c.err)
			}
			continue
		}
		if err != nil || d.Precision() != c.precision || d.Scale != c.scale || d.String() != c.text {
			t.Errorf("ParseDecimal(%q) = %+v (precision %d, %q), %v; want precision %d scale %d %q",
				c.in, d, d.Precision(), d.String(), err, c.precision, c.scale, c.text)
		}
		if !syntax.MatchString(c.in) || !syntax.MatchString(d.String()) {
			t.Errorf("%q or its text %q does not match DecimalPattern", c.in, d.String())
		}
		if back, err := (NumberLimits{}).ParseDecimal(d.String()); err != nil || back != d {
			t.Errorf("%q: its text %q reads back as %+v, %v", c.in, d.String(), back, err)
		}
	}
	wide := NumberLimits{MaxDecimalDigits: 100, MaxDecimalScale: 1000}
	if d, err := wide.ParseDecimal("1e999"); err != nil || d.Scale != -999 {
		t.Errorf("configured limits: %+v, %v", d, err)
	}
}

func TestParseInteger(t *testing.T) {
	limits := NumberLimits{MaxIntegerDigits: 5}
	for in, ok := range map[string]bool{"12345": true, "-12345": true, "00001": true, "123456": false, "1e3": false, "+1": false, "": false, "-": false} {
		n, err := limits.ParseInteger(in)
		if (err == nil) != ok {
			t.Errorf("ParseInteger(%q) = %v, %v; want ok=%v", in, n, err, ok)
		}
	}
	if _, err := (NumberLimits{}).ParseInteger(strings.Repeat("9", DefaultMaxIntegerDigits+1)); err == nil {
		t.Error("the default limit accepts a BigInteger over it")
	}
}

// TestNumberSchemas: the OpenAPI schema states the limits the gateway applies, and its
// maxLength admits the longest text a value within the limits is written as.
func TestNumberSchemas(t *testing.T) {
	dec, _ := Parse("java.math.BigDecimal")
	small := NumberLimits{MaxDecimalDigits: 10, MaxDecimalScale: 5}
	s, ok := dec.JSONSchema(small)
	if !ok || s.MaxLength != small.DecimalMaxLength() ||
		!strings.Contains(s.Description, "at most 10 significant digits and a scale within ±5") {
		t.Errorf("BigDecimal schema: %+v", s)
	}
	d := Decimal{Negative: true, Digits: strings.Repeat("9", DefaultMaxDecimalDigits), Scale: -DefaultMaxDecimalScale}
	if n, max := len(d.String()), (NumberLimits{}).DecimalMaxLength(); n > max {
		t.Errorf("%s (%d characters) is longer than the maxLength %d", d, n, max)
	}
	integer, _ := Parse("java.math.BigInteger")
	s, _ = integer.JSONSchema(NumberLimits{MaxIntegerDigits: 7})
	re := regexp.MustCompile(s.Pattern)
	if s.MaxLength != 8 || !re.MatchString("-1234567") || re.MatchString("12345678") {
		t.Errorf("BigInteger schema: %+v", s)
	}
	if s, _ := integer.JSONSchema(NumberLimits{MaxIntegerDigits: 5000}); s.Pattern != IntegerPattern || s.MaxLength != 5001 {
		t.Errorf("BigInteger schema beyond a regexp's repeat count: %+v", s)
	}
}
