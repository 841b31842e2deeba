package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
)

// TestPayloadLimitFromRegistry: a dubbo-go provider registers in ZooKeeper with a payload
// parameter on its URL (and closes the connection on a larger request). The limit travels from
// the registry through the catalog, transcoding and the gateway contract to the embedded
// gateway, which answers 413 for a body over it instead of sending it, and serves one under it.
func TestPayloadLimitFromRegistry(t *testing.T) {
	const payload = 64 << 10
	zk := zookeeper.Start(t)
	dubboprovider.Start(t, dubboprovider.Options{ZooKeeper: zk.Addr(), App: "greeter-limited", Registry: "interface", Payload: payload})
	_, gw := serveGreeter(t, zk.Addr())
	over := `{"user":{"name":"` + strings.Repeat("x", payload) + `"}}`
	code, body, err := send("POST", gw+greeterBase+"echoUser", over)
	if err != nil || code != http.StatusRequestEntityTooLarge || !strings.Contains(body, `"status":"invalid_request"`) ||
		!strings.Contains(body, fmt.Sprintf("larger than %d bytes", payload)) {
		t.Errorf("a body over the provider's payload: %d %.300s %v, want 413 naming the limit", code, body, err)
	}
	name := strings.Repeat("y", payload/2)
	code, body, err = send("POST", gw+greeterBase+"echoUser", `{"user":{"name":"`+name+`"}}`)
	if err != nil || code != http.StatusOK || !strings.Contains(body, name) {
		t.Errorf("a body under it: %d %.300s %v", code, body, err)
	}
}
