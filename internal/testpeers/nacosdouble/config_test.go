// The SDK's config client cannot be closed under the race detector without a report from the
// SDK itself: RpcClient.Shutdown deletes from the process-global client map without its lock
// while the client's own listen round reads it (nacos-sdk-go#861, rpc_client.go:384 against
// :156). These tests therefore run without -race only; the naming tests run under it.

//go:build !race

package nacosdouble

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/config_client"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/common/logger"
	"github.com/nacos-group/nacos-sdk-go/v2/util"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"
)

// newConfigClient connects the real SDK config client to the double.
func newConfigClient(t *testing.T, s *Server, username, password string) config_client.IConfigClient {
	t.Helper()
	setLoggerOnce.Do(func() { logger.SetLogger(quietLogger{}) })
	// Not t.TempDir: the SDK's listener goroutines may still write the config cache after
	// CloseClient returns, which makes TempDir's strict cleanup fail; removal errors are ignored.
	dir, err := os.MkdirTemp("", "nacosdouble-config-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	c, err := clients.NewConfigClient(vo.NacosClientParam{
		ClientConfig: &constant.ClientConfig{
			TimeoutMs: 5000, CacheDir: dir + "/cache", LogDir: dir + "/log", NotLoadCacheAtStart: true,
			DisableUseSnapShot: true, Username: username, Password: password,
		},
		ServerConfigs: []constant.ServerConfig{{IpAddr: "127.0.0.1", Port: uint64(s.Port())}},
	})
	if err != nil {
		t.Fatalf("NewConfigClient: %v", err)
	}
	t.Cleanup(c.CloseClient)
	return c
}

// TestSDKConfigAgainstDouble drives the official SDK's config client against the double:
// publish and query, compare-and-set by casMd5, a listener told of changes made by another
// client and by the test, removal, and the content limit. It is a protocol-level double of the
// Nacos 2.x config gRPC API, not a Nacos server (see the package documentation for the gap).
func TestSDKConfigAgainstDouble(t *testing.T) {
	s := Start(t)
	a, b := newConfigClient(t, s, "", ""), newConfigClient(t, s, "", "")
	// The SDK limits queries per configuration for the whole process (5/s): a data ID of its
	// own per run keeps a repeated test (-count) from running into it.
	id := dataID()
	p := func(content, cas string) (bool, error) {
		return a.PublishConfig(vo.ConfigParam{DataId: id, Group: "G", Content: content, CasMd5: cas})
	}
	if got, err := a.GetConfig(vo.ConfigParam{DataId: id, Group: "G"}); err != nil || got != "" {
		t.Fatalf("a missing config: %q, %v; want empty content and no error (the SDK maps CONFIG_NOT_FOUND)", got, err)
	}
	if ok, err := p("v1", util.Md5("")); !ok || err != nil {
		t.Fatalf("create with casMd5: %v, %v", ok, err)
	}
	if ok, err := p("v2", util.Md5("not v1")); ok || err == nil || !strings.Contains(err.Error(), "Cas publish fail") {
		t.Fatalf("publish with a stale casMd5: %v, %v; want the CAS failure", ok, err)
	}
	if ok, err := p("v2", util.Md5("v1")); !ok || err != nil {
		t.Fatalf("publish with the right casMd5: %v, %v", ok, err)
	}
	if got, _ := b.GetConfig(vo.ConfigParam{DataId: id, Group: "G"}); got != "v2" {
		t.Fatalf("the other client reads %q, want v2", got)
	}

	var mu sync.Mutex
	var heard []string
	if err := b.ListenConfig(vo.ConfigParam{DataId: id, Group: "G", OnChange: func(_, _, _, data string) {
		mu.Lock()
		defer mu.Unlock()
		heard = append(heard, data)
	}}); err != nil {
		t.Fatal(err)
	}
	last := func() string {
		mu.Lock()
		defer mu.Unlock()
		if len(heard) == 0 {
			return "<nothing>"
		}
		return heard[len(heard)-1]
	}
	// The SDK calls back only for changes against what it cached (b read v2 above).
	waitFor(t, "the listen registered", func() bool { return s.ConfigListeners("", "G", id) == 1 })
	if ok, err := p("v3", ""); !ok || err != nil {
		t.Fatalf("plain publish: %v, %v", ok, err)
	}
	waitFor(t, "a change pushed to the listener", func() bool { return last() == "v3" })
	s.SetConfig("public", "G", id, "from the console")
	waitFor(t, "a change made on the server", func() bool { return last() == "from the console" })

	if ok, err := a.DeleteConfig(vo.ConfigParam{DataId: id, Group: "G"}); !ok || err != nil {
		t.Fatalf("DeleteConfig: %v, %v", ok, err)
	}
	if _, found := s.Config("", "G", id); found {
		t.Fatal("the config survived DeleteConfig")
	}
	s.SetMaxContent(10)
	if ok, err := p("more than ten characters", ""); ok || err == nil || !strings.Contains(err.Error(), "over 10") {
		t.Fatalf("publish over maxContent: %v, %v", ok, err)
	}
	if ok, err := a.PublishConfig(vo.ConfigParam{DataId: "bad/id", Group: "G", Content: "x"}); ok || err == nil {
		t.Fatalf("publish with an invalid data ID: %v, %v", ok, err)
	}
	if ids := s.ConfigIDs("", "G", ""); len(ids) != 0 {
		t.Fatalf("configs left: %v", ids)
	}
}

// TestConfigAuth requires a login: a client with the password works, one without is refused.
func TestConfigAuth(t *testing.T) {
	s := Start(t)
	s.RequireAuth("rpcbridge", "s3cret")
	good := newConfigClient(t, s, "rpcbridge", "s3cret")
	id := dataID()
	if ok, err := good.PublishConfig(vo.ConfigParam{DataId: id, Group: "G", Content: "v"}); !ok || err != nil {
		t.Fatalf("publish after login: %v, %v", ok, err)
	}
	anon := newConfigClient(t, s, "", "")
	if ok, err := anon.PublishConfig(vo.ConfigParam{DataId: id, Group: "G", Content: "w"}); ok || err == nil {
		t.Fatalf("publish without login: %v, %v", ok, err)
	}
	if _, err := anon.GetConfig(vo.ConfigParam{DataId: id, Group: "G"}); err == nil {
		t.Fatal("query without login succeeded")
	}
	if got, _ := s.Config("", "G", id); got != "v" {
		t.Fatalf("the config is %q", got)
	}
}

var dataIDs atomic.Int64

// dataID is a data ID no other test run of the process uses.
func dataID() string { return "app-" + strconv.FormatInt(dataIDs.Add(1), 10) + ".yaml" }
