package javatype

import (
	"regexp"
	"strings"
	"testing"
)

// TestTemporalRoundTrip: each input parses, prints as want (Java's toString where Java defines
// the text), and what it prints parses back to the same value. The outputs of Duration and
// Period are those of java.time's toString for the same values.
func TestTemporalRoundTrip(t *testing.T) {
	cases := []struct {
		family    Family
		in, want  string // want "" means in
		wantValue Temporal
	}{
		{Date, "2024-05-06T07:08:09.123+02:00", "2024-05-06T05:08:09.123Z", Temporal{}},
		{Date, "1714979289123", "2024-05-06T07:08:09.123Z", Temporal{}},
		{Date, "-1", "1969-12-31T23:59:59.999Z", Temporal{}},
		{Instant, "2024-05-06T07:08:09.000000123Z", "", Temporal{}},
		{OffsetDateTime, "2024-02-29T23:59:58+05:30", "", Temporal{}},
		{ZonedDateTime, "2024-10-27T02:30:00.5+01:00[Europe/Paris]", "", Temporal{Zone: "Europe/Paris"}},
		{ZonedDateTime, "2024-05-06T07:08:09-03:00", "", Temporal{Zone: "-03:00"}},
		{ZonedDateTime, "2024-05-06T07:08:09Z", "", Temporal{Zone: "Z"}},
		{ZonedDateTime, "2024-05-06T07:08:09Z[UTC]", "", Temporal{Zone: "UTC"}},
		{ZonedDateTime, "2024-05-06T07:08:09+02:00[+02:00]", "2024-05-06T07:08:09+02:00", Temporal{Zone: "+02:00"}},
		{LocalDate, "2024-02-29", "", Temporal{}},
		{LocalTime, "23:59:58.5", "", Temporal{}},
		{LocalTime, "00:00:00", "", Temporal{}},
		{LocalDateTime, "2024-02-29T23:59:58.000000001", "", Temporal{}},
		{OffsetTime, "23:59:58.5+05:30", "", Temporal{}},
		{OffsetTime, "10:15:30Z", "", Temporal{}},
		{Duration, "PT49H30M0.25S", "", Temporal{Seconds: 178200, Nanos: 250000000}},
		{Duration, "P2DT1H", "PT49H", Temporal{Seconds: 176400}},
		{Duration, "pt-0.5s", "PT-0.5S", Temporal{Seconds: -1, Nanos: 500000000}},
		{Duration, "-PT6H3M", "PT-6H-3M", Temporal{Seconds: -21780}},
		{Duration, "-PT-6H+3M", "PT5H57M", Temporal{Seconds: 21420}},
		{Duration, "PT-1.000000001S", "", Temporal{Seconds: -2, Nanos: 999999999}},
		{Duration, "PT0,5S", "PT0.5S", Temporal{Nanos: 500000000}},
		{Duration, "PT0S", "", Temporal{}},
		{Duration, "PT9223372036854775807.999999999S", "PT2562047788015215H30M7.999999999S", Temporal{Seconds: 9223372036854775807, Nanos: 999999999}},
		{Period, "P1Y-2M3D", "", Temporal{Years: 1, Months: -2, Days: 3}},
		{Period, "P2W", "P14D", Temporal{Days: 14}},
		{Period, "-P1Y2M", "P-1Y-2M", Temporal{Years: -1, Months: -2}},
		{Period, "P0D", "", Temporal{}},
		{Year, "2024", "", Temporal{Years: 2024}},
		{Year, "-44", "", Temporal{Years: -44}},
		{YearMonth, "2024-02", "", Temporal{Years: 2024, Months: 2}},
		{MonthDay, "--02-29", "", Temporal{Months: 2, Days: 29}},
	}
	for _, c := range cases {
		v, err := ParseTemporal(c.family, c.in)
		if err != nil {
			t.Errorf("ParseTemporal(%d, %q): %v", c.family, c.in, err)
			continue
		}
		want := c.want
		if want == "" {
			want = c.in
		}
		if got := v.String(); got != want {
			t.Errorf("ParseTemporal(%d, %q).String() = %q, want %q", c.family, c.in, got, want)
		}
		w := c.wantValue
		if v.Zone != w.Zone || v.Seconds != w.Seconds || v.Nanos != w.Nanos || v.Years != w.Years || v.Months != w.Months || v.Days != w.Days {
			t.Errorf("ParseTemporal(%d, %q) = %+v, want the fields of %+v", c.family, c.in, v, w)
		}
		again, err := ParseTemporal(c.family, v.String())
		if err != nil || again.String() != v.String() {
			t.Errorf("%q does not parse back: %v %v", v.String(), again, err)
		}
	}
}

