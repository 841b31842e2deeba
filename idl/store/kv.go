package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/kvstore"
)

// A shared store keeps the same versions and pointer as the data directory, as kvstore keys
// (docs/store.md):
//
//	idl/current/<name>    {"version": 3} or {"version": 3, "deleted": true}, written by CAS
//	idl/meta/<name>/v3    {"entry": Entry, "dataRevision": R}: small, listed for Versions
//	idl/data/<name>/v3    {"schema": Schema, "descriptors": binpb, "files": {path: bytes}}
//
// A version is written first (data, then meta, both created with revision 0, so two replicas
// can never both write version 3), then made current by a compare-and-set of the pointer from
// the revision the writer read. A writer that loses either race reads the pointer again and
// stores its upload as the next version; after maxPutAttempts lost races it gives up with a
// *ConflictError. Every replica follows idl/current/ (Follow) and loads the versions the
// pointers name, so an upload accepted by one replica is served by all.
const (
	kvCurrentPrefix = "idl/current/"
	kvMetaPrefix    = "idl/meta/"
	kvDataPrefix    = "idl/data/"
	maxPutAttempts  = 8
	// retryInterval is how long Follow waits before it reads again a version that the store
	// could not give it.
	retryInterval = 500 * time.Millisecond
)

func kvCurrentKey(name string) string { return kvCurrentPrefix + name }
func kvMetaKey(name string, v int64) string {
	return kvMetaPrefix + name + "/v" + strconv.FormatInt(v, 10)
}
func kvDataKey(name string, v int64) string {
	return kvDataPrefix + name + "/v" + strconv.FormatInt(v, 10)
}

// ConflictError is returned by Put, Delete and Rollback on a shared store when other replicas
// kept winning the compare-and-set of name's pointer. Nothing was made current; the caller may
// try again (HTTP 409).
type ConflictError struct {
	// Name is the schema written.
	Name string
	// Err is the last lost race (a *kvstore.ConflictError).
	Err error
}

// Error names the schema and the race.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s was changed by another replica meanwhile; try again: %v", e.Name, e.Err)
}

// Unwrap returns the lost race.
func (e *ConflictError) Unwrap() error { return e.Err }

// Status is the state of the store a Store persists to.
type Status struct {
	// Type is the store type ("local", "zookeeper", "consul", "nacos").
	Type string `json:"type" yaml:"type"`
	// Up is false while a shared store cannot be reached: the last good state keeps serving and
	// writes answer 503.
	Up bool `json:"up" yaml:"up"`
	// Reason says why the store is down, "" while it is up.
	Reason string `json:"reason,omitempty" yaml:"reason,omitempty"`
}

// kvMeta is the value of a meta key.
type kvMeta struct {
	Entry        Entry `json:"entry"`
	DataRevision int64 `json:"dataRevision"`
}

// kvData is the value of a data key.
type kvData struct {
	Schema      json.RawMessage   `json:"schema"`
	Descriptors []byte            `json:"descriptors,omitempty"`
	Files       map[string][]byte `json:"files"`
}

// shared is the state of a Store on a kvstore.
type shared struct {
	kv  kvstore.Store
	typ string
	// ptrRev is the revision of each name's pointer the Store's state reflects (under s.mu).
	ptrRev map[string]int64
	// status and diags describe the store (under s.mu).
	status Status
	diags  []diag.Diagnostic
}

