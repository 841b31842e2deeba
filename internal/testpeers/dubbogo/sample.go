package main

import (
	"context"
	"time"

	"github.com/apache/dubbo-go-hessian2/java8_time"
	"github.com/apache/dubbo-go-hessian2/java_sql_time"
	big "github.com/dubbogo/gost/math/big"
)

// Sample is the Java class org.rpcbridge.test.Sample: one field per Java type family that
// User does not already carry, so that echoSample round-trips every family REST→Dubbo
// conversion supports.
type Sample struct {
	Flag         bool                       `hessian:"flag"`
	Small        int8                       `hessian:"small"`  // byte
	Medium       int16                      `hessian:"medium"` // short
	Count        int32                      `hessian:"count"`
	Big          int64                      `hessian:"big"`
	Ratio        float32                    `hessian:"ratio"`
	Precise      float64                    `hessian:"precise"`
	Letter       string                     `hessian:"letter"` // char
	BoxedInt     *int32                     `hessian:"boxedInt"`
	BoxedLong    *int64                     `hessian:"boxedLong"`
	BoxedFlag    *bool                      `hessian:"boxedFlag"`
	BoxedDouble  *float64                   `hessian:"boxedDouble"`
	Huge         *big.Integer               `hessian:"huge"`
	Money        *big.Decimal               `hessian:"money"`
	When         time.Time                  `hessian:"when"`
	Day          *java8_time.LocalDate      `hessian:"day"`
	Clock        *java8_time.LocalTime      `hessian:"clock"`
	Local        *java8_time.LocalDateTime  `hessian:"local"`
	Instant      *java8_time.Instant        `hessian:"instant"`
	Offset       *java8_time.OffsetDateTime `hessian:"offset"`
	Zoned        *java8_time.ZonedDateTime  `hessian:"zoned"`
	ZonedFixed   *java8_time.ZonedDateTime  `hessian:"zonedFixed"`
	OffsetClock  *java8_time.OffsetTime     `hessian:"offsetClock"`
	Duration     *java8_time.Duration       `hessian:"duration"`
	Period       *java8_time.Period         `hessian:"period"`
	Year         *java8_time.Year           `hessian:"year"`
	YearMonth    *java8_time.YearMonth      `hessian:"yearMonth"`
	MonthDay     *java8_time.MonthDay       `hessian:"monthDay"`
	SqlDate      *java_sql_time.Date        `hessian:"sqlDate"` // not SQLDate: dubbo-go's map generalizer would call it "sQLDate"
	SqlTime      *java_sql_time.Time        `hessian:"sqlTime"`
	SqlTimestamp *Timestamp                 `hessian:"sqlTimestamp"`
	Raw          []byte                     `hessian:"raw"`       // byte[]
	Counts       []int32                    `hessian:"counts"`    // int[]
	Names        []string                   `hessian:"names"`     // String[]
	Places       []*Address                 `hessian:"places"`    // Address[]
	Addresses    []*Address                 `hessian:"addresses"` // List<Address>
	Labels       []string                   `hessian:"labels"`    // Set<String>
	Matrix       map[string][]any           `hessian:"matrix"`    // Map<String, List<Integer>>: dubbo-go-hessian2 v1.12.5 panics decoding a list into a map value of type []int32
	Levels       []Level                    `hessian:"levels"`    // List<Level>
}

// JavaClassName implements hessian.POJO.
func (*Sample) JavaClassName() string { return "org.rpcbridge.test.Sample" }

// EchoSample returns its argument.
func (*Greeter) EchoSample(_ context.Context, s *Sample) (*Sample, error) {
	return s, nil
}

// Timestamp is java.sql.Timestamp, which dubbo-go-hessian2 does not define: like its
// java_sql_time.Date and Time, it travels as Java's SqlDateSerializer writes it (an object of
// class java.sql.Timestamp whose one field, "value", is a date) and is registered with
// hessian.SetJavaSqlTimeSerialize, the extension point dubbo-go-hessian2 has for this.
type Timestamp struct {
	time.Time
}

// JavaClassName implements java_sql_time.JavaSqlTime.
func (Timestamp) JavaClassName() string { return "java.sql.Timestamp" }

// GetTime implements java_sql_time.JavaSqlTime.
func (t *Timestamp) GetTime() time.Time { return t.Time }

// SetTime implements java_sql_time.JavaSqlTime.
func (t *Timestamp) SetTime(v time.Time) { t.Time = v }

// ValueOf implements java_sql_time.JavaSqlTime: Timestamp.valueOf's "yyyy-mm-dd hh:mm:ss[.f...]".
func (t *Timestamp) ValueOf(s string) error {
	v, err := time.Parse("2006-01-02 15:04:05.999999999", s)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}
