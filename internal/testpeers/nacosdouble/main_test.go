package nacosdouble

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them, except the ones
// nacos-sdk-go leaks by design (SDKLeaks).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, SDKLeaks()...)
}