// OpenShared loads the store kept in kv (of type typ, for Status): the current version of every
// name. It fails when kv cannot be read, so that a replica never starts serving nothing in
// place of what the store holds. Run Follow to track the changes other replicas make.
func OpenShared(ctx context.Context, kv kvstore.Store, typ string, opts Options) (*Store, error) {
	s := newStore("", opts)
	s.kv = &shared{kv: kv, typ: typ, ptrRev: map[string]int64{}, status: Status{Type: typ, Up: true}}
	snap, err := kv.List(ctx, kvCurrentPrefix)
	if err != nil {
		return nil, fmt.Errorf("open schema store on %s: %w", typ, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if retry := s.applyLocked(ctx, snap); retry != nil {
		return nil, fmt.Errorf("open schema store on %s: %w", typ, retry)
	}
	return s, nil
}

// Status reports the state of the store: always up for a data directory.
func (s *Store) Status() Status {
	if s.kv == nil {
		return Status{Type: "local", Up: true}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.kv.status
}

// Diagnostics are the findings about the store's content: entries skipped as unreadable
// (store.entry-unreadable) or foreign (store.stray), and the store being down
// (store.unreachable).
func (s *Store) Diagnostics() []diag.Diagnostic {
	if s.kv == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.kv.diags)
	if !s.kv.status.Up {
		out = append(out, diag.Diagnostic{Severity: diag.Warning, Code: diag.StoreUnreachable, Stage: "idl-store",
			Subject: s.kv.typ, Message: "the store cannot be reached (" + s.kv.status.Reason + "); the last good schemas keep serving and uploads answer 503"})
	}
	return out
}

// Follow tracks the shared store until ctx ends: every change of a pointer, made by any
// replica, is loaded and published to the watchers; outages and unreadable entries keep the last
// good state. On a data directory it only waits for ctx. It returns ctx's error.
func (s *Store) Follow(ctx context.Context) error {
	if s.kv == nil {
		<-ctx.Done()
		return ctx.Err()
	}
	var (
		mu     sync.Mutex
		latest *kvstore.Snapshot
	)
	wake := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- s.kv.kv.Watch(ctx, kvCurrentPrefix, func(snap kvstore.Snapshot) {
			mu.Lock()
			latest = &snap
			mu.Unlock()
			select {
			case wake <- struct{}{}:
			default:
			}
		})
	}()
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			<-done
			return ctx.Err()
		case err := <-done:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("follow the schema store: %w", err)
		case <-wake:
		case <-retry:
		}
		retry = nil
		mu.Lock()
		snap := latest
		mu.Unlock()
		if snap == nil {
			continue
		}
		s.mu.Lock()
		err := s.applyLocked(ctx, *snap)
		s.announceLocked()
		s.mu.Unlock()
		if err != nil {
			retry = time.After(retryInterval)
		}
	}
}

