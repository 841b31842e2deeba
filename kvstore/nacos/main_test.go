package nacos

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them. One SDK goroutine is
// excepted: nacos-sdk-go v2.3.5's asyncNotifyListenConfig sends on an unbuffered channel from
// a goroutine of its own, and once CloseClient has stopped the loop that receives, that send
// blocks forever (config_client.go:553).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction(
		"github.com/nacos-group/nacos-sdk-go/v2/clients/config_client.(*ConfigClient).asyncNotifyListenConfig.func1"))
}
