package main

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/rpcbridge/rpcbridge/internal/testpeers/nacosdouble"
)

// TestMain fails the package's tests when a goroutine outlives them, except the ones
// nacos-sdk-go leaks by design (nacosdouble.SDKLeaks).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, nacosdouble.SDKLeaks()...)
}
