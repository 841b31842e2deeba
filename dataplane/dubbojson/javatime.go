package dubbojson

import (
	"encoding/json"
	"time"

	"github.com/apache/dubbo-go-hessian2/java8_time"
	"github.com/apache/dubbo-go-hessian2/java_sql_time"

	"github.com/rpcbridge/rpcbridge/javatype"
)

// java.time values travel as Dubbo's hessian-lite "handles" (classes
// com.alibaba.com.caucho.hessian.io.java8.*Handle, whose readResolve builds the java.time value
// on the provider), which dubbo-go-hessian2's java8_time package also decodes. java.sql.Date,
// Time and Timestamp travel as hessian-lite's SqlDateSerializer writes them: an object of their
// class with one field, "value", a date (dubbo-go-hessian2's java_sql_time decodes the first
// two; see the test provider for Timestamp). A java.util.Date is a hessian2 date.
const handlePackage = "com.alibaba.com.caucho.hessian.io.java8."

// encodeTemporal writes a date or time value from its JSON text (javatype.ParseTemporal).
func (e *encoder) encodeTemporal(t *javatype.Type, v any, path *jsonPath) error {
	f := t.Family()
	var text string
	switch x := v.(type) {
	case string:
		text = x
	case json.Number:
		if f != javatype.Date && f != javatype.Year {
			return failf(path, "want a string for %s", t.Name)
		}
		text = x.String()
	default:
		return failf(path, "want a string for %s", t.Name)
	}
	tv, err := javatype.ParseTemporal(f, text)
	if err != nil {
		return failf(path, "%v", err)
	}
	e.writeTemporal(t.Name, tv)
	return nil
}

// writeTemporal writes v as the hessian2 value a Java provider reads as class.
func (e *encoder) writeTemporal(class string, v javatype.Temporal) {
	w := e.w
	switch v.Family {
	case javatype.Date:
		if class != "java.util.Date" {
			w.object(class, []string{"value"})
		}
		_ = w.scalar(v.Time)
	case javatype.Instant:
		w.object(handlePackage+"InstantHandle", []string{"seconds", "nanos"})
		_ = w.scalar(v.Time.Unix())
		_ = w.scalar(int32(v.Time.Nanosecond()))
	case javatype.LocalDate:
		e.writeLocalDate(v.Time)
	case javatype.LocalTime:
		e.writeLocalTime(v.Time)
	case javatype.LocalDateTime:
		e.writeLocalDateTime(v.Time)
	case javatype.OffsetDateTime:
		w.object(handlePackage+"OffsetDateTimeHandle", []string{"dateTime", "offset"})
		e.writeLocalDateTime(v.Time)
		e.writeZoneOffset(v.Time)
	case javatype.ZonedDateTime:
		w.object(handlePackage+"ZonedDateTimeHandle", []string{"dateTime", "offset", "zoneId"})
		e.writeLocalDateTime(v.Time)
		e.writeZoneOffset(v.Time)
		_ = w.scalar(v.Zone)
	case javatype.OffsetTime:
		w.object(handlePackage+"OffsetTimeHandle", []string{"localTime", "zoneOffset"})
		e.writeLocalTime(v.Time)
		e.writeZoneOffset(v.Time)
	case javatype.Duration:
		w.object(handlePackage+"DurationHandle", []string{"seconds", "nanos"})
		_ = w.scalar(v.Seconds)
		_ = w.scalar(v.Nanos)
	case javatype.Period:
		w.object(handlePackage+"PeriodHandle", []string{"years", "months", "days"})
		_ = w.scalar(v.Years)
		_ = w.scalar(v.Months)
		_ = w.scalar(v.Days)
	case javatype.Year:
		w.object(handlePackage+"YearHandle", []string{"year"})
		_ = w.scalar(v.Years)
	case javatype.YearMonth:
		w.object(handlePackage+"YearMonthHandle", []string{"year", "month"})
		_ = w.scalar(v.Years)
		_ = w.scalar(v.Months)
	case javatype.MonthDay:
		w.object(handlePackage+"MonthDayHandle", []string{"month", "day"})
		_ = w.scalar(v.Months)
		_ = w.scalar(v.Days)
	}
}