func TestTemporalErrors(t *testing.T) {
	cases := []struct {
		family  Family
		in, msg string
	}{
		{Date, "yesterday", "not an RFC 3339 timestamp"},
		{Date, "99999999999999999999", "out of range"},
		{Instant, "2024-05-06", "not an RFC 3339 timestamp"},
		{ZonedDateTime, "2024-05-06T07:08:09[Europe/Paris]", "not a zoned date-time"},
		{ZonedDateTime, "2024-05-06T07:08:09Z[]", "not a zoned date-time"},
		{LocalDate, "2024-02-30", "not a date"},
		{LocalTime, "24:00:00", "not a time"},
		{OffsetTime, "10:15:30", "not a time with offset"},
		{Duration, "P", "not an ISO 8601 duration"},
		{Duration, "PT", "not an ISO 8601 duration"},
		{Duration, "P1DT", "not an ISO 8601 duration"},
		{Duration, "PT1.5H", "not an ISO 8601 duration"},
		{Duration, "PT0.0000000001S", "not an ISO 8601 duration"},
		{Duration, "PT9223372036854775807H", "out of java.time.Duration's range"},
		{Duration, "P106751991167301DT1H", "out of java.time.Duration's range"},
		{Period, "P1H", "not an ISO 8601 period"},
		{Period, "P", "not an ISO 8601 period"},
		{Period, "P2147483648D", "out of java.time.Period's range"},
		{Period, "P306783379W", "out of java.time.Period's range"},
		{Year, "1e3", "not a year"},
		{Year, "1000000000", "not a year"},
		{YearMonth, "2024-13", "month 13"},
		{MonthDay, "--02-30", "not a day of the year"},
		{MonthDay, "02-28", "not a month and day"},
		{Bytes, "x", "not a date or time"},
	}
	for _, c := range cases {
		_, err := ParseTemporal(c.family, c.in)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("ParseTemporal(%d, %q) error = %v, want one containing %q", c.family, c.in, err, c.msg)
		}
	}
}

// TestPatternsAgreeWithParsing: the pattern OpenAPI states for a family matches what the
// gateway prints, and what it matches the gateway parses (the few texts the pattern cannot
// rule out, such as month 13, aside).
func TestPatternsAgreeWithParsing(t *testing.T) {
	samples := map[Family][]string{
		ZonedDateTime: {"2024-10-27T02:30:00.5+01:00[Europe/Paris]", "2024-05-06T07:08:09Z", "2024-05-06T07:08:09Z[Etc/GMT+1]"},
		LocalTime:     {"23:59:58.5", "00:00:00"},
		LocalDateTime: {"2024-02-29T23:59:58.000000001"},
		Duration:      {"PT49H30M0.25S", "PT-0.5S", "P2DT1H", "-PT6H3M", "PT0,5S"},
		Period:        {"P1Y-2M3D", "P2W", "-P1Y2M", "P0D"},
		YearMonth:     {"2024-02"},
		MonthDay:      {"--02-29"},
	}
	for f, texts := range samples {
		s, ok := (&Type{Name: map[Family]string{ZonedDateTime: "java.time.ZonedDateTime", LocalTime: "java.time.LocalTime",
			LocalDateTime: "java.time.LocalDateTime", Duration: "java.time.Duration", Period: "java.time.Period",
			YearMonth: "java.time.YearMonth", MonthDay: "java.time.MonthDay"}[f]}).JSONSchema(NumberLimits{})
		if !ok || s.Pattern == "" {
			t.Fatalf("family %d has no pattern", f)
		}
		re := regexp.MustCompile(s.Pattern)
		for _, text := range texts {
			v, err := ParseTemporal(f, text)
			if err != nil || !re.MatchString(text) || !re.MatchString(v.String()) {
				t.Errorf("family %d: %q (printed %q): parse error %v, pattern %s matches input %v, output %v",
					f, text, v.String(), err, s.Pattern, re.MatchString(text), re.MatchString(v.String()))
			}
		}
	}
}
