// Package kvtest is the conformance suite that every kvstore backend runs against a real
// instance of its backend (a temporary directory, a real ZooKeeper, a real Consul agent, the
// Nacos protocol double): get, list and compare-and-set semantics, concurrent writers, watch
// convergence, 20 MB values, corrupt and foreign data, leftovers of crashed writers, and an
// outage with recovery in the middle of a watch. It also holds the propagation benchmark. It is
// imported only by tests.
package kvtest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/kvstore"
)

// Damage is a way to make a stored value unreadable.
type Damage int

// The kinds of damage Backend.Damage inflicts.
const (
	// Foreign replaces the value with data rpcbridge did not write.
	Foreign Damage = iota
	// MissingChunk writes a new head for the key naming chunks that do not exist.
	MissingChunk
	// BadChunk writes a new head for the key whose chunk fails its checksum.
	BadChunk
)

func (d Damage) String() string {
	return [...]string{"foreign data", "a missing chunk", "a damaged chunk"}[d]
}

// Backend is a backend under test. The func fields that are nil are capabilities the backend
// lacks; the tests that need them are skipped, saying why.
type Backend struct {
	// Open returns a new client of the store (its own connection or session), closed when the
	// test ends.
	Open func(t testing.TB) kvstore.Store
	// Stop makes the backend unreachable, as a crash would; Restart brings it back on the same
	// address.
	Stop, Restart func(t testing.TB)
	// KeepsData is whether Restart keeps what was stored (false for a Consul dev agent).
	KeepsData bool
	// Damage makes the value of key unreadable in the given way, as a new write that watchers
	// see. The key exists when it is called.
	Damage func(t testing.TB, key string, how Damage)
	// Writes lists the write IDs whose chunks the backend holds; nil for a backend that does not
	// chunk values.
	Writes func(t testing.TB) []string
	// PlantOrphan stores chunks under a write ID of the given age that no head names, as a
	// writer that crashed before its head (or is still writing) leaves them, and returns the ID.
	PlantOrphan func(t testing.TB, age time.Duration) string
	// NoOutage says why the backend has no outage to test (Stop is nil then).
	NoOutage string
}

// Run runs the whole suite against b. Each test works under a prefix of its own; the outage
// runs last.
func Run(t *testing.T, b Backend) {
	t.Run("CRUD", func(t *testing.T) { testCRUD(t, b, "crud/") })
	t.Run("ConcurrentWriters", func(t *testing.T) { testConcurrentWriters(t, b, "race/") })
	t.Run("Watch", func(t *testing.T) { testWatch(t, b, "watch/") })
	t.Run("LargeValue", func(t *testing.T) { testLargeValue(t, b, "large/") })
	t.Run("Corrupt", func(t *testing.T) { testCorrupt(t, b, "corrupt/") })
	t.Run("Orphans", func(t *testing.T) { testOrphans(t, b, "orphans/") })
	t.Run("Outage", func(t *testing.T) { testOutage(t, b, "outage/") })
}

// ctx is a request context bounded by GiveUp.
func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), GiveUp)
	t.Cleanup(cancel)
	return c
}

// put creates or updates key (at revision rev) and fails t on error.
func put(t testing.TB, s kvstore.Store, key, value string, rev int64) int64 {
	t.Helper()
	got, err := s.Put(ctx(t), key, []byte(value), rev)
	if err != nil {
		t.Fatalf("Put(%s, %.20q, %d): %v", key, value, rev, err)
	}
	if got <= rev {
		t.Fatalf("Put(%s, %.20q, %d) returned revision %d: revisions only increase", key, value, rev, got)
	}
	return got
}

// get reads key and fails t on error.
func get(t testing.TB, s kvstore.Store, key string) kvstore.Entry {
	t.Helper()
	e, err := s.Get(ctx(t), key)
	if err != nil {
		t.Fatalf("Get(%s): %v", key, err)
	}
	if e.Key != key {
		t.Fatalf("Get(%s) returned key %q", key, e.Key)
	}
	return e
}

// keys renders the keys of s, joined by commas.
func keys(s kvstore.Snapshot) string {
	var out []string
	for _, e := range s.Entries {
		out = append(out, e.Key)
	}
	return strings.Join(out, ",")
}

func need(t *testing.T, what string, have bool) {
	t.Helper()
	if !have {
		t.Skipf("the backend has no %s", what)
	}
}
