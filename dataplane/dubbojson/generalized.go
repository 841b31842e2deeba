package dubbojson

import (
	"encoding/base64"
	"reflect"

	"github.com/apache/dubbo-go-hessian2/java8_time"
)

// A generic call's result comes back "generalized" by the provider's generic filter: DTOs as
// maps of their properties with a "class" key. The two generalizers differ for java.time
// values, and the renderer reads both:
//   - Java (PojoUtils.generalize) keeps numbers, dates, strings and primitive arrays as they are,
//     enums become their names, and any other object (java.time included) becomes a map of its
//     bean properties: LocalDate {year, monthValue, dayOfMonth, ...}, LocalTime {hour, minute,
//     second, nano}, LocalDateTime both flat, Instant {epochSecond, nano}, OffsetDateTime flat
//     plus {offset: {totalSeconds}};
//   - dubbo-go (the map generalizer) turns every struct into a map of its fields: java8_time's
//     LocalDate {year, month, day}, LocalDateTime {date, time}, Instant {seconds, nanos},
//     OffsetDateTime {dateTime, offset: {seconds}}, BigInteger {signum, mag (longs)}, and byte
//     slices into lists of numbers.

// javaTimeFromMap renders a java.time value of type t that arrived as a map.
func javaTimeFromMap(t *javaType, m map[string]any) (string, bool) {
	var value any
	ok := false
	switch t.name {
	case "java.time.LocalDate":
		var d java8_time.LocalDate
		d, ok = localDateFromMap(m)
		value = &d
	case "java.time.LocalTime":
		var c java8_time.LocalTime
		c, ok = localTimeFromMap(m)
		value = &c
	case "java.time.LocalDateTime":
		var dt java8_time.LocalDateTime
		dt, ok = localDateTimeFromMap(m)
		value = &dt
	case "java.time.Instant":
		secs, ok1 := intOf(m, "epochSecond", "seconds")
		nanos, ok2 := intOf(m, "nano", "nanos")
		value, ok = &java8_time.Instant{Seconds: secs, Nanos: int32(nanos)}, ok1 && ok2
	case "java.time.OffsetDateTime":
		dt, ok1 := localDateTimeFromMap(m)
		offset, _ := stringKeyed(m["offset"])
		secs, ok2 := intOf(offset, "totalSeconds", "seconds")
		value, ok = &java8_time.OffsetDateTime{DateTime: dt, Offset: java8_time.ZoneOffSet{Seconds: int32(secs)}}, ok1 && ok2
	}
	if !ok {
		return "", false
	}
	return renderJavaTime(value)
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
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice {
		return "", false
	}
	out := make([]byte, rv.Len())
	for i := range out {
		n, ok := wholeNumber(rv.Index(i).Interface())
		if !ok || n < -128 || n > 255 {
			return "", false
		}
		out[i] = byte(n)
	}
	return base64.StdEncoding.EncodeToString(out), true
}
