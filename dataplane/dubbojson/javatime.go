package dubbojson

import (
	"time"

	"github.com/apache/dubbo-go-hessian2/java8_time"
)

// java.time values travel as Dubbo's hessian-lite "handles" (classes
// com.alibaba.com.caucho.hessian.io.java8.*Handle), which dubbo-go-hessian2 also decodes.
const handlePackage = "com.alibaba.com.caucho.hessian.io.java8."

// Layouts of the java.time types without a zone (ISO 8601, as Java prints them).
const (
	localDateLayout     = "2006-01-02"
	localTimeLayout     = "15:04:05.999999999"
	localDateTimeLayout = "2006-01-02T15:04:05.999999999"
)

// encodeJavaTime writes Instant and OffsetDateTime (from RFC 3339), LocalDate, LocalTime and
// LocalDateTime (from ISO 8601 without zone).
func (e *encoder) encodeJavaTime(t *javaType, v any, path string) error {
	s, ok := v.(string)
	if !ok {
		return failf(path, "want a string for %s", t.name)
	}
	switch t.name {
	case "java.time.Instant":
		ts, err := parseTime(s, path)
		if err != nil {
			return err
		}
		e.w.object(handlePackage+"InstantHandle", []string{"seconds", "nanos"})
		_ = e.w.scalar(ts.Unix())
		return e.w.scalar(int32(ts.Nanosecond()))
	case "java.time.LocalDate":
		ts, err := time.Parse(localDateLayout, s)
		if err != nil {
			return failf(path, "%q is not a date (YYYY-MM-DD)", s)
		}
		e.writeLocalDate(ts)
		return nil
	case "java.time.LocalTime":
		ts, err := time.Parse(localTimeLayout, s)
		if err != nil {
			return failf(path, "%q is not a time (hh:mm:ss[.fraction])", s)
		}
		e.writeLocalTime(ts)
		return nil
	case "java.time.LocalDateTime":
		ts, err := time.Parse(localDateTimeLayout, s)
		if err != nil {
			return failf(path, "%q is not a local date-time (YYYY-MM-DDThh:mm:ss)", s)
		}
		e.writeLocalDateTime(ts)
		return nil
	default: // java.time.OffsetDateTime
		ts, err := parseTime(s, path)
		if err != nil {
			return err
		}
		_, offset := ts.Zone()
		e.w.object(handlePackage+"OffsetDateTimeHandle", []string{"dateTime", "offset"})
		e.writeLocalDateTime(ts)
		e.w.object(handlePackage+"ZoneOffsetHandle", []string{"seconds"})
		return e.w.scalar(int32(offset))
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

// renderJavaTime renders the java.time values dubbo-go-hessian2 decodes; ok is false for
// anything else.
func renderJavaTime(v any) (string, bool) {
	date := func(d java8_time.LocalDate) time.Time {
		return time.Date(int(d.Year), time.Month(d.Month), int(d.Day), 0, 0, 0, 0, time.UTC)
	}
	clock := func(d time.Time, t java8_time.LocalTime) time.Time {
		return time.Date(d.Year(), d.Month(), d.Day(), int(t.Hour), int(t.Minute), int(t.Second), int(t.Nano), time.UTC)
	}
	switch x := v.(type) {
	case *java8_time.Instant:
		return time.Unix(x.Seconds, int64(x.Nanos)).UTC().Format(time.RFC3339Nano), true
	case *java8_time.LocalDate:
		return date(*x).Format(localDateLayout), true
	case *java8_time.LocalTime:
		return clock(time.Time{}, *x).Format(localTimeLayout), true
	case *java8_time.LocalDateTime:
		return clock(date(x.Date), x.Time).Format(localDateTimeLayout), true
	case *java8_time.OffsetDateTime:
		zone := time.FixedZone("", int(x.Offset.Seconds))
		local := clock(date(x.DateTime.Date), x.DateTime.Time)
		return time.Date(local.Year(), local.Month(), local.Day(), local.Hour(), local.Minute(), local.Second(), local.Nanosecond(), zone).Format(time.RFC3339Nano), true
	}
	return "", false
}