// applyLocked makes the state that of snap (the pointers): every name whose pointer changed
// is loaded again. A version that cannot be read keeps the name's last good one, with a
// diagnostic; it returns the first error that is worth retrying (the store unavailable).
func (s *Store) applyLocked(ctx context.Context, snap kvstore.Snapshot) error {
	sh := s.kv
	if snap.Stale {
		sh.status = Status{Type: sh.typ, Up: false, Reason: "no answer from the store; watching again"}
		return nil
	}
	sh.status = Status{Type: sh.typ, Up: true}
	var diags []diag.Diagnostic
	for _, d := range snap.Diagnostics {
		d.Stage = "idl-store"
		diags = append(diags, d)
	}
	var retry error
	seen := map[string]bool{}
	for _, e := range snap.Entries {
		name := strings.TrimPrefix(e.Key, kvCurrentPrefix)
		if !validName(name) {
			diags = append(diags, strayDiag(e.Key, "not the pointer of a schema name"))
			continue
		}
		seen[name] = true
		if sh.ptrRev[name] == e.Revision {
			continue
		}
		var p pointer
		if err := json.Unmarshal(e.Value, &p); err != nil || p.Version <= 0 {
			diags = append(diags, unreadableDiag(e.Key, fmt.Sprintf("the pointer %q does not decode", truncate(e.Value))))
			continue
		}
		s.last[name] = max(s.last[name], p.Version)
		if p.Deleted {
			if _, ok := s.current[name]; ok {
				s.log.Info("schema deleted", "name", name, "version", p.Version)
			}
			delete(s.current, name)
			sh.ptrRev[name] = e.Revision
			continue
		}
		if cur, ok := s.current[name]; ok && cur.entry.Version == p.Version {
			sh.ptrRev[name] = e.Revision
			continue
		}
		st, err := s.kvReadVersion(ctx, name, p.Version)
		if err != nil {
			if errors.Is(err, kvstore.ErrUnavailable) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				retry = cmpOr(retry, err)
				sh.status = Status{Type: sh.typ, Up: false, Reason: err.Error()}
				continue
			}
			diags = append(diags, unreadableDiag(kvDataKey(name, p.Version), err.Error()+"; the last good version keeps serving"))
			continue
		}
		s.current[name] = st
		sh.ptrRev[name] = e.Revision
		s.log.Info("schema loaded from the store", "name", name, "version", p.Version, "store", sh.typ)
	}
	for name := range s.current {
		if !seen[name] {
			s.log.Info("schema gone from the store", "name", name)
			delete(s.current, name)
			delete(sh.ptrRev, name)
		}
	}
	sh.diags = diags
	return retry
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func truncate(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

func strayDiag(key, why string) diag.Diagnostic {
	return diag.Diagnostic{Severity: diag.Warning, Code: diag.StoreStray, Stage: "idl-store", Subject: key,
		Message: why + "; ignored"}
}

func unreadableDiag(key, why string) diag.Diagnostic {
	return diag.Diagnostic{Severity: diag.Warning, Code: diag.StoreEntryUnreadable, Stage: "idl-store", Subject: key,
		Message: why}
}

// kvReadVersion loads the entry and schema of one version from the store.
func (s *Store) kvReadVersion(ctx context.Context, name string, version int64) (stored, error) {
	m, err := s.kvMeta(ctx, name, version)
	if err != nil {
		return stored{}, err
	}
	d, err := s.kvData(ctx, name, version)
	if err != nil {
		return stored{}, err
	}
	st := stored{entry: m.Entry}
	if err := json.Unmarshal(d.Schema, &st.schema); err != nil {
		return stored{}, &kvstore.CorruptError{Key: kvDataKey(name, version), Reason: "the schema does not decode: " + err.Error()}
	}
	if d.Descriptors != nil {
		fds := &descriptorpb.FileDescriptorSet{}
		if err := proto.Unmarshal(d.Descriptors, fds); err != nil {
			return stored{}, &kvstore.CorruptError{Key: kvDataKey(name, version), Reason: "the descriptors do not decode: " + err.Error()}
		}
		st.schema.Descriptors = fds
	}
	if st.entry.Name != name || st.entry.Version != version || st.schema.Version != version {
		return stored{}, &kvstore.CorruptError{Key: kvMetaKey(name, version),
			Reason: fmt.Sprintf("the metadata names %s version %d", st.entry.Name, st.entry.Version)}
	}
	return st, nil
}

func (s *Store) kvMeta(ctx context.Context, name string, version int64) (kvMeta, error) {
	var m kvMeta
	e, err := s.kv.kv.Get(ctx, kvMetaKey(name, version))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(e.Value, &m); err != nil {
		return m, &kvstore.CorruptError{Key: e.Key, Revision: e.Revision, Reason: "the metadata does not decode: " + err.Error()}
	}
	return m, nil
}

func (s *Store) kvData(ctx context.Context, name string, version int64) (kvData, error) {
	var d kvData
	e, err := s.kv.kv.Get(ctx, kvDataKey(name, version))
	if err != nil {
		return d, err
	}
	if err := json.Unmarshal(e.Value, &d); err != nil {
		return d, &kvstore.CorruptError{Key: e.Key, Revision: e.Revision, Reason: "the data does not decode: " + err.Error()}
	}
	return d, nil
}

// kvReadFiles reads back the uploaded files of a version.
func (s *Store) kvReadFiles(e Entry) (map[string][]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := s.kvData(ctx, e.Name, e.Version)
	if err != nil {
		return nil, fmt.Errorf("read %s version %d: %w", e.Name, e.Version, err)
	}
	return d.Files, nil
}

// kvPointer reads name's pointer: its value (zero when absent) and revision (0 when absent).
func (s *Store) kvPointer(ctx context.Context, name string) (pointer, int64, error) {
	e, err := s.kv.kv.Get(ctx, kvCurrentKey(name))
	if errors.Is(err, kvstore.ErrNotFound) {
		return pointer{}, 0, nil
	}
	if err != nil {
		return pointer{}, 0, err
	}
	var p pointer
	if err := json.Unmarshal(e.Value, &p); err != nil {
		return pointer{}, 0, fmt.Errorf("%s: %w", e.Key, &kvstore.CorruptError{Key: e.Key, Revision: e.Revision, Reason: err.Error()})
	}
	return p, e.Revision, nil
}

// kvPutLocked stores an accepted upload as the next version of name on the shared store and
// makes it current (see the layout above). It returns the stored state.
func (s *Store) kvPutLocked(ctx context.Context, name string, kind Kind, files map[string][]byte, schema idl.Schema,
	size, restoredFrom int64) (stored, error) {
	if !s.kv.status.Up {
		return stored{}, &kvstore.UnavailableError{Backend: s.kv.typ, Op: "put " + name, Err: errors.New(s.kv.status.Reason)}
	}
	var lost error
	for range maxPutAttempts {
		p, rev, err := s.kvPointer(ctx, name)
		if err != nil {
			return stored{}, err
		}
		version := max(s.last[name], p.Version) + 1
		schema.Name, schema.Version = name, version
		entry := Entry{Name: name, Kind: kind, Version: version, Created: time.Now().UTC(), Files: slices.Sorted(mapsKeys(files)), Bytes: size, RestoredFrom: restoredFrom}
		s.last[name] = version // taken, whatever happens below
		model, err := json.Marshal(schema)
		if err != nil {
			return stored{}, err
		}
		d := kvData{Schema: model, Files: files}
		if schema.Descriptors != nil {
			if d.Descriptors, err = (proto.MarshalOptions{Deterministic: true}).Marshal(schema.Descriptors); err != nil {
				return stored{}, err
			}
		}
		raw, err := json.Marshal(d)
		if err != nil {
			return stored{}, err
		}
		dataRev, err := s.kv.kv.Put(ctx, kvDataKey(name, version), raw, 0)
		if errors.Is(err, kvstore.ErrConflict) {
			lost = err // another replica took this version number
			continue
		}
		if err != nil {
			return stored{}, err
		}
		meta, err := json.Marshal(kvMeta{Entry: entry, DataRevision: dataRev})
		if err != nil {
			return stored{}, err
		}
		metaRev, err := s.kv.kv.Put(ctx, kvMetaKey(name, version), meta, 0)
		if errors.Is(err, kvstore.ErrConflict) {
			lost = err
			continue
		}
		if err != nil {
			return stored{}, err
		}
		ptr, _ := json.Marshal(pointer{Version: version})
		ptrRev, err := s.kv.kv.Put(ctx, kvCurrentKey(name), ptr, rev)
		if errors.Is(err, kvstore.ErrConflict) {
			lost = err // the pointer moved: this version is never made current
			s.kvDeleteVersion(ctx, name, version, metaRev, dataRev)
			continue
		}
		if err != nil {
			return stored{}, err
		}
		s.kv.ptrRev[name] = ptrRev
		return stored{entry: entry, schema: schema}, nil
	}
	return stored{}, &ConflictError{Name: name, Err: lost}
}

// kvDeleteLocked marks name deleted on the shared store; the version counter stays.
func (s *Store) kvDeleteLocked(ctx context.Context, name string, version int64) error {
	if !s.kv.status.Up {
		return &kvstore.UnavailableError{Backend: s.kv.typ, Op: "delete " + name, Err: errors.New(s.kv.status.Reason)}
	}
	for range maxPutAttempts {
		p, rev, err := s.kvPointer(ctx, name)
		if err != nil {
			return err
		}
		if rev == 0 || p.Deleted {
			return fmt.Errorf("%s: %w", name, ErrNotFound)
		}
		ptr, _ := json.Marshal(pointer{Version: max(p.Version, version), Deleted: true})
		ptrRev, err := s.kv.kv.Put(ctx, kvCurrentKey(name), ptr, rev)
		if errors.Is(err, kvstore.ErrConflict) {
			continue
		}
		if err != nil {
			return err
		}
		s.kv.ptrRev[name] = ptrRev
		s.last[name] = max(s.last[name], p.Version)
		return nil
	}
	return &ConflictError{Name: name, Err: kvstore.ErrConflict}
}

// kvDeleteVersion removes one version's keys, best effort (a leftover is never current and
// never listed beyond the current version).
func (s *Store) kvDeleteVersion(ctx context.Context, name string, version, metaRev, dataRev int64) {
	if err := s.kv.kv.Delete(ctx, kvMetaKey(name, version), metaRev); err != nil && !errors.Is(err, kvstore.ErrConflict) {
		s.log.Warn("cannot remove an old schema version", "name", name, "version", version, "err", err)
	}
	if err := s.kv.kv.Delete(ctx, kvDataKey(name, version), dataRev); err != nil && !errors.Is(err, kvstore.ErrConflict) {
		s.log.Warn("cannot remove an old schema version", "name", name, "version", version, "err", err)
	}
}

// kvVersions lists name's versions kept in the store, newest first, with their metadata.
func (s *Store) kvVersions(ctx context.Context, name string) (map[int64]kvMeta, []int64, error) {
	snap, err := s.kv.kv.List(ctx, kvMetaPrefix+name+"/")
	if err != nil {
		return nil, nil, err
	}
	metas := map[int64]kvMeta{}
	var out []int64
	for _, e := range snap.Entries {
		v, ok := parseVersionDir(strings.TrimPrefix(e.Key, kvMetaPrefix+name+"/"))
		if !ok {
			continue
		}
		var m kvMeta
		if json.Unmarshal(e.Value, &m) != nil {
			continue
		}
		metas[v] = m
		out = append(out, v)
	}
	slices.Sort(out)
	slices.Reverse(out)
	return metas, out, nil
}

// kvPruneLocked removes name's versions beyond the newest s.history ones made current.
func (s *Store) kvPruneLocked(ctx context.Context, name string) {
	metas, versions, err := s.kvVersions(ctx, name)
	if err != nil {
		s.log.Warn("cannot list old schema versions", "name", name, "err", err)
		return
	}
	st, serving := s.current[name]
	kept := 0
	for _, v := range versions {
		if serving && v <= st.entry.Version && kept < s.history {
			kept++
			continue
		}
		if serving && v > st.entry.Version {
			continue // another replica's write in progress
		}
		m := metas[v]
		metaRev, err := s.kvMetaRevision(ctx, name, v)
		if err != nil {
			continue
		}
		s.kvDeleteVersion(ctx, name, v, metaRev, m.DataRevision)
	}
}

func (s *Store) kvMetaRevision(ctx context.Context, name string, v int64) (int64, error) {
	e, err := s.kv.kv.Get(ctx, kvMetaKey(name, v))
	if err != nil {
		return 0, err
	}
	return e.Revision, nil
}

func mapsKeys(m map[string][]byte) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// kvVersionsLocked is Versions on a shared store: the kept versions up to the current one.
func (s *Store) kvVersionsLocked(name string, cur Entry) ([]Entry, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	metas, versions, err := s.kvVersions(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("versions of %s: %w", name, err)
	}
	out := []Entry{}
	if !slices.Contains(versions, cur.Version) {
		out = append(out, cur)
	}
	for _, v := range versions {
		if v > cur.Version {
			continue // written but never made current (a lost race, or a write in progress)
		}
		e := metas[v].Entry
		e.Files = slices.Clone(e.Files)
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Entry) int { return int(b.Version - a.Version) })
	return out, nil
}
