package javatype

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Temporal is a value of one of the date and time families, in the fields the Java class holds.
type Temporal struct {
	Family Family
	// Time is the date and time of day of Date, Instant, OffsetDateTime, ZonedDateTime,
	// LocalDate, LocalTime, LocalDateTime and OffsetTime, in the value's own offset (UTC for
	// Date, Instant and the local families).
	Time time.Time
	// Zone is a ZonedDateTime's zone ID: a region ("Europe/Paris") or its offset's ID ("Z",
	// "+02:00").
	Zone string
	// Seconds and Nanos are a Duration as java.time.Duration holds it: Nanos in
	// 0..999,999,999 whatever the sign of Seconds.
	Seconds int64
	Nanos   int32
	// Years, Months and Days are a Period; a Year is Years, a YearMonth Years and Months, a
	// MonthDay Months and Days.
	Years, Months, Days int32
}

// Layouts of the families parsed by the time package (ISO 8601, as Java prints them).
const (
	localDateLayout     = "2006-01-02"
	localTimeLayout     = "15:04:05.999999999"
	localDateTimeLayout = "2006-01-02T15:04:05.999999999"
	offsetTimeLayout    = "15:04:05.999999999Z07:00"
)

// The JSON text patterns of the families parsed by regular expression; they are also the
// patterns the OpenAPI document states, so they stay in the syntax RE2 and ECMA 262 share.
// Duration and Period follow java.time's parse methods (case-insensitive, signed parts).
const (
	durationPattern  = `^([-+]?)[Pp](?:([-+]?[0-9]+)[Dd])?([Tt](?:([-+]?[0-9]+)[Hh])?(?:([-+]?[0-9]+)[Mm])?(?:([-+]?[0-9]+)(?:[.,]([0-9]{0,9}))?[Ss])?)?$`
	periodPattern    = `^([-+]?)[Pp](?:([-+]?[0-9]+)[Yy])?(?:([-+]?[0-9]+)[Mm])?(?:([-+]?[0-9]+)[Ww])?(?:([-+]?[0-9]+)[Dd])?$`
	yearMonthPattern = `^([0-9]{4})-([0-9]{2})$`
	monthDayPattern  = `^--([0-9]{2})-([0-9]{2})$`
	yearPattern      = `^[-+]?[0-9]{1,9}$`
	zonedPattern     = `^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:[0-9]{2}))(?:\[([A-Za-z+-][A-Za-z0-9~/._+:-]*)\])?$`
)

var (
	durationSyntax  = regexp.MustCompile(durationPattern)
	periodSyntax    = regexp.MustCompile(periodPattern)
	yearMonthSyntax = regexp.MustCompile(yearMonthPattern)
	monthDaySyntax  = regexp.MustCompile(monthDayPattern)
	yearSyntax      = regexp.MustCompile(yearPattern)
	zonedSyntax     = regexp.MustCompile(zonedPattern)
	epochMillis     = regexp.MustCompile(`^-?[0-9]+$`)
)

// ParseTemporal reads the JSON text of a value of family f (a JSON string, or a JSON number's
// text for Year and for a Date given as epoch milliseconds).
func ParseTemporal(f Family, s string) (Temporal, error) {
	v := Temporal{Family: f}
	var err error
	switch f {
	case Date:
		if epochMillis.MatchString(s) {
			ms, perr := strconv.ParseInt(s, 10, 64)
			if perr != nil {
				return v, fmt.Errorf("%s is out of range for epoch milliseconds", s)
			}
			v.Time = time.UnixMilli(ms).UTC()
			return v, nil
		}
		v.Time, err = parseRFC3339(s)
	case Instant, OffsetDateTime:
		v.Time, err = parseRFC3339(s)
	case ZonedDateTime:
		return parseZoned(s)
	case LocalDate:
		v.Time, err = parseLayout(s, localDateLayout, "a date (YYYY-MM-DD)")
	case LocalTime:
		v.Time, err = parseLayout(s, localTimeLayout, "a time (hh:mm:ss[.fraction])")
	case LocalDateTime:
		v.Time, err = parseLayout(s, localDateTimeLayout, "a local date-time (YYYY-MM-DDThh:mm:ss[.fraction])")
	case OffsetTime:
		v.Time, err = parseLayout(s, offsetTimeLayout, "a time with offset (hh:mm:ss[.fraction]±hh:mm)")
	case Duration:
		v.Seconds, v.Nanos, err = parseDuration(s)
	case Period:
		v.Years, v.Months, v.Days, err = parsePeriod(s)
	case Year:
		v.Years, err = parseYear(s)
	case YearMonth:
		v.Years, v.Months, err = parseYearMonth(s)
	case MonthDay:
		v.Months, v.Days, err = parseMonthDay(s)
	default:
		return v, fmt.Errorf("family %d is not a date or time", f)
	}
	return v, err
}

