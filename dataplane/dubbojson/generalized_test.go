package dubbojson

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/javatype"
)

// TestRenderGeneralized renders results the way Java's and dubbo-go's generic filters
// generalize them (maps decoded by hessian2 as map[any]any). The Java shapes follow
// PojoUtils.generalize, which maps java.time values to their bean properties; no JVM runs
// here, so they are written out by hand from the java.time getters.
func TestRenderGeneralized(t *testing.T) {
	javaDate := map[any]any{"class": "java.time.LocalDate", "year": int32(2024), "month": "FEBRUARY",
		"monthValue": int32(2), "dayOfMonth": int32(29), "dayOfYear": int32(60), "dayOfWeek": "THURSDAY",
		"leapYear": true, "era": "CE", "chronology": map[any]any{"class": "java.time.chrono.IsoChronology", "id": "ISO"}}
	javaDateTime := map[any]any{"class": "java.time.LocalDateTime", "year": int32(2024), "month": "FEBRUARY",
		"monthValue": int32(2), "dayOfMonth": int32(29), "hour": int32(23), "minute": int32(59), "second": int32(58),
		"nano": int32(500000000), "dayOfWeek": "THURSDAY"}
	javaOffset := map[any]any{"class": "java.time.OffsetDateTime", "year": int32(2024), "month": "MAY",
		"monthValue": int32(5), "dayOfMonth": int32(6), "hour": int32(7), "minute": int32(8), "second": int32(9), "nano": int32(0),
		"offset": map[any]any{"class": "java.time.ZoneOffset", "totalSeconds": int32(19800), "id": "+05:30"}}
	goOffset := map[any]any{"dateTime": map[any]any{
		"date": map[any]any{"year": int32(2024), "month": int32(5), "day": int32(6)},
		"time": map[any]any{"hour": int32(7), "minute": int32(8), "second": int32(9), "nano": int32(0)}},
		"offset": map[any]any{"seconds": int32(19800)}}
	javaZoned := map[any]any{"class": "java.time.ZonedDateTime", "year": int32(2024), "month": "OCTOBER",
		"monthValue": int32(10), "dayOfMonth": int32(27), "hour": int32(2), "minute": int32(30), "second": int32(0), "nano": int32(0),
		"offset": map[any]any{"class": "java.time.ZoneOffset", "totalSeconds": int32(3600), "id": "+01:00"},
		"zone":   map[any]any{"class": "java.time.ZoneRegion", "id": "Europe/Paris"}}
	goZoned := map[any]any{"dateTime": map[any]any{
		"date": map[any]any{"year": int32(2024), "month": int32(10), "day": int32(27)},
		"time": map[any]any{"hour": int32(2), "minute": int32(30), "second": int32(0), "nano": int32(0)}},
		"offset": map[any]any{"seconds": int32(3600)}, "zoneId": "Europe/Paris"}
	stamp := time.Date(2024, 5, 6, 7, 8, 9, 123000000, time.UTC)
	cases := []struct {
		name, javaType string
		value          any
		want           string
	}{
		{"java LocalDate", "java.time.LocalDate", javaDate, `"2024-02-29"`},
		{"go LocalDate", "java.time.LocalDate", map[any]any{"year": int32(2024), "month": int32(2), "day": int32(29)}, `"2024-02-29"`},
		{"java LocalTime", "java.time.LocalTime", map[any]any{"class": "java.time.LocalTime", "hour": int32(1), "minute": int32(2), "second": int32(3), "nano": int32(4000)}, `"01:02:03.000004"`},
		{"java LocalDateTime", "java.time.LocalDateTime", javaDateTime, `"2024-02-29T23:59:58.5"`},
		{"java Instant", "java.time.Instant", map[any]any{"class": "java.time.Instant", "epochSecond": int64(1714979289), "nano": int32(123)}, `"2024-05-06T07:08:09.000000123Z"`},
		{"go Instant", "java.time.Instant", map[any]any{"seconds": int64(1714979289), "nanos": int32(0)}, `"2024-05-06T07:08:09Z"`},
		{"java OffsetDateTime", "java.time.OffsetDateTime", javaOffset, `"2024-05-06T07:08:09+05:30"`},
		{"go OffsetDateTime", "java.time.OffsetDateTime", goOffset, `"2024-05-06T07:08:09+05:30"`},
		{"java ZonedDateTime", "java.time.ZonedDateTime", javaZoned, `"2024-10-27T02:30:00+01:00[Europe/Paris]"`},
		{"go ZonedDateTime", "java.time.ZonedDateTime", goZoned, `"2024-10-27T02:30:00+01:00[Europe/Paris]"`},
		{"java OffsetTime", "java.time.OffsetTime", map[any]any{"class": "java.time.OffsetTime", "hour": int32(23), "minute": int32(59),
			"second": int32(58), "nano": int32(0), "offset": map[any]any{"totalSeconds": int32(-3600), "id": "-01:00"}}, `"23:59:58-01:00"`},
		{"go OffsetTime", "java.time.OffsetTime", map[any]any{"localTime": map[any]any{"hour": int32(23), "minute": int32(59),
			"second": int32(58), "nano": int32(0)}, "zoneOffset": map[any]any{"seconds": int32(-3600)}}, `"23:59:58-01:00"`},
		{"java Duration", "java.time.Duration", map[any]any{"class": "java.time.Duration", "seconds": int64(-1), "nano": int32(500000000),
			"negative": true, "zero": false, "units": []any{"SECONDS", "NANOS"}}, `"PT-0.5S"`},
		{"go Duration", "java.time.Duration", map[any]any{"seconds": int64(90), "nanos": int32(0)}, `"PT1M30S"`},
		{"java Period", "java.time.Period", map[any]any{"class": "java.time.Period", "years": int32(1), "months": int32(-2), "days": int32(3),
			"negative": true, "zero": false}, `"P1Y-2M3D"`},
		{"java Year", "java.time.Year", map[any]any{"class": "java.time.Year", "value": int32(2024), "leap": true}, `2024`},
		{"go Year", "java.time.Year", map[any]any{"year": int32(2024)}, `2024`},
		{"java YearMonth", "java.time.YearMonth", map[any]any{"class": "java.time.YearMonth", "year": int32(2024), "month": "FEBRUARY",
			"monthValue": int32(2), "leapYear": true}, `"2024-02"`},
		{"go MonthDay", "java.time.MonthDay", map[any]any{"month": int32(2), "day": int32(29)}, `"--02-29"`},
		{"java MonthDay", "java.time.MonthDay", map[any]any{"class": "java.time.MonthDay", "month": "FEBRUARY", "monthValue": int32(2),
			"dayOfMonth": int32(29)}, `"--02-29"`},
		{"java sql.Timestamp", "java.sql.Timestamp", map[string]any{"_class": "java.sql.Timestamp", "value": stamp}, `"2024-05-06T07:08:09.123Z"`},
		{"go sql.Date", "java.sql.Date", map[any]any{"class": "java.sql.Date", "time": stamp}, `"2024-05-06T07:08:09.123Z"`},
		{"java sql.Date kept as a date", "java.sql.Date", stamp, `"2024-05-06T07:08:09.123Z"`},
		{"async result", "java.util.concurrent.CompletableFuture<java.time.Year>", map[any]any{"year": int32(1999)}, `1999`},
		{"unsupported", "java.util.UUID", map[any]any{"mostSigBits": int64(1), "leastSigBits": int64(2)}, `null`},
		{"go byte[]", "byte[]", []any{int32(0), int32(1), int32(255)}, `"AAH/"`},
		{"java byte[]", "byte[]", []byte{0, 1, 255}, `"AAH/"`},
		{"go BigInteger", "java.math.BigInteger", map[any]any{"signum": int32(-1), "mag": []any{int64(1), int64(-1)}}, `"-8589934591"`},
		{"java enum name", "com.foo.Level", "GOLD", `"GOLD"`},
		{"not a date", "java.time.LocalDate", map[any]any{"year": int32(2024)}, `{"year":2024}`},
	}
	r := &renderer{classes: testClasses}
	for _, c := range cases {
		typ, err := javatype.Parse(c.javaType)
		if err != nil {
			t.Fatal(err)
		}
		got, err := json.Marshal(r.render(typ, c.value))
		if err != nil || string(got) != c.want {
			t.Errorf("%s: rendered %s (%v), want %s", c.name, got, err, c.want)
		}
	}
}
