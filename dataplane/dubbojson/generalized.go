package dubbojson

import (
	"encoding/base64"
	"time"

	"github.com/apache/dubbo-go-hessian2/java8_time"

	"github.com/rpcbridge/rpcbridge/javatype"
)

// A generic call's result comes back "generalized" by the provider's generic filter: DTOs as
// maps of their properties with a "class" key. The two generalizers differ for java.time
// values, and the renderer reads both:
//   - Java (PojoUtils.generalize) keeps numbers, dates (java.sql's included), strings and
//     primitive arrays as they are, enums become their names, and any other object (java.time
//     included) becomes a map of its bean properties: LocalDate {year, monthValue, dayOfMonth,
//     ...}, LocalTime {hour, minute, second, nano}, LocalDateTime both flat, Instant
//     {epochSecond, nano}, OffsetDateTime and OffsetTime flat plus {offset: {totalSeconds}},
//     ZonedDateTime the same plus {zone: {id}}, Duration {seconds, nano}, Period {years, months,
//     days}, Year {value}, YearMonth {year, monthValue}, MonthDay {monthValue, dayOfMonth};
//   - dubbo-go (the map generalizer) turns every struct into a map of its fields: java8_time's
//     LocalDate {year, month, day}, LocalDateTime {date, time}, Instant and Duration {seconds,
//     nanos}, OffsetDateTime {dateTime, offset: {seconds}}, ZonedDateTime the same plus
//     {zoneId}, OffsetTime {localTime, zoneOffset: {seconds}}, Year {year}, YearMonth {year,
//     month}, MonthDay {month, day}, java_sql_time's Date and Time {time} (the embedded
//     time.Time), BigInteger {signum, mag (longs)}, and byte slices into lists of numbers.
//
// A java.sql.Timestamp from a Java provider arrives as the map hessian2 decodes a class it has
// no Go type for: {value} under its class name.

// mapTemporal reads a value of date or time family f that arrived as a map.
func mapTemporal(f javatype.Family, m map[string]any) (javatype.Temporal, bool) {
	v := javatype.Temporal{Family: f}
	var date java8_time.LocalDate
	var clock java8_time.LocalTime
	ok := false
	switch f {
	case javatype.Date:
		v.Time, ok = m["value"].(time.Time)
		if !ok {
			v.Time, ok = m["time"].(time.Time)
		}
		return v, ok
	case javatype.Instant:
		secs, ok1 := intOf(m, "epochSecond", "seconds")
		nanos, ok2 := intOf(m, "nano", "nanos")
		v.Time, ok = time.Unix(secs, nanos).UTC(), ok1 && ok2
		return v, ok
	case javatype.LocalDate:
		date, ok = localDateFromMap(m)
	case javatype.LocalTime:
		date = java8_time.LocalDate{Month: 1, Day: 1}
		clock, ok = localTimeFromMap(m)
	case javatype.LocalDateTime:
		var dt java8_time.LocalDateTime
		dt, ok = localDateTimeFromMap(m)
		date, clock = dt.Date, dt.Time
	case javatype.OffsetDateTime, javatype.ZonedDateTime:
		dt, ok1 := localDateTimeFromMap(m)
		secs, ok2 := offsetOf(m, "offset")
		v.Time, ok = localDateTime(dt.Date, dt.Time, secs), ok1 && ok2
		if f == javatype.ZonedDateTime {
			zone, _ := stringKeyed(m["zone"])
			v.Zone, _ = firstString(m["zoneId"], zone["id"])
			ok = ok && v.Zone != ""
		}
		return v, ok
	case javatype.OffsetTime:
		inner, found := stringKeyed(m["localTime"])
		if !found {
			inner = m
		}
		c, ok1 := localTimeFromMap(inner)
		secs, ok2 := offsetOf(m, "zoneOffset", "offset")
		v.Time, ok = localDateTime(java8_time.LocalDate{Month: 1, Day: 1}, c, secs), ok1 && ok2
		return v, ok
	case javatype.Duration:
		secs, ok1 := intOf(m, "seconds")
		nanos, ok2 := intOf(m, "nanos", "nano")
		v.Seconds, v.Nanos = secs, int32(nanos)
		return v, ok1 && ok2
	case javatype.Period:
		y, ok1 := intOf(m, "years")
		mo, ok2 := intOf(m, "months")
		d, ok3 := intOf(m, "days")
		v.Years, v.Months, v.Days = int32(y), int32(mo), int32(d)
		return v, ok1 && ok2 && ok3
	case javatype.Year:
		y, ok := intOf(m, "value", "year")
		v.Years = int32(y)
		return v, ok
	case javatype.YearMonth:
		y, ok1 := intOf(m, "year")
		mo, ok2 := intOf(m, "monthValue", "month")
		v.Years, v.Months = int32(y), int32(mo)
		return v, ok1 && ok2
	case javatype.MonthDay:
		mo, ok1 := intOf(m, "monthValue", "month")
		d, ok2 := intOf(m, "dayOfMonth", "day")
		v.Months, v.Days = int32(mo), int32(d)
		return v, ok1 && ok2
	default:
		return v, false
	}
	v.Time = localDateTime(date, clock, 0)
	return v, ok
}