// String is the value's JSON text (see the families' documentation).
func (v Temporal) String() string {
	switch v.Family {
	case Date, Instant:
		return v.Time.UTC().Format(time.RFC3339Nano)
	case OffsetDateTime:
		return v.Time.Format(time.RFC3339Nano)
	case ZonedDateTime:
		s := v.Time.Format(time.RFC3339Nano)
		if v.Zone != "" && v.Zone != offsetID(v.Time) {
			s += "[" + v.Zone + "]"
		}
		return s
	case LocalDate:
		return v.Time.Format(localDateLayout)
	case LocalTime:
		return v.Time.Format(localTimeLayout)
	case LocalDateTime:
		return v.Time.Format(localDateTimeLayout)
	case OffsetTime:
		return v.Time.Format(offsetTimeLayout)
	case Duration:
		return formatDuration(v.Seconds, v.Nanos)
	case Period:
		return formatPeriod(v.Years, v.Months, v.Days)
	case Year:
		return strconv.Itoa(int(v.Years))
	case YearMonth:
		return fmt.Sprintf("%04d-%02d", v.Years, v.Months)
	case MonthDay:
		return fmt.Sprintf("--%02d-%02d", v.Months, v.Days)
	}
	return ""
}

// JSON is the value as a JSON value: a number for Year, else its text.
func (v Temporal) JSON() any {
	if v.Family == Year {
		return v.Years
	}
	return v.String()
}

func parseRFC3339(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 timestamp", s)
	}
	return t, nil
}

func parseLayout(s, layout, what string) (time.Time, error) {
	t, err := time.Parse(layout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not %s", s, what)
	}
	return t, nil
}

// parseZoned reads RFC 3339 optionally followed by "[zone]", as ZonedDateTime.parse reads
// ISO_ZONED_DATE_TIME (which requires the offset). Without brackets the zone is the offset.
// The gateway has no time-zone database of its own: a region's ID is checked for its syntax
// only, and the provider's readResolve (ZonedDateTime.ofLocal) keeps the offset when it is one
// of the region's offsets at that time.
func parseZoned(s string) (Temporal, error) {
	v := Temporal{Family: ZonedDateTime}
	m := zonedSyntax.FindStringSubmatch(s)
	if m == nil {
		return v, fmt.Errorf("%q is not a zoned date-time (RFC 3339, then an optional [zone ID])", s)
	}
	t, err := parseRFC3339(m[1])
	if err != nil {
		return v, fmt.Errorf("%q is not a zoned date-time: %w", s, err)
	}
	v.Time, v.Zone = t, m[2]
	if v.Zone == "" {
		v.Zone = offsetID(t)
	}
	return v, nil
}

// offsetID is the ID java.time.ZoneOffset gives the offset of t: "Z", "+hh:mm" or "+hh:mm:ss".
func offsetID(t time.Time) string {
	_, secs := t.Zone()
	if secs == 0 {
		return "Z"
	}
	sign := '+'
	if secs < 0 {
		sign, secs = '-', -secs
	}
	id := fmt.Sprintf("%c%02d:%02d", sign, secs/3600, secs/60%60)
	if secs%60 != 0 {
		id += fmt.Sprintf(":%02d", secs%60)
	}
	return id
}

// signedPart parses one optionally signed part of a duration or period; "" is 0.
func signedPart(s string, bits int) (int64, error) {
	if s == "" {
		return 0, nil
	}
	return strconv.ParseInt(s, 10, bits)
}

// parseDuration follows java.time.Duration.parse: days, hours, minutes and seconds (with up
// to nine fraction digits) are each signed, and a leading '-' negates the whole.
func parseDuration(s string) (int64, int32, error) {
	m := durationSyntax.FindStringSubmatch(s)
	if m == nil || m[2] == "" && m[4] == "" && m[5] == "" && m[6] == "" || strings.EqualFold(m[3], "T") {
		return 0, 0, fmt.Errorf("%q is not an ISO 8601 duration (PnDTnHnMn.nS)", s)
	}
	overflow := fmt.Errorf("%q is out of java.time.Duration's range", s)
	var total int64 // days + (hours + (minutes + seconds)), each step checked as Java's addExact
	for _, p := range []struct {
		group int
		unit  int64
	}{{6, 1}, {5, 60}, {4, 3600}, {2, 86400}} {
		n, err := signedPart(m[p.group], 64)
		if err != nil {
			return 0, 0, overflow
		}
		part, ok := mulExact(n, p.unit)
		if !ok {
			return 0, 0, overflow
		}
		if total, ok = addExact(total, part); !ok {
			return 0, 0, overflow
		}
	}
	var nanos int64
	if m[7] != "" {
		nanos, _ = strconv.ParseInt((m[7] + "000000000")[:9], 10, 64)
		if strings.HasPrefix(m[6], "-") {
			nanos = -nanos
		}
	}
	secs, n := total, nanos
	if n < 0 { // ofSeconds: nanos into 0..999,999,999
		if secs == math.MinInt64 {
			return 0, 0, overflow
		}
		secs, n = secs-1, n+1e9
	}
	if m[1] == "-" { // negated
		if n == 0 {
			if secs == math.MinInt64 {
				return 0, 0, overflow
			}
			secs = -secs
		} else {
			if secs == math.MaxInt64 {
				return 0, 0, overflow
			}
			secs, n = -secs-1, 1e9-n
		}
	}
	return secs, int32(n), nil
}

