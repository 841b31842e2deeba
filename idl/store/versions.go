package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"time"

	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/kvstore"
)

// The history of a name: the versions kept on disk (Options.History), listed, read back and
// restored. A rollback never moves the version counter back: it stores the old version's files,
// validated again, as the next version, so that versions keep increasing and a replica or cache
// that saw a version never sees that number with other content.

// ErrCurrent is returned by Rollback for the version that is already current.
var ErrCurrent = errors.New("the version is already current")

// Versions describes the stored versions of name, newest (the current one) first, or returns
// ErrNotFound when name has no current version.
func (s *Store) Versions(name string) ([]Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.current[name]
	if !ok {
		return nil, fmt.Errorf("%s: %w", name, ErrNotFound)
	}
	if s.kv != nil {
		return s.kvVersionsLocked(name, st.entry)
	}
	numbers, err := s.versionsOnDisk(name)
	if err != nil {
		return nil, fmt.Errorf("versions of %s: %w", name, err)
	}
	out := make([]Entry, 0, len(numbers))
	for _, v := range numbers {
		if v > st.entry.Version {
			continue // written but never made current (an interrupted Put)
		}
		old, err := s.versionLocked(name, v)
		if err != nil {
			return nil, fmt.Errorf("versions of %s: %w", name, err)
		}
		e := old.entry
		e.Files = slices.Clone(e.Files)
		out = append(out, e)
	}
	return out, nil
}

// Version returns one stored version of name, or ErrNotFound when it is not kept (any more).
// The descriptors of the current version are shared and must not be modified.
func (s *Store) Version(name string, version int64) (Entry, idl.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.versionLocked(name, version)
	if err != nil {
		return Entry{}, idl.Schema{}, err
	}
	e := st.entry
	e.Files = slices.Clone(e.Files)
	return e, st.schema, nil
}

// VersionFiles returns the uploaded files of one stored version of name.
func (s *Store) VersionFiles(name string, version int64) (map[string][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock() // held while reading so that no Put prunes the version meanwhile
	st, err := s.versionLocked(name, version)
	if err != nil {
		return nil, err
	}
	return s.readFiles(st.entry)
}

// Rollback makes the content of an earlier version of name current again: its files are
// validated like an upload and stored as the next version, whose Entry.RestoredFrom names the
// restored one. It returns ErrNotFound for a version that is not kept and ErrCurrent for the
// current one.
func (s *Store) Rollback(ctx context.Context, name string, version int64) (idl.Schema, error) {
	s.mu.Lock()
	st, err := s.versionLocked(name, version)
	var files map[string][]byte
	if err == nil && st.entry.Version == s.current[name].entry.Version {
		err = fmt.Errorf("rollback %s to version %d: %w", name, version, ErrCurrent)
	}
	if err == nil {
		files, err = s.readFiles(st.entry)
	}
	s.mu.Unlock()
	if err != nil {
		return idl.Schema{}, err
	}
	schema, err := s.put(ctx, name, st.entry.Kind, files, version)
	if err != nil {
		return idl.Schema{}, fmt.Errorf("rollback %s to version %d: %w", name, version, err)
	}
	return schema, nil
}

// versionLocked reads one kept version of a name that is being served.
func (s *Store) versionLocked(name string, version int64) (stored, error) {
	cur, ok := s.current[name]
	switch {
	case !ok || version <= 0 || version > cur.entry.Version:
		return stored{}, fmt.Errorf("%s version %d: %w", name, version, ErrNotFound)
	case version == cur.entry.Version:
		return cur, nil
	}
	var st stored
	var err error
	if s.kv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		st, err = s.kvReadVersion(ctx, name, version)
		cancel()
		if errors.Is(err, kvstore.ErrNotFound) {
			err = fs.ErrNotExist
		}
	} else {
		st, err = s.readVersion(name, version)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return stored{}, fmt.Errorf("%s version %d: %w", name, version, ErrNotFound)
	}
	if err != nil {
		return stored{}, fmt.Errorf("%s version %d: %w", name, version, err)
	}
	return st, nil
}
