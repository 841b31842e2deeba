package consul

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/rpcbridge/rpcbridge/internal/secret"
	consulpeer "github.com/rpcbridge/rpcbridge/internal/testpeers/consul"
	"github.com/rpcbridge/rpcbridge/internal/yamltime"
	"github.com/rpcbridge/rpcbridge/kvstore"
	"github.com/rpcbridge/rpcbridge/kvstore/internal/layout"
	"github.com/rpcbridge/rpcbridge/kvstore/kvtest"
)

const root = "rpcbridge/test"

func open(t testing.TB, cfg Config) *Store {
	t.Helper()
	if cfg.Root == "" {
		cfg.Root = root
	}
	cfg.Wait = yamltime.Duration(5 * time.Second)
	cfg.RequestTimeout = yamltime.Duration(5 * time.Second)
	s, err := Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// rawKV is a plain client for inspecting and damaging the store's keys.
func rawKV(t testing.TB, addr string) *api.KV {
	t.Helper()
	c, err := api.NewClient(&api.Config{Address: addr, Scheme: "http"})
	if err != nil {
		t.Fatal(err)
	}
	return c.KV()
}

// TestConformance runs the store suite against a real Consul agent, stopped and restarted in
// the middle of a watch by the outage test. A dev agent keeps nothing across the restart.
func TestConformance(t *testing.T) {
	agent := consulpeer.Start(t)
	kv := rawKV(t, agent.Addr())
	kvtest.Run(t, kvtest.Backend{
		Open:        func(t testing.TB) kvstore.Store { return open(t, Config{Address: agent.Addr()}) },
		Stop:        func(testing.TB) { agent.Stop() },
		Restart:     func(testing.TB) { agent.Restart() },
		Damage:      func(t testing.TB, key string, how kvtest.Damage) { damage(t, kv, key, how) },
		Writes:      func(t testing.TB) []string { return writes(t, kv) },
		PlantOrphan: func(t testing.TB, age time.Duration) string { return plantOrphan(t, kv, age) },
	})
}

func put(t testing.TB, kv *api.KV, key string, value []byte) {
	t.Helper()
	if _, err := kv.Put(&api.KVPair{Key: key, Value: value}, nil); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

// damage gives key a new head that is foreign, names a chunk that does not exist, or names a
// chunk whose bytes fail their checksum.
func damage(t testing.TB, kv *api.KV, key string, how kvtest.Damage) {
	t.Helper()
	data := []byte("dubbo://10.0.0.1:20880/not.Ours")
	if how != kvtest.Foreign {
		h, chunks := kvtest.DamagedWrite(t, how)
		for i, c := range chunks {
			put(t, kv, root+"/chunks/"+h.Write+"/"+strconv.Itoa(i), c)
		}
		data = layout.MarshalHead(h)
	}
	put(t, kv, root+"/keys/"+key, data)
}

func writes(t testing.TB, kv *api.KV) []string {
	t.Helper()
	dirs, _, err := kv.Keys(root+"/chunks/", "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range dirs {
		w := strings.TrimSuffix(strings.TrimPrefix(d, root+"/chunks/"), "/")
		if layout.ValidWriteID(w) && !slices.Contains(ids, w) {
			ids = append(ids, w)
		}
	}
	return ids
}

func plantOrphan(t testing.TB, kv *api.KV, age time.Duration) string {
	t.Helper()
	id := layout.NewWriteID(time.Now().Add(-age))
	for i := range 3 {
		put(t, kv, root+"/chunks/"+id+"/"+strconv.Itoa(i), []byte("left behind"))
	}
	return id
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Scheme: "ftp"}, "scheme"},
		{Config{TLS: TLSConfig{CAFile: "ca.pem"}}, "scheme: https"},
		{Config{Scheme: "https", TLS: TLSConfig{CertFile: "c.pem"}}, "go together"},
		{Config{Root: "/abs"}, "root"},
		{Config{ChunkSize: 1 << 20}, "chunkSize"},
		{Config{Token: secret.Ref{File: "a", Env: "b"}}, "token"},
	} {
		if err := tc.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want an error about %q", tc.cfg, err, tc.want)
		}
	}
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("the zero config: %v", err)
	}
}
