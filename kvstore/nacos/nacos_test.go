package nacos

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/internal/secret"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/nacosdouble"
	"github.com/rpcbridge/rpcbridge/internal/yamltime"
	"github.com/rpcbridge/rpcbridge/kvstore"
	"github.com/rpcbridge/rpcbridge/kvstore/internal/layout"
	"github.com/rpcbridge/rpcbridge/kvstore/kvtest"
)

// The store's configurations in the tests.
const (
	group = "RPCBRIDGE_TEST"
	root  = "rpcbridge.test"
)

func open(t testing.TB, cfg Config) *Store {
	t.Helper()
	cfg.Group, cfg.Root = group, root
	// The default request timeout: two 20 MB chunked writes racing through the double (the
	// conformance suite's LargeValue) took more than 5 s per request on a loaded 2-core machine.
	cfg.RequestTimeout = yamltime.Duration(DefaultRequestTimeout)
	cfg.Resync = yamltime.Duration(time.Second)
	s, err := Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestConformance runs the store suite through the official SDK against the Nacos protocol
// double (internal/testpeers/nacosdouble), stopped and restarted in the middle of a watch by the
// outage test. The gap, stated plainly: the double is a protocol-level double of Nacos 2.x's
// config gRPC API, not a Nacos server. It follows Nacos's handlers for query, publish with
// casMd5, remove, batch listen and the change push, but its reads are strongly consistent,
// where a Nacos server answers queries from a dump cache that trails the database by a moment
// (the store then reads a previous index and its compare-and-set, checked against the
// database, fails and is retried); and it runs no cluster (followers forwarding writes to the
// leader, a leader change mid-write).
func TestConformance(t *testing.T) {
	d := nacosdouble.Start(t)
	kvtest.Run(t, kvtest.Backend{
		Open:        func(t testing.TB) kvstore.Store { return open(t, Config{Servers: []string{d.Addr()}}) },
		Stop:        func(testing.TB) { d.Stop() },
		Restart:     func(testing.TB) { d.Restart() },
		KeepsData:   true,
		Damage:      func(t testing.TB, key string, how kvtest.Damage) { damage(t, d, key, how) },
		Writes:      func(t testing.TB) []string { return writes(d) },
		PlantOrphan: func(t testing.TB, age time.Duration) string { return plantOrphan(t, d, age) },
	})
}

// editIndex changes the index document as an operator could, bumping its revision so that the
// store sees a new version.
func editIndex(t testing.TB, d *nacosdouble.Server, edit func(idx *index)) {
	t.Helper()
	content, _ := d.Config("", group, root+".index")
	idx, err := parseIndex(content)
	if err != nil {
		t.Fatal(err)
	}
	edit(idx)
	idx.Revision++
	next, err := idx.marshal()
	if err != nil {
		t.Fatal(err)
	}
	d.SetConfig("", group, root+".index", next)
}

// damage gives key an entry that is foreign, names a chunk that does not exist, or names a
// chunk whose bytes fail their checksum.
func damage(t testing.TB, d *nacosdouble.Server, key string, how kvtest.Damage) {
	t.Helper()
	editIndex(t, d, func(idx *index) {
		if how == kvtest.Foreign {
			idx.Entries[key] = json.RawMessage(`{"kind":"someone.else/v3","payload":"x"}`)
			return
		}
		h, chunks := kvtest.DamagedWrite(t, how)
		for i, c := range chunks {
			d.SetConfig("", group, chunkDataID(h.Write, i), base64.StdEncoding.EncodeToString(c))
		}
		idx.Writes[h.Write] = write{Chunks: len(h.Chunks)}
		h.Revision = idx.Revision + 1
		raw, err := json.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		idx.Entries[key] = raw
	})
}

func chunkDataID(w string, i int) string { return root + ".chunk." + w + "." + strconv.Itoa(i) }

// writes lists the write IDs that have chunk configurations.
func writes(d *nacosdouble.Server) []string {
	var ids []string
	for _, id := range d.ConfigIDs("", group, root+".chunk.") {
		w, _, _ := strings.Cut(strings.TrimPrefix(id, root+".chunk."), ".")
		if !slices.Contains(ids, w) {
			ids = append(ids, w)
		}
	}
	return ids
}

// plantOrphan leaves what a writer that crashed after registering its write and publishing
// its chunks leaves.
func plantOrphan(t testing.TB, d *nacosdouble.Server, age time.Duration) string {
	t.Helper()
	id := layout.NewWriteID(time.Now().Add(-age))
	for i := range 3 {
		d.SetConfig("", group, chunkDataID(id, i), base64.StdEncoding.EncodeToString([]byte("left behind")))
	}
	editIndex(t, d, func(idx *index) { idx.Writes[id] = write{Chunks: 3} })
	return id
}

// TestAuth logs in with credentials read from a file and an environment variable; without
// them the store is unavailable.
func TestAuth(t *testing.T) {
	d := nacosdouble.Start(t)
	d.RequireAuth("rpcbridge", "s3cret")
	t.Setenv("KVSTORE_NACOS_USER", "rpcbridge")
	file := t.TempDir() + "/password"
	if err := writeFile(file, "s3cret\n"); err != nil {
		t.Fatal(err)
	}
	s := open(t, Config{Servers: []string{d.Addr()}, Username: secret.Ref{Env: "KVSTORE_NACOS_USER"},
		Password: secret.Ref{File: file}})
	if _, err := s.Put(t.Context(), "idl/x", []byte("v"), 0); err != nil {
		t.Fatalf("Put after login: %v", err)
	}
	anon := open(t, Config{Servers: []string{d.Addr()}})
	if _, err := anon.Get(t.Context(), "idl/x"); err == nil || !strings.Contains(err.Error(), "store unavailable") {
		t.Fatalf("Get without credentials: %v, want ErrUnavailable", err)
	}
}

// TestChunkLimit stores a value whose chunks the server would refuse if they were not cut to
// its content limit, and checks that no configuration exceeds the limit.
func TestChunkLimit(t *testing.T) {
	d := nacosdouble.Start(t)
	d.SetMaxContent(200 << 10)
	s := open(t, Config{Servers: []string{d.Addr()}, ChunkSize: 100 << 10})
	v := kvtest.Large(5)[:3<<20]
	r, err := s.Put(t.Context(), "big", v, 0)
	if err != nil {
		t.Fatalf("Put of 3 MiB under a 200 KiB content limit: %v", err)
	}
	if e, err := s.Get(t.Context(), "big"); err != nil || e.Revision != r || string(e.Value) != string(v) {
		t.Fatalf("Get: %d bytes@%d, %v", len(e.Value), e.Revision, err)
	}
	if n := len(writes(d)); n != 1 {
		t.Fatalf("%d writes stored, want 1", n)
	}
	tooBig := open(t, Config{Servers: []string{d.Addr()}, ChunkSize: 1 << 20})
	if _, err := tooBig.Put(t.Context(), "big2", v, 0); err == nil {
		t.Fatal("chunks over the server's content limit were accepted")
	}
	if n := len(writes(d)); n != 1 {
		t.Fatalf("the refused write left chunks: %d writes stored", n)
	}
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "servers"},
		{Config{Servers: []string{"nacos"}}, "host:port"},
		{Config{Servers: []string{"a:65000"}}, "host:port"},
		{Config{Servers: []string{"a:8848"}, Group: "a/b"}, "group"},
		{Config{Servers: []string{"a:8848"}, Password: secret.Ref{Env: "X"}}, "go together"},
		{Config{Servers: []string{"a:8848"}, ChunkSize: 7 << 20}, "chunkSize"},
	} {
		if err := tc.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want an error about %q", tc.cfg, err, tc.want)
		}
	}
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }
