package nacos

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them. These are excepted, all
// leaks of nacos-sdk-go v2.3.5 (this package has no gRPC client of its own):
//   - asyncNotifyListenConfig sends on an unbuffered channel from a goroutine of its own; once
//     CloseClient has stopped the loop that receives, the send blocks forever
//     (config_client.go:553);
//   - connectToServer returns without closing the gRPC ClientConn when the stream cannot be
//     opened after the server check (grpc_client.go:227, around a server restart): the conn's
//     callback serializer goroutine stays, and while the server it dialed is gone, so does its
//     subchannel, retrying with backoff in addrConn.resetTransportAndUnlock.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/nacos-group/nacos-sdk-go/v2/clients/config_client.(*ConfigClient).asyncNotifyListenConfig.func1"),
		goleak.IgnoreTopFunction("google.golang.org/grpc/internal/grpcsync.(*CallbackSerializer).run"),
		goleak.IgnoreTopFunction("google.golang.org/grpc.(*addrConn).resetTransportAndUnlock"))
}
