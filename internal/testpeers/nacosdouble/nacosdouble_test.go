package nacosdouble

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/naming_client"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/common/logger"
	"github.com/nacos-group/nacos-sdk-go/v2/model"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"
)

// quietLogger drops the SDK's log lines (its logger is process-global).
type quietLogger struct{}

func (quietLogger) Info(...any)           {}
func (quietLogger) Warn(...any)           {}
func (quietLogger) Error(...any)          {}
func (quietLogger) Debug(...any)          {}
func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Warnf(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Debugf(string, ...any) {}
func (quietLogger) Close() error          { return nil }

var setLoggerOnce sync.Once

// newClient connects the real SDK naming client to the double.
func newClient(t *testing.T, s *Server, namespace string) naming_client.INamingClient {
	t.Helper()
	setLoggerOnce.Do(func() { logger.SetLogger(quietLogger{}) })
	dir := t.TempDir()
	c, err := clients.NewNamingClient(vo.NacosClientParam{
		ClientConfig: &constant.ClientConfig{
			NamespaceId: namespace, TimeoutMs: 5000, CacheDir: dir + "/cache", LogDir: dir + "/log",
			NotLoadCacheAtStart: true, UpdateCacheWhenEmpty: true,
		},
		ServerConfigs: []constant.ServerConfig{{IpAddr: "127.0.0.1", Port: uint64(s.Port())}},
	})
	if err != nil {
		t.Fatalf("NewNamingClient: %v", err)
	}
	t.Cleanup(c.CloseClient)
	return c
}

func ports(insts []model.Instance) []uint64 {
	var out []uint64
	for _, in := range insts {
		out = append(out, in.Port)
	}
	slices.Sort(out)
	return out
}

// waitFor polls cond until it holds; the deadline is only a give-up bound.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSDKAgainstDouble drives the official SDK against the double: listing with paging,
// subscription with pushes (including the empty push when the last instance leaves), and a
// registration made by the SDK itself. The double is a protocol-level double of the Nacos 2.x
// naming gRPC API, not a Nacos server.
func TestSDKAgainstDouble(t *testing.T) {
	s := Start(t)
	for i := range 12 {
		s.Register("", "", fmt.Sprintf("svc-%02d", i), NewInstance("10.0.0.1", uint64(1000+i), nil))
	}
	s.Register("dev", "G2", "other", NewInstance("10.0.0.2", 1, nil))
	c := newClient(t, s, "")

	var names []string
	for page := uint32(1); ; page++ {
		l, err := c.GetAllServicesInfo(vo.GetAllServiceInfoParam{PageNo: page, PageSize: 5})
		if err != nil {
			t.Fatalf("GetAllServicesInfo page %d: %v", page, err)
		}
		if l.Count != 12 {
			t.Fatalf("count = %d, want 12", l.Count)
		}
		names = append(names, l.Doms...)
		if len(l.Doms) == 0 || len(names) >= int(l.Count) {
			break
		}
	}
	if len(names) != 12 || names[0] != "svc-00" || names[11] != "svc-11" {
		t.Fatalf("listed %v, want svc-00..svc-11", names)
	}

	var mu sync.Mutex
	var got [][]uint64
	param := &vo.SubscribeParam{ServiceName: "svc-03", SubscribeCallback: func(insts []model.Instance, err error) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, ports(insts))
	}}
	if err := c.Subscribe(param); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	last := func() []uint64 {
		mu.Lock()
		defer mu.Unlock()
		if len(got) == 0 {
			return nil
		}
		return got[len(got)-1]
	}
	waitFor(t, "the first callback", func() bool { return slices.Equal(last(), []uint64{1003}) })

	s.Register("", "", "svc-03", NewInstance("10.0.0.9", 2000, nil))
	if l := last(); !slices.Equal(l, []uint64{1003, 2000}) {
		t.Fatalf("after register: callback saw %v, want [1003 2000] (Register returns after the ack)", l)
	}
	s.SetInstances("", "", "svc-03")
	if l := last(); len(l) != 0 {
		t.Fatalf("after emptying: callback saw %v, want the empty push", l)
	}

	// A registration made by a second SDK client shows up for the first one.
	reg := newClient(t, s, "")
	if _, err := reg.RegisterInstance(vo.RegisterInstanceParam{Ip: "10.0.0.7", Port: 7777, ServiceName: "svc-03",
		Weight: 1, Enable: true, Healthy: true, Ephemeral: true}); err != nil {
		t.Fatalf("RegisterInstance: %v", err)
	}
	waitFor(t, "the SDK registration pushed", func() bool { return slices.Equal(last(), []uint64{7777}) })
	// It is ephemeral: it goes away with the registering client's connection.
	reg.CloseClient()
	waitFor(t, "the ephemeral instance removed", func() bool { return len(last()) == 0 })
}
