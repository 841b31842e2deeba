package zookeeper

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them. A test binary re-executed
// by BenchmarkSync*/rss runs that scenario instead (runSyncChild).
func TestMain(m *testing.M) {
	if spec := os.Getenv(syncChildEnv); spec != "" {
		os.Exit(runSyncChild(spec))
	}
	goleak.VerifyTestMain(m)
}
