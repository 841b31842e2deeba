package discovery

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine running: a Reflector or
// MetadataCenter must stop its fetches, ZooKeeper sessions and watches when its context ends.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
