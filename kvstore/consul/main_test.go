package consul

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them (a watch that did not end,
// a session not closed).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
