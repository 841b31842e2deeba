package main

import (
	"time"

	hessian "github.com/apache/dubbo-go-hessian2"
	"github.com/apache/dubbo-go-hessian2/java_exception"
	big "github.com/dubbogo/gost/math/big"
)

// Level is the Java enum org.rpcbridge.test.Level.
type Level hessian.JavaEnum

// The values of Level, in Java declaration order.
const (
	LevelGold Level = iota
	LevelSilver
)

var levelNames = map[Level]string{LevelGold: "GOLD", LevelSilver: "SILVER"}

// JavaClassName implements hessian.POJO.
func (Level) JavaClassName() string { return "org.rpcbridge.test.Level" }

// String implements hessian.POJOEnum: the Java constant's name.
func (l Level) String() string { return levelNames[l] }

// EnumValue implements hessian.POJOEnum: the value of a Java constant's name.
func (Level) EnumValue(name string) hessian.JavaEnum {
	for v, n := range levelNames {
		if n == name {
			return hessian.JavaEnum(v)
		}
	}
	return hessian.InvalidJavaEnum
}

// Address is the Java class org.rpcbridge.test.Address, nested in User.
type Address struct {
	Street string `hessian:"street"`
	City   string `hessian:"city"`
	Zip    string `hessian:"zip"`
}

// JavaClassName implements hessian.POJO.
func (*Address) JavaClassName() string { return "org.rpcbridge.test.Address" }

// User is the Java class org.rpcbridge.test.User.
type User struct {
	Id      int64            `hessian:"id"` // not ID: dubbo-go's map generalizer would call it "iD"
	Name    string           `hessian:"name"`
	Balance *big.Decimal     `hessian:"balance"`
	Level   Level            `hessian:"level"`
	Created time.Time        `hessian:"created"`
	Tags    []string         `hessian:"tags"`
	Scores  map[string]int32 `hessian:"scores"`
	Address *Address         `hessian:"address"`
}

// JavaClassName implements hessian.POJO.
func (*User) JavaClassName() string { return "org.rpcbridge.test.User" }

// GreeterException is the Java exception org.rpcbridge.test.GreeterException that fail throws.
// Its fields are those of java.lang.Throwable, so that Java and Go clients decode it as one.
type GreeterException struct {
	SerialVersionUID     int64
	DetailMessage        string
	SuppressedExceptions []java_exception.Throwabler
	StackTrace           []java_exception.StackTraceElement
	Cause                java_exception.Throwabler
}

// JavaClassName implements hessian.POJO.
func (GreeterException) JavaClassName() string { return "org.rpcbridge.test.GreeterException" }

// Error implements error.
func (e GreeterException) Error() string { return e.DetailMessage }

// GetStackTrace implements java_exception.Throwabler.
func (e GreeterException) GetStackTrace() []java_exception.StackTraceElement { return e.StackTrace }

// registerTypes registers the API's classes in hessian2's process-wide registry.
func registerTypes() {
	hessian.RegisterPOJO(&Address{})
	hessian.RegisterPOJO(&User{})
	hessian.RegisterPOJO(&Sample{})
	hessian.RegisterPOJO(&Timestamp{})
	hessian.SetJavaSqlTimeSerialize(&Timestamp{})
	hessian.RegisterJavaEnum(LevelGold)
	hessian.RegisterJavaEnum(LevelSilver)
	hessian.RegisterPOJO(&GreeterException{})
}
