package dataplane_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them.
// A test binary re-executed by BenchmarkBodyMemory runs one scenario instead.
func TestMain(m *testing.M) {
	if spec := os.Getenv(bodyMemChildEnv); spec != "" {
		os.Exit(runBodyMemChild(spec))
	}
	goleak.VerifyTestMain(m)
}
