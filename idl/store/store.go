// Package store keeps uploaded IDL as versioned schemas in a data directory. Every upload is
// validated before anything is written; an accepted one is written beside the version it
// replaces and made current by atomically replacing a pointer file, so a crash or an invalid
// upload always leaves the previous version serving. Versions increase per name, also across
// deletes and restarts. The last versions of each name stay on disk (Options.History) so that
// they can be listed, compared and restored (versions.go).
//
// OpenShared keeps the same versions and pointer on a kvstore instead (kv.go): writes are
// compare-and-set, so replicas on one store never lose or reuse a version, and every replica
// follows the store (Follow) and serves what any of them accepted.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/idl/proto"
	"github.com/rpcbridge/rpcbridge/idl/upload"
)

// Kind names the IDL form of an upload.
type Kind string

// The kinds the store knows. Protobuf kinds are validated by the store itself; Java kinds need a
// Validator in Options.
const (
	// KindProto is a set of .proto sources (import path → content).
	KindProto Kind = "proto"
	// KindDescriptorSet is exactly one file holding a binary FileDescriptorSet with all imports.
	KindDescriptorSet Kind = "descriptor-set"
	// KindJavaSource is a set of Java interface and DTO sources.
	KindJavaSource Kind = "java-source"
	// KindJavaJar is an API jar.
	KindJavaJar Kind = "java-jar"
	// KindJavaYAML is hand-written Java signatures in the declarative YAML format.
	KindJavaYAML Kind = "java-yaml"
	// KindDubboMetadata is FullServiceDefinition JSON documents as Java providers write them to
	// a metadata center, one per file.
	KindDubboMetadata Kind = "dubbo-metadata"
)

// Validator parses the files of one upload into a schema, or fails with an error that explains
// what is wrong with them. It must not keep files.
type Validator func(ctx context.Context, files map[string][]byte) (idl.Schema, error)

// Options configure a Store.
type Options struct {
	// Validators parse the kinds the store does not know itself (the Java forms), and may replace
	// the protobuf ones.
	Validators map[Kind]Validator
	// Logger receives the store's events; nil discards them.
	Logger *slog.Logger
	// QuotaBytes bounds the uploaded files of all current versions together (default
	// DefaultQuotaBytes); Put refuses an upload beyond it with *QuotaError.
	QuotaBytes int64
	// History is how many versions of each name are kept on disk, the current one included:
	// 0 means DefaultHistory, and fewer than 2 mean 2 (the current one and the one before).
	History int
}

// DefaultHistory is the number of versions kept per name when Options.History is 0.
const DefaultHistory = 10

// Entry describes the current version of one stored schema.
type Entry struct {
	Name    string    `json:"name" yaml:"name"`
	Kind    Kind      `json:"kind" yaml:"kind"`
	Version int64     `json:"version" yaml:"version"`
	Created time.Time `json:"created" yaml:"created"`
	// Files are the uploaded paths, sorted.
	Files []string `json:"files" yaml:"files"`
	// Bytes is the size of the uploaded files together, what the version counts against the
	// store's quota.
	Bytes int64 `json:"bytes" yaml:"bytes"`
	// RestoredFrom is the version whose files this version restored (Rollback), 0 for an upload.
	RestoredFrom int64 `json:"restoredFrom,omitempty" yaml:"restoredFrom,omitempty"`
}

// ErrNotFound is returned for a name that has no current version.
var ErrNotFound = errors.New("schema not found")

// ValidationError is returned by Put for an upload that is not valid IDL of its kind: the files
// are at fault, not the store. Err is the validator's error (for protobuf a *proto.CompileError
// listing every problem with file, line and column).
type ValidationError struct {
	Name string
	Kind Kind
	Err  error
}

// Error names the upload, its kind and the problem.
func (e *ValidationError) Error() string {
	return fmt.Sprintf("invalid %s upload %s: %v", e.Kind, e.Name, e.Err)
}

// Unwrap returns the validator's error.
func (e *ValidationError) Unwrap() error { return e.Err }

// InvalidNameError reports a name that does not match ^[a-z0-9][a-z0-9._-]{0,62}$.
type InvalidNameError struct{ Name string }

// Error describes the rule.
func (e *InvalidNameError) Error() string {
	return fmt.Sprintf("invalid schema name %q: use 1-63 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit", e.Name)
}

// UnknownKindError reports a kind without a validator, or (Kind "") files whose kind cannot be
// told from their names.
type UnknownKindError struct{ Kind Kind }

