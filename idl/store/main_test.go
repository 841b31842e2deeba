package store

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine running (a Watch must end with its
// context).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