// offsetOf is the offset in seconds under the first of keys: {totalSeconds} (Java's ZoneOffset
// bean) or {seconds} (dubbo-go's ZoneOffSet).
func offsetOf(m map[string]any, keys ...string) (int32, bool) {
	for _, k := range keys {
		if o, ok := stringKeyed(m[k]); ok {
			secs, ok := intOf(o, "totalSeconds", "seconds")
			return int32(secs), ok
		}
	}
	return 0, false
}

// firstString is the first of vs that is a non-empty string.
func firstString(vs ...any) (string, bool) {
	for _, v := range vs {
		if s, ok := v.(string); ok && s != "" {
			return s, true
		}
	}
	return "", false
}

func localDateFromMap(m map[string]any) (java8_time.LocalDate, bool) {
	year, ok1 := intOf(m, "year")
	month, ok2 := intOf(m, "monthValue", "month") // Java's "month" is the Month enum's name
	day, ok3 := intOf(m, "dayOfMonth", "day")
	return java8_time.LocalDate{Year: int32(year), Month: int32(month), Day: int32(day)}, ok1 && ok2 && ok3
}

func localTimeFromMap(m map[string]any) (java8_time.LocalTime, bool) {
	hour, ok1 := intOf(m, "hour")
	minute, ok2 := intOf(m, "minute")
	second, ok3 := intOf(m, "second")
	nano, ok4 := intOf(m, "nano")
	return java8_time.LocalTime{Hour: int32(hour), Minute: int32(minute), Second: int32(second), Nano: int32(nano)},
		ok1 && ok2 && ok3 && ok4
}

// localDateTimeFromMap reads {date, time} (dubbo-go, and OffsetDateTime's {dateTime: ...}) or
// the flat bean properties (Java).
func localDateTimeFromMap(m map[string]any) (java8_time.LocalDateTime, bool) {
	if inner, ok := stringKeyed(m["dateTime"]); ok {
		m = inner
	}
	dateMap, timeMap := m, m
	if d, ok := stringKeyed(m["date"]); ok {
		dateMap = d
	}
	if t, ok := stringKeyed(m["time"]); ok {
		timeMap = t
	}
	d, ok1 := localDateFromMap(dateMap)
	t, ok2 := localTimeFromMap(timeMap)
	return java8_time.LocalDateTime{Date: d, Time: t}, ok1 && ok2
}

// intOf returns the first of keys that holds a whole number.
func intOf(m map[string]any, keys ...string) (int64, bool) {
	for _, k := range keys {
		if n, ok := wholeNumber(m[k]); ok {
			return n, true
		}
	}
	return 0, false
}

// wholeNumber is v as an int64 when hessian2 decoded it as an int or a long.
func wholeNumber(v any) (int64, bool) {
	switch n := v.(type) {
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case int:
		return int64(n), true
	}
	return 0, false
}

// bytesFromList is a byte[] that arrived as a list of numbers, as base64; ok is false when v
// is not such a list.
func bytesFromList(v any) (string, bool) {
	b, err := byteList(v)
	if err != nil {
		return "", false
	}
	return base64.StdEncoding.EncodeToString(b), true
}
