package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/apache/dubbo-go-hessian2/java_exception"
)

// Interface is the Java interface the provider serves.
const Interface = "org.rpcbridge.test.GreeterService"

// Greeter implements org.rpcbridge.test.GreeterService.
type Greeter struct{}

// Reference names the service for dubbo-go.
func (*Greeter) Reference() string { return Interface }

// MethodMapper gives the Go methods their Java names.
func (*Greeter) MethodMapper() map[string]string {
	return map[string]string{
		"SayHello":   "sayHello",
		"EchoUser":   "echoUser",
		"EchoSample": "echoSample",
		"Fail":       "fail",
		"Slow":       "slow",
	}
}

// SayHello serves both Java overloads, sayHello(String) and sayHello(String, int): dubbo-go
// dispatches by name only, so the Go method is variadic. Direct calls and generic $invoke
// calls (whose realization checks the argument count against the Go signature) both reach it.
func (*Greeter) SayHello(_ context.Context, name string, times ...int32) (string, error) {
	switch len(times) {
	case 0:
		return "Hello, " + name, nil
	case 1:
		if times[0] < 0 || times[0] > 100 {
			return "", fmt.Errorf("sayHello(String, int): times %d out of 0..100", times[0])
		}
		return strings.TrimSpace(strings.Repeat("Hello, "+name+" ", int(times[0]))), nil
	}
	return "", fmt.Errorf("sayHello takes 1 or 2 arguments, got %d", 1+len(times))
}

// EchoUser returns its argument.
func (*Greeter) EchoUser(_ context.Context, u *User) (*User, error) {
	return u, nil
}

// Fail throws org.rpcbridge.test.GreeterException with msg.
func (*Greeter) Fail(_ context.Context, msg string) (string, error) {
	return "", &GreeterException{DetailMessage: msg, StackTrace: []java_exception.StackTraceElement{}}
}

// Slow answers after millis milliseconds.
func (*Greeter) Slow(ctx context.Context, millis int32) (string, error) {
	select {
	case <-time.After(time.Duration(millis) * time.Millisecond):
		return fmt.Sprintf("slept %dms", millis), nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
