// Package kvstore is the store for what users write (uploaded IDL, route rules, policies): a
// small key-value interface with compare-and-set writes and prefix watches, and four backends
// in sub-packages (local, zookeeper, consul, nacos), each owning its SDK the way registry
// adapters do. Every control-plane replica opens the same store, writes through it with
// compare-and-set, and watches it to converge on the same state.
//
// # Keys
//
// A key is a '/'-separated path of segments made of A-Z, a-z, 0-9, '.', '_' and '-', none empty
// and none starting with '.', at most MaxKeyLen bytes ("idl/orders/current"). Prefixes are
// compared byte-wise: List and Watch of "idl/" see "idl/orders/current" but not "idlx".
//
// # Revisions
//
// Every write gives the key a revision. Revisions are store-wide and only increase: a write
// gets a revision higher than every revision the store handed out before it, so a key that is
// deleted and created again never reuses a revision and a revision can stand for "the value I
// read" in a later compare-and-set (no ABA). Revision 0 means "absent". Where a backend
// supplies one, it is the backend's own (ZooKeeper's modification zxid, Consul's ModifyIndex);
// the local and Nacos backends keep a counter. A backend that loses its data (a Consul dev
// agent restarted, a ZooKeeper data directory wiped) starts its revisions again: a watcher
// then publishes what the store holds now, whatever the revisions.
//
// # Compare-and-set
//
// Writes are conditional only: Put with revision 0 creates a key that must not exist; Put with
// revision r replaces the value only while the key is at revision r; Delete with revision r
// removes it only then. A lost race returns a *ConflictError (errors.Is ErrConflict, HTTP 409
// for the admin API) and changes nothing; nothing is ever overwritten silently. Two writers
// that both read revision r and both write: exactly one succeeds.
//
// # Values
//
// A value is opaque bytes of up to MaxValueSize. Backends with small per-entry limits
// (ZooKeeper's 1 MB node limit, Consul's 512 KiB, Nacos's 10 MB content limit) compress and
// chunk large values (see docs/store.md); the chunks are written first and made visible by one
// small head written last with compare-and-set, so a reader sees the old value or the new one,
// never a mix, and a value whose chunks are missing or fail their checksum is reported as
// corrupt, never returned.
//
// # Watching
//
// Watch has the shape of registries.Source.Run: it calls publish with the full state of a
// prefix (every entry, its value and revision) after the first complete read and after every
// change, never concurrently. Full state rather than a stream of events from a revision,
// because it lets a consumer converge by replacing what it has with what it got: nothing to
// replay after an outage, a ZooKeeper session expiry or a Consul index reset, no gap to
// detect, and a duplicate publish is harmless. Values of unchanged entries are not read again.
//
// While the backend cannot be reached, Watch publishes the last state with Stale set and keeps
// retrying; once the backend answers it reads everything again and publishes the state it
// finds. An entry that cannot be read (corrupt, foreign data, a missing chunk) is left out with
// a diagnostic; if a watcher had an earlier good value of that key, it keeps publishing that
// one. Bad data in the store therefore never empties what a watcher publishes.
//
// # Errors
//
// A backend that cannot be reached, or that fails a request for reasons of its own, gives an
// *UnavailableError wrapping the cause (errors.Is ErrUnavailable, HTTP 503). A write that
// returns it may or may not have been applied; read the key again before retrying.
package kvstore

import (
	"context"
	"io"

	"github.com/rpcbridge/rpcbridge/diag"
)

// MaxValueSize is the largest value a store accepts (64 MiB): room for a 20 MB descriptor set
// and its next version.
const MaxValueSize = 64 << 20

// Entry is one key with its value and revision.
type Entry struct {
	// Key is the entry's key.
	Key string `json:"key" yaml:"key"`
	// Value is the stored bytes. Values in a published Snapshot are shared between snapshots
	// and must not be modified.
	Value []byte `json:"value" yaml:"value"`
	// Revision is the revision of the write that stored Value.
	Revision int64 `json:"revision" yaml:"revision"`
}

// Snapshot is the state of a prefix at one moment.
type Snapshot struct {
	// Entries are the readable entries under the prefix, sorted by key.
	Entries []Entry `json:"entries" yaml:"entries"`
	// Stale is true when the backend cannot be reached and Entries is the last known state.
	Stale bool `json:"stale,omitempty" yaml:"stale,omitempty"`
	// Diagnostics explain entries that were left out or kept at an earlier revision.
	Diagnostics []diag.Diagnostic `json:"diagnostics,omitempty" yaml:"diagnostics,omitempty"`
}

// Lookup returns the entry of key, and whether the snapshot holds one.
func (s Snapshot) Lookup(key string) (Entry, bool) {
	for _, e := range s.Entries {
		if e.Key == key {
			return e, true
		}
	}
	return Entry{}, false
}

// Store is one store. Implementations are safe for concurrent use.
type Store interface {
	// Get returns the entry of key: a *NotFoundError (ErrNotFound) when there is none, a
	// *CorruptError (ErrCorrupt) when its value cannot be read.
	Get(ctx context.Context, key string) (Entry, error)
	// List returns the readable entries whose keys start with prefix ("" for all), sorted by
	// key; unreadable ones are left out with a diagnostic. Stale is never set.
	List(ctx context.Context, prefix string) (Snapshot, error)
	// Put stores value at key if the key is at revision ifRevision (0: if it does not exist)
	// and returns the new revision; otherwise it returns a *ConflictError and changes nothing.
	Put(ctx context.Context, key string, value []byte, ifRevision int64) (int64, error)
	// Delete removes key if it is at revision ifRevision (> 0); otherwise it returns a
	// *ConflictError (with Got 0 when the key does not exist) and changes nothing.
	Delete(ctx context.Context, key string, ifRevision int64) error
	// Watch publishes the full state of prefix after the first complete read and after every
	// change, until ctx ends (see the package documentation). It returns ctx's error when ctx
	// ends, or another error when it cannot work at all (an invalid prefix, a closed store);
	// outages are retried inside and published as Stale snapshots.
	Watch(ctx context.Context, prefix string, publish func(Snapshot)) error
	// Close releases the store's connections; running watches end.
	io.Closer
}
