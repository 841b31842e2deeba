package javatype

import (
	"fmt"
	"regexp"
	"strconv"
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
