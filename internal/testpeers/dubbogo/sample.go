package main

import (
	"context"
	"time"

	"github.com/apache/dubbo-go-hessian2/java8_time"
	big "github.com/dubbogo/gost/math/big"
)

// Sample is the Java class org.rpcbridge.test.Sample: one field per Java type family that
// User does not already carry, so that echoSample round-trips every family REST→Dubbo
// conversion supports.
type Sample struct {
	Flag        bool                       `hessian:"flag"`
	Small       int8                       `hessian:"small"`  // byte
	Medium      int16                      `hessian:"medium"` // short
	Count       int32                      `hessian:"count"`
	Big         int64                      `hessian:"big"`
	Ratio       float32                    `hessian:"ratio"`
	Precise     float64                    `hessian:"precise"`
	Letter      string                     `hessian:"letter"` // char
	BoxedInt    *int32                     `hessian:"boxedInt"`
	BoxedLong   *int64                     `hessian:"boxedLong"`
	BoxedFlag   *bool                      `hessian:"boxedFlag"`
	BoxedDouble *float64                   `hessian:"boxedDouble"`
	Huge        *big.Integer               `hessian:"huge"`
	Money       *big.Decimal               `hessian:"money"`
	When        time.Time                  `hessian:"when"`
	Day         *java8_time.LocalDate      `hessian:"day"`
	Clock       *java8_time.LocalTime      `hessian:"clock"`
	Local       *java8_time.LocalDateTime  `hessian:"local"`
	Instant     *java8_time.Instant        `hessian:"instant"`
	Offset      *java8_time.OffsetDateTime `hessian:"offset"`
	Raw         []byte                     `hessian:"raw"`       // byte[]
	Counts      []int32                    `hessian:"counts"`    // int[]
	Names       []string                   `hessian:"names"`     // String[]
	Places      []*Address                 `hessian:"places"`    // Address[]
	Addresses   []*Address                 `hessian:"addresses"` // List<Address>
	Labels      []string                   `hessian:"labels"`    // Set<String>
	Matrix      map[string][]any           `hessian:"matrix"`    // Map<String, List<Integer>>: dubbo-go-hessian2 v1.12.5 panics decoding a list into a map value of type []int32
	Levels      []Level                    `hessian:"levels"`    // List<Level>
}

// JavaClassName implements hessian.POJO.
func (*Sample) JavaClassName() string { return "org.rpcbridge.test.Sample" }

// EchoSample returns its argument.
func (*Greeter) EchoSample(_ context.Context, s *Sample) (*Sample, error) {
	return s, nil
}