// Error names the kind.
func (e *UnknownKindError) Error() string {
	if e.Kind == "" {
		return "cannot tell the IDL kind from the file names: name it (proto, descriptor-set, java-source, java-jar, java-yaml, dubbo-metadata)"
	}
	return fmt.Sprintf("unknown IDL kind %q", e.Kind)
}

// validName checks ^[a-z0-9][a-z0-9._-]{0,62}$, which also keeps names safe as directory names
// (they cannot start with '.', so "." and ".." and the store's temporary names are excluded).
func validName(name string) bool {
	if len(name) == 0 || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '_' && c != '-') {
			return false
		}
	}
	return true
}

// stored is one name's state in memory.
type stored struct {
	entry  Entry
	schema idl.Schema
}

// Store is the versioned schema store. It is safe for concurrent use.
type Store struct {
	dir        string
	validators map[Kind]Validator
	log        *slog.Logger
	quota      int64
	history    int

	mu      sync.Mutex
	current map[string]stored
	last    map[string]int64 // highest version ever written per name, deleted ones included
	// changed is closed, and replaced, when a version is stored or deleted; Watch waits on it.
	changed chan struct{}
	// kv is set on a shared store (OpenShared, kv.go); nil on a data directory.
	kv *shared
}

// Open loads the store in dir, creating dir if needed. Leftovers of interrupted writes are
// removed.
func Open(dir string, opts Options) (*Store, error) {
	s := newStore(dir, opts)
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// newStore is a Store with nothing loaded.
func newStore(dir string, opts Options) *Store {
	s := &Store{
		dir:        dir,
		validators: map[Kind]Validator{KindProto: validateProto, KindDescriptorSet: validateDescriptorSet},
		log:        opts.Logger,
		current:    map[string]stored{},
		last:       map[string]int64{},
		changed:    make(chan struct{}),
		quota:      opts.QuotaBytes,
		history:    opts.History,
	}
	if s.quota <= 0 {
		s.quota = DefaultQuotaBytes
	}
	if s.history == 0 {
		s.history = DefaultHistory
	}
	s.history = max(s.history, 2)
	maps.Copy(s.validators, opts.Validators)
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// Put validates files as kind and, when they are valid, stores them as the next version of
// name and makes it current. An invalid upload returns the validator's error (for protobuf a
// *proto.CompileError) and an upload beyond the quota a *QuotaError; either changes nothing.
func (s *Store) Put(ctx context.Context, name string, kind Kind, files map[string][]byte) (idl.Schema, error) {
	return s.put(ctx, name, kind, files, 0)
}

// put is Put, recording the version an accepted rollback restores.
func (s *Store) put(ctx context.Context, name string, kind Kind, files map[string][]byte, restoredFrom int64) (idl.Schema, error) {
	if !validName(name) {
		return idl.Schema{}, &InvalidNameError{Name: name}
	}
	validate, ok := s.validators[kind]
	if !ok {
		return idl.Schema{}, &UnknownKindError{Kind: kind}
	}
	invalid := func(err error) error { return &ValidationError{Name: name, Kind: kind, Err: err} }
	if len(files) == 0 {
		return idl.Schema{}, invalid(errors.New("the upload has no files"))
	}
	for path := range files {
		clean, err := upload.CleanPath(path)
		if err != nil {
			return idl.Schema{}, invalid(err)
		}
		if clean != path {
			return idl.Schema{}, invalid(fmt.Errorf("file path %q is not clean (want %q)", path, clean))
		}
	}
	size := filesBytes(files)
	if err := s.checkQuota(name, size); err != nil { // before the costly validation; again below
		return idl.Schema{}, err
	}
	schema, err := validate(ctx, files)
	if err != nil {
		return idl.Schema{}, invalid(err)
	}
	if err := ctx.Err(); err != nil {
		return idl.Schema{}, fmt.Errorf("put %s: %w", name, err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkQuotaLocked(name, size); err != nil { // a concurrent Put may have used the room
		return idl.Schema{}, err
	}
	var entry Entry
	if s.kv != nil {
		st, err := s.kvPutLocked(ctx, name, kind, files, schema, size, restoredFrom)
		if err != nil {
			return idl.Schema{}, fmt.Errorf("put %s: %w", name, err)
		}
		entry, schema = st.entry, st.schema
	} else {
		version := s.last[name] + 1
		schema.Name, schema.Version = name, version
		entry = Entry{Name: name, Kind: kind, Version: version, Created: time.Now().UTC(), Files: slices.Sorted(maps.Keys(files)), Bytes: size, RestoredFrom: restoredFrom}
		if err := s.writeVersion(entry, schema, files); err != nil {
			return idl.Schema{}, fmt.Errorf("put %s: %w", name, err)
		}
	}
	s.last[name] = entry.Version
	s.current[name] = stored{entry: entry, schema: schema}
	s.log.Info("schema stored", "name", name, "kind", kind, "version", entry.Version, "files", len(files), "restoredFrom", restoredFrom)
	s.pruneHistory(ctx, name)
	s.announceLocked()
	return schema, nil
}

// Get returns the current version of name, or ErrNotFound. The descriptors are shared and
// must not be modified.
func (s *Store) Get(name string) (idl.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.current[name]
	if !ok {
		return idl.Schema{}, fmt.Errorf("%s: %w", name, ErrNotFound)
	}
	return st.schema, nil
}

// List describes the current versions, sorted by name.
func (s *Store) List() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Entry, 0, len(s.current))
	for _, st := range s.current {
		e := st.entry
		e.Files = slices.Clone(e.Files)
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// All returns the current schemas, sorted by name.
func (s *Store) All() []idl.Schema {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.allLocked()
}

// Files returns the uploaded files of the current version of name, read back from disk.
func (s *Store) Files(name string) (map[string][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock() // held while reading so that no Put prunes the version meanwhile
	st, ok := s.current[name]
	if !ok {
		return nil, fmt.Errorf("%s: %w", name, ErrNotFound)
	}
	return s.readFiles(st.entry)
}

// Delete stops serving name and removes its versions from disk. The name's version counter is
// kept, so a later Put continues after the deleted version.
func (s *Store) Delete(name string) error { return s.DeleteContext(context.Background(), name) }

// DeleteContext is Delete, bounded by ctx on a shared store.
func (s *Store) DeleteContext(ctx context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.current[name]
	if !ok {
		return fmt.Errorf("delete %s: %w", name, ErrNotFound)
	}
	if s.kv != nil {
		if err := s.kvDeleteLocked(ctx, name, st.entry.Version); err != nil {
			return fmt.Errorf("delete %s: %w", name, err)
		}
	} else if err := s.writePointer(name, pointer{Version: st.entry.Version, Deleted: true}); err != nil {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	delete(s.current, name)
	s.log.Info("schema deleted", "name", name, "version", st.entry.Version)
	s.pruneHistory(ctx, name)
	s.announceLocked()
	return nil
}

// Watch calls publish with the current schemas (as All returns them) at once, and again after
// versions are stored or deleted, until ctx ends; then it returns ctx's error. Changes that come
// together may reach publish as one call with the newest schemas; calls never overlap. Any number
// of watchers may run.
func (s *Store) Watch(ctx context.Context, publish func([]idl.Schema)) error {
	for {
		s.mu.Lock()
		all, changed := s.allLocked(), s.changed
		s.mu.Unlock()
		publish(all)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

func (s *Store) allLocked() []idl.Schema {
	out := make([]idl.Schema, 0, len(s.current))
	for _, st := range s.current {
		out = append(out, st.schema)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// announceLocked wakes every Watch.
func (s *Store) announceLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// validateProto compiles .proto sources, keeping their comments as the schema's ProtoDocs.
func validateProto(ctx context.Context, files map[string][]byte) (idl.Schema, error) {
	fds, docs, err := proto.CompileWithDocs(ctx, files)
	if err != nil {
		return idl.Schema{}, err
	}
	return idl.Schema{Descriptors: fds, ProtoDocs: docs}, nil
}

// validateDescriptorSet reads one binary FileDescriptorSet.
func validateDescriptorSet(_ context.Context, files map[string][]byte) (idl.Schema, error) {
	if len(files) != 1 {
		return idl.Schema{}, fmt.Errorf("a descriptor-set upload is exactly one file, got %d", len(files))
	}
	var raw []byte
	for _, b := range files {
		raw = b
	}
	fds, err := proto.FromDescriptorSet(raw)
	if err != nil {
		return idl.Schema{}, err
	}
	// A set written with source info (buf build, protoc --include_source_info) gives its
	// comments; the descriptors are kept without it.
	return idl.Schema{Descriptors: fds, ProtoDocs: proto.ExtractDocs(fds)}, nil
}
