package nacos

import (
	"fmt"
	"testing"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"

	"github.com/rpcbridge/rpcbridge/internal/nacossdk"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/nacosdouble"
	"github.com/rpcbridge/rpcbridge/kvstore"
	"github.com/rpcbridge/rpcbridge/kvstore/kvtest"
)

// pause leaves the SDK's query limiter (5 per second per configuration, shared by every client
// of the process) room between writes: both benchmarked clients live in one process here, and
// a store write costs one index query on the writer, one on the watcher's SDK listener.
const pause = 500 * time.Millisecond

// BenchmarkPropagation: a compare-and-set write on one store client to the watch of another
// (store), against the SDK's own delay from a PublishConfig on one client to the ListenConfig
// callback on another (sdk), through the Nacos protocol double.
func BenchmarkPropagation(b *testing.B) {
	d := nacosdouble.Start(b)
	b.Run("store", func(b *testing.B) {
		kvtest.Propagation(b, func(t testing.TB) kvstore.Store { return open(t, Config{Servers: []string{d.Addr()}}) },
			[]byte(`{"version": 7}`), pause)
	})
	b.Run("sdk", func(b *testing.B) {
		newClient := func() func(vo.ConfigParam) error {
			dir := b.TempDir()
			c, err := clients.NewConfigClient(vo.NacosClientParam{
				ClientConfig:  &constant.ClientConfig{TimeoutMs: 5000, CacheDir: dir, LogDir: dir, NotLoadCacheAtStart: true},
				ServerConfigs: []constant.ServerConfig{{IpAddr: "127.0.0.1", Port: uint64(d.Port())}},
			})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { nacossdk.CloseClient(c) })
			return func(p vo.ConfigParam) error {
				if p.OnChange != nil {
					return c.ListenConfig(p)
				}
				_, err := c.PublishConfig(p)
				return err
			}
		}
		publish, listen := newClient(), newClient()
		heard := make(chan string, 16)
		if err := publish(vo.ConfigParam{DataId: "bench", Group: group, Content: "start"}); err != nil {
			b.Fatal(err)
		}
		if err := listen(vo.ConfigParam{DataId: "bench", Group: group,
			OnChange: func(_, _, _, data string) { heard <- data }}); err != nil {
			b.Fatal(err)
		}
		for d.ConfigListeners("", group, "bench") == 0 { // a new listen takes effect at the SDK's next 5 s round
			time.Sleep(50 * time.Millisecond)
		}
		b.ResetTimer()
		for i := range b.N {
			b.StopTimer()
			time.Sleep(pause)
			b.StartTimer()
			want := fmt.Sprintf("v%d-%d", b.N, i)
			if err := publish(vo.ConfigParam{DataId: "bench", Group: group, Content: want}); err != nil {
				b.Fatal(err)
			}
			for got := range heard {
				if got == want {
					break
				}
			}
		}
	})
}