func (e *encoder) writeLocalDate(ts time.Time) {
	e.w.object(handlePackage+"LocalDateHandle", []string{"year", "month", "day"})
	_ = e.w.scalar(int32(ts.Year()))
	_ = e.w.scalar(int32(ts.Month()))
	_ = e.w.scalar(int32(ts.Day()))
}

func (e *encoder) writeLocalTime(ts time.Time) {
	e.w.object(handlePackage+"LocalTimeHandle", []string{"hour", "minute", "second", "nano"})
	_ = e.w.scalar(int32(ts.Hour()))
	_ = e.w.scalar(int32(ts.Minute()))
	_ = e.w.scalar(int32(ts.Second()))
	_ = e.w.scalar(int32(ts.Nanosecond()))
}

func (e *encoder) writeLocalDateTime(ts time.Time) {
	e.w.object(handlePackage+"LocalDateTimeHandle", []string{"date", "time"})
	e.writeLocalDate(ts)
	e.writeLocalTime(ts)
}

func (e *encoder) writeZoneOffset(ts time.Time) {
	_, offset := ts.Zone()
	e.w.object(handlePackage+"ZoneOffsetHandle", []string{"seconds"})
	_ = e.w.scalar(int32(offset))
}

// decodedTemporal converts the values dubbo-go-hessian2 decodes java.time and java.sql values
// into (whatever type the result declares); ok is false for anything else.
func decodedTemporal(v any) (javatype.Temporal, bool) {
	switch x := v.(type) {
	case *java8_time.Instant:
		return javatype.Temporal{Family: javatype.Instant, Time: time.Unix(x.Seconds, int64(x.Nanos)).UTC()}, true
	case *java8_time.LocalDate:
		return javatype.Temporal{Family: javatype.LocalDate, Time: localDateTime(*x, java8_time.LocalTime{}, 0)}, true
	case *java8_time.LocalTime:
		return javatype.Temporal{Family: javatype.LocalTime, Time: localDateTime(java8_time.LocalDate{Month: 1, Day: 1}, *x, 0)}, true
	case *java8_time.LocalDateTime:
		return javatype.Temporal{Family: javatype.LocalDateTime, Time: localDateTime(x.Date, x.Time, 0)}, true
	case *java8_time.OffsetDateTime:
		return javatype.Temporal{Family: javatype.OffsetDateTime, Time: localDateTime(x.DateTime.Date, x.DateTime.Time, x.Offset.Seconds)}, true
	case *java8_time.ZonedDateTime:
		return javatype.Temporal{Family: javatype.ZonedDateTime, Time: localDateTime(x.DateTime.Date, x.DateTime.Time, x.Offset.Seconds), Zone: x.ZoneId}, true
	case *java8_time.OffsetTime:
		return javatype.Temporal{Family: javatype.OffsetTime, Time: localDateTime(java8_time.LocalDate{Month: 1, Day: 1}, x.LocalTime, x.ZoneOffset.Seconds)}, true
	case *java8_time.Duration:
		return javatype.Temporal{Family: javatype.Duration, Seconds: x.Seconds, Nanos: x.Nanos}, true
	case *java8_time.Period:
		return javatype.Temporal{Family: javatype.Period, Years: x.Years, Months: x.Months, Days: x.Days}, true
	case *java8_time.Year:
		return javatype.Temporal{Family: javatype.Year, Years: x.Year}, true
	case *java8_time.YearMonth:
		return javatype.Temporal{Family: javatype.YearMonth, Years: x.Year, Months: x.Month}, true
	case *java8_time.MonthDay:
		return javatype.Temporal{Family: javatype.MonthDay, Months: x.Month, Days: x.Day}, true
	case *java_sql_time.Date:
		return javatype.Temporal{Family: javatype.Date, Time: x.Time}, true
	case *java_sql_time.Time:
		return javatype.Temporal{Family: javatype.Date, Time: x.Time}, true
	}
	return javatype.Temporal{}, false
}

// localDateTime is a date and time of day at a fixed offset (seconds east of UTC).
func localDateTime(d java8_time.LocalDate, t java8_time.LocalTime, offset int32) time.Time {
	zone := time.UTC
	if offset != 0 {
		zone = time.FixedZone("", int(offset))
	}
	return time.Date(int(d.Year), time.Month(d.Month), int(d.Day), int(t.Hour), int(t.Minute), int(t.Second), int(t.Nano), zone)
}
