package zookeeper

import (
	"context"
	"errors"
	"io"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/rpcbridge/rpcbridge/internal/secret"
	zkpeer "github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
	"github.com/rpcbridge/rpcbridge/internal/yamltime"
	"github.com/rpcbridge/rpcbridge/kvstore"
	"github.com/rpcbridge/rpcbridge/kvstore/internal/layout"
	"github.com/rpcbridge/rpcbridge/kvstore/kvtest"
)

const root = "/rpcbridge/test"

func open(t testing.TB, cfg Config) *Store {
	t.Helper()
	if cfg.Root == "" {
		cfg.Root = root
	}
	cfg.SessionTimeout = yamltime.Duration(4 * time.Second) // the test server allows 1s..10s
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = yamltime.Duration(3 * time.Second) // how long outage-time requests take
	}
	s, err := Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// raw connects a plain client for inspecting and damaging the store's nodes.
func raw(t testing.TB, addr string) *zk.Conn {
	t.Helper()
	conn, _, err := zk.Connect([]string{addr}, 4*time.Second, zk.WithLogger(log.New(io.Discard, "", 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	return conn
}

// TestConformance runs the store suite against a real ZooKeeper server, stopped and restarted
// in the middle of a watch by the outage test.
func TestConformance(t *testing.T) {
	server := zkpeer.Start(t)
	conn := raw(t, server.Addr())
	kvtest.Run(t, kvtest.Backend{
		Open:        func(t testing.TB) kvstore.Store { return open(t, Config{Servers: []string{server.Addr()}}) },
		Stop:        func(testing.TB) { server.Stop() },
		Restart:     func(testing.TB) { server.Restart() },
		KeepsData:   true,
		Damage:      func(t testing.TB, key string, how kvtest.Damage) { damage(t, conn, key, how) },
		Writes:      func(t testing.TB) []string { return writes(t, conn) },
		PlantOrphan: func(t testing.TB, age time.Duration) string { return plantOrphan(t, conn, age) },
	})
}

func headPath(key string) string { return root + "/keys/" + layout.FlatKey(key) }

// damage gives key a new head that is foreign, names a chunk that does not exist, or names a
// chunk whose bytes fail their checksum.
func damage(t testing.TB, conn *zk.Conn, key string, how kvtest.Damage) {
	t.Helper()
	data := []byte("dubbo://10.0.0.1:20880/not.Ours")
	if how != kvtest.Foreign {
		h, chunks := kvtest.DamagedWrite(t, how)
		for i, c := range chunks {
			if _, err := conn.Create(root+"/chunks/"+layout.ChunkName(h.Write, i), c, 0, zk.WorldACL(zk.PermAll)); err != nil {
				t.Fatal(err)
			}
		}
		data = layout.MarshalHead(h)
	}
	if _, err := conn.Set(headPath(key), data, -1); err != nil {
		t.Fatalf("damage %s: %v", key, err)
	}
}

// writes lists the write IDs that have chunk nodes.
func writes(t testing.TB, conn *zk.Conn) []string {
	t.Helper()
	names, _, err := conn.Children(root + "/chunks")
	if errors.Is(err, zk.ErrNoNode) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, n := range names {
		if w, _, ok := layout.ParseChunkName(n); ok && !slices.Contains(ids, w) {
			ids = append(ids, w)
		}
	}
	return ids
}

func plantOrphan(t testing.TB, conn *zk.Conn, age time.Duration) string {
	t.Helper()
	id := layout.NewWriteID(time.Now().Add(-age))
	for i := range 3 {
		if _, err := conn.Create(root+"/chunks/"+layout.ChunkName(id, i), []byte("left behind"), 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// TestDigestAuth writes with a digest read from a file: the nodes carry a digest ACL, so a
// client without the credential cannot read them, and a store with a wrong one is unavailable.
func TestDigestAuth(t *testing.T) {
	server := zkpeer.Start(t)
	file := filepath.Join(t.TempDir(), "digest")
	if err := os.WriteFile(file, []byte("rpcbridge:s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := open(t, Config{Servers: []string{server.Addr()}, Root: "/secured", Digest: secret.Ref{File: file}})
	waitSession(t, s)
	if _, err := s.Put(context.Background(), "idl/x", []byte("v"), 0); err != nil {
		t.Fatalf("Put with the digest: %v", err)
	}
	if e, err := s.Get(context.Background(), "idl/x"); err != nil || string(e.Value) != "v" {
		t.Fatalf("Get with the digest: %q, %v", e.Value, err)
	}
	anon := raw(t, server.Addr())
	if _, _, err := anon.Get("/secured/keys/idl:x"); !errors.Is(err, zk.ErrNoAuth) {
		t.Fatalf("an unauthenticated client read the head: %v, want ErrNoAuth", err)
	}
	t.Setenv("KVSTORE_ZK_WRONG", "rpcbridge:wrong")
	wrong := open(t, Config{Servers: []string{server.Addr()}, Root: "/secured", Digest: secret.Ref{Env: "KVSTORE_ZK_WRONG"}})
	waitSession(t, wrong)
	if _, err := wrong.Get(context.Background(), "idl/x"); !errors.Is(err, kvstore.ErrUnavailable) || !errors.Is(err, zk.ErrNoAuth) {
		t.Fatalf("Get with a wrong digest: %v, want ErrUnavailable wrapping ErrNoAuth", err)
	}
	if _, err := Open(Config{Servers: []string{server.Addr()}, Digest: secret.Ref{Env: "KVSTORE_ZK_UNSET"}}, nil); err == nil {
		t.Fatal("Open with an unset digest variable succeeded")
	}
}

// waitSession waits until the store's main session is up.
func waitSession(t *testing.T, s *Store) {
	t.Helper()
	deadline := time.Now().Add(kvtest.GiveUp)
	for s.main.conn.State() != zk.StateHasSession {
		if time.Now().After(deadline) {
			t.Fatal("no ZooKeeper session")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "servers"},
		{Config{Servers: []string{"a:1"}, Root: "rel"}, "root"},
		{Config{Servers: []string{"a:1"}, Root: "/a/"}, "root"},
		{Config{Servers: []string{"a:1"}, ChunkSize: 2 << 20}, "chunkSize"},
		{Config{Servers: []string{"a:1"}, Digest: secret.Ref{File: "x", Env: "y"}}, "digest"},
	} {
		if err := tc.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want an error about %s", tc.cfg, err, tc.want)
		}
	}
	if err := (Config{Servers: []string{"a:1"}}).Validate(); err != nil {
		t.Errorf("a minimal config: %v", err)
	}
}