// formatDuration is java.time.Duration.toString: hours, minutes and seconds, never days
// ("PT49H30M0.25S", "PT-0.5S", "PT0S").
func formatDuration(seconds int64, nanos int32) string {
	if seconds == 0 && nanos == 0 {
		return "PT0S"
	}
	effective := seconds
	if seconds < 0 && nanos > 0 {
		effective++
	}
	hours, minutes, secs := effective/3600, effective%3600/60, effective%60
	var b strings.Builder
	b.WriteString("PT")
	if hours != 0 {
		fmt.Fprintf(&b, "%dH", hours)
	}
	if minutes != 0 {
		fmt.Fprintf(&b, "%dM", minutes)
	}
	if secs == 0 && nanos == 0 && b.Len() > 2 {
		return b.String()
	}
	if seconds < 0 && nanos > 0 && secs == 0 {
		b.WriteString("-0")
	} else {
		fmt.Fprintf(&b, "%d", secs)
	}
	if nanos > 0 {
		frac := int64(nanos)
		if seconds < 0 {
			frac = 1e9 - frac
		}
		b.WriteString(strings.TrimRight(fmt.Sprintf(".%09d", frac), "0"))
	}
	b.WriteByte('S')
	return b.String()
}

// parsePeriod follows java.time.Period.parse: years, months, weeks and days are each signed,
// weeks count as seven days, and a leading '-' negates the whole.
func parsePeriod(s string) (years, months, days int32, err error) {
	m := periodSyntax.FindStringSubmatch(s)
	if m == nil || m[2] == "" && m[3] == "" && m[4] == "" && m[5] == "" {
		return 0, 0, 0, fmt.Errorf("%q is not an ISO 8601 period (PnYnMnWnD)", s)
	}
	overflow := fmt.Errorf("%q is out of java.time.Period's range", s)
	var parts [4]int64
	for i := range parts {
		n, err := signedPart(m[i+2], 32)
		if err != nil {
			return 0, 0, 0, overflow
		}
		if m[1] == "-" {
			if n == math.MinInt32 {
				return 0, 0, 0, overflow
			}
			n = -n
		}
		parts[i] = n
	}
	d := parts[3] + 7*parts[2]
	if d < math.MinInt32 || d > math.MaxInt32 {
		return 0, 0, 0, overflow
	}
	return int32(parts[0]), int32(parts[1]), int32(d), nil
}

// formatPeriod is java.time.Period.toString ("P1Y2M3D", "P0D").
func formatPeriod(years, months, days int32) string {
	if years == 0 && months == 0 && days == 0 {
		return "P0D"
	}
	var b strings.Builder
	b.WriteByte('P')
	for _, p := range []struct {
		n    int32
		unit byte
	}{{years, 'Y'}, {months, 'M'}, {days, 'D'}} {
		if p.n != 0 {
			fmt.Fprintf(&b, "%d%c", p.n, p.unit)
		}
	}
	return b.String()
}

// parseYear reads a year in java.time.Year's range (±999,999,999).
func parseYear(s string) (int32, error) {
	if !yearSyntax.MatchString(s) {
		return 0, fmt.Errorf("%q is not a year", s)
	}
	n, _ := strconv.ParseInt(s, 10, 32) // nine digits always fit
	return int32(n), nil
}

func parseYearMonth(s string) (int32, int32, error) {
	m := yearMonthSyntax.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, fmt.Errorf("%q is not a year and month (YYYY-MM)", s)
	}
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	if mo < 1 || mo > 12 {
		return 0, 0, fmt.Errorf("%q: month %d is not 1 to 12", s, mo)
	}
	return int32(y), int32(mo), nil
}

// parseMonthDay reads "--MM-DD"; February 29 is a valid MonthDay.
func parseMonthDay(s string) (int32, int32, error) {
	m := monthDaySyntax.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, fmt.Errorf("%q is not a month and day (--MM-DD)", s)
	}
	mo, _ := strconv.Atoi(m[1])
	d, _ := strconv.Atoi(m[2])
	if mo < 1 || mo > 12 || d < 1 || d > time.Date(2024, time.Month(mo)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return 0, 0, fmt.Errorf("%q is not a day of the year", s)
	}
	return int32(mo), int32(d), nil
}

func mulExact(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	c := a * b
	return c, c/b == a && !(a == -1 && b == math.MinInt64) && !(b == -1 && a == math.MinInt64)
}

func addExact(a, b int64) (int64, bool) {
	c := a + b
	return c, (c > a) == (b > 0)
}
