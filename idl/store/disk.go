package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/rpcbridge/rpcbridge/idl"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// On disk, each name is a directory holding its versions and a pointer to the current one:
//
//	<dir>/<name>/current              {"version": 3} or {"version": 3, "deleted": true}
//	<dir>/<name>/v3/meta.json         the Entry
//	<dir>/<name>/v3/schema.json       the Schema (Java model; descriptors are stored apart)
//	<dir>/<name>/v3/descriptors.binpb the FileDescriptorSet, for protobuf kinds
//	<dir>/<name>/v3/files/...         the uploaded files
//
// A version is written under a temporary name, synced, and renamed into place; then the pointer
// is replaced the same way. Readers therefore see the old version or the new one, never a mix.
const (
	pointerFile     = "current"
	metaFile        = "meta.json"
	schemaFile      = "schema.json"
	descriptorsFile = "descriptors.binpb"
	filesDir        = "files"
	tempPrefix      = ".tmp-"
)

// pointer is the content of the current file.
type pointer struct {
	Version int64 `json:"version"`
	Deleted bool  `json:"deleted,omitempty"`
}

func (s *Store) nameDir(name string) string { return filepath.Join(s.dir, name) }

func (s *Store) versionDir(name string, version int64) string {
	return filepath.Join(s.nameDir(name), "v"+strconv.FormatInt(version, 10))
}

// parseVersionDir returns the version of a directory named "v<N>".
func parseVersionDir(base string) (int64, bool) {
	if !strings.HasPrefix(base, "v") {
		return 0, false
	}
	v, err := strconv.ParseInt(base[1:], 10, 64)
	return v, err == nil && v > 0
}

// load reads every name's current version into memory.
func (s *Store) load() error {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return fmt.Errorf("open schema store: %w", err)
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("open schema store: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() || !validName(e.Name()) {
			continue
		}
		if err := s.loadName(e.Name()); err != nil {
			return fmt.Errorf("open schema store: %s: %w", e.Name(), err)
		}
	}
	return nil
}

// loadName restores one name: its highest version and, unless deleted, its current schema.
func (s *Store) loadName(name string) error {
	entries, err := os.ReadDir(s.nameDir(name))
	if err != nil {
		return err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			s.log.Warn("removing an interrupted write", "path", filepath.Join(s.nameDir(name), e.Name()))
			if err := os.RemoveAll(filepath.Join(s.nameDir(name), e.Name())); err != nil {
				return err
			}
			continue
		}
		if v, ok := parseVersionDir(e.Name()); ok && e.IsDir() && v > s.last[name] {
			s.last[name] = v
		}
	}
	raw, err := os.ReadFile(filepath.Join(s.nameDir(name), pointerFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil // the first version was never made current
	}
	if err != nil {
		return err
	}
	var p pointer
	if err := json.Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("read %s: %w", pointerFile, err)
	}
	s.last[name] = max(s.last[name], p.Version)
	if p.Deleted {
		return nil
	}
	st, err := s.readVersion(name, p.Version)
	if err != nil {
		return err
	}
	s.current[name] = st
	return nil
}

// readVersion loads the entry and schema of one stored version.
func (s *Store) readVersion(name string, version int64) (stored, error) {
	dir := s.versionDir(name, version)
	var st stored
	raw, err := os.ReadFile(filepath.Join(dir, metaFile))
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(raw, &st.entry); err != nil {
		return st, fmt.Errorf("read %s: %w", metaFile, err)
	}
	if st.entry.Bytes == 0 && len(st.entry.Files) > 0 { // written before sizes were recorded
		if st.entry.Bytes, err = s.storedBytes(st.entry); err != nil {
			return st, err
		}
	}
	if raw, err = os.ReadFile(filepath.Join(dir, schemaFile)); err != nil {
		return st, err
	}
	if err := json.Unmarshal(raw, &st.schema); err != nil {
		return st, fmt.Errorf("read %s: %w", schemaFile, err)
	}
	raw, err = os.ReadFile(filepath.Join(dir, descriptorsFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return st, err
	default:
		fds := &descriptorpb.FileDescriptorSet{}
		if err := proto.Unmarshal(raw, fds); err != nil {
			return st, fmt.Errorf("read %s: %w", descriptorsFile, err)
		}
		st.schema.Descriptors = fds
	}
	if st.entry.Name != name || st.entry.Version != version || st.schema.Version != version {
		return st, fmt.Errorf("version %d: metadata names %s version %d", version, st.entry.Name, st.entry.Version)
	}
	return st, nil
}

// readFiles reads back the uploaded files of a version.
func (s *Store) readFiles(e Entry) (map[string][]byte, error) {
	if s.kv != nil {
		return s.kvReadFiles(e)
	}
	root := filepath.Join(s.versionDir(e.Name, e.Version), filesDir)
	files := make(map[string][]byte, len(e.Files))
	for _, path := range e.Files {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(path)))
		if err != nil {
			return nil, fmt.Errorf("read %s version %d: %w", e.Name, e.Version, err)
		}
		files[path] = b
	}
	return files, nil
}

// writeVersion writes a complete version directory, then points current at it.
func (s *Store) writeVersion(e Entry, schema idl.Schema, files map[string][]byte) (err error) {
	nameDir := s.nameDir(e.Name)
	if err := os.MkdirAll(nameDir, 0o755); err != nil {
		return err
	}
	if err := syncDir(s.dir); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(nameDir, tempPrefix)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(tmp)
		}
	}()
	for _, path := range e.Files {
		full := filepath.Join(tmp, filesDir, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := writeFileSynced(full, files[path]); err != nil {
			return err
		}
	}
	meta, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileSynced(filepath.Join(tmp, metaFile), meta); err != nil {
		return err
	}
	model, err := json.MarshalIndent(schema, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileSynced(filepath.Join(tmp, schemaFile), model); err != nil {
		return err
	}
	if schema.Descriptors != nil {
		raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(schema.Descriptors)
		if err != nil {
			return err
		}
		if err := writeFileSynced(filepath.Join(tmp, descriptorsFile), raw); err != nil {
			return err
		}
	}
	if err := syncTree(tmp); err != nil {
		return err
	}
	final := s.versionDir(e.Name, e.Version)
	if err := os.RemoveAll(final); err != nil { // a leftover that was never made current
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	if err := syncDir(nameDir); err != nil {
		return err
	}
	return s.writePointer(e.Name, pointer{Version: e.Version})
}

// writePointer atomically replaces the current pointer of name.
func (s *Store) writePointer(name string, p pointer) error {
	raw, err := json.Marshal(p)
	if err != nil {
		return err
	}
	nameDir := s.nameDir(name)
	f, err := os.CreateTemp(nameDir, tempPrefix)
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(f.Name()) }() // fails harmlessly after the rename
	if _, err := f.Write(raw); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), filepath.Join(nameDir, pointerFile)); err != nil {
		return err
	}
	return syncDir(nameDir)
}

// versionsOnDisk lists the version numbers of name's complete version directories, newest first.
func (s *Store) versionsOnDisk(name string) ([]int64, error) {
	entries, err := os.ReadDir(s.nameDir(name))
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, e := range entries {
		if v, ok := parseVersionDir(e.Name()); ok && e.IsDir() {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	slices.Reverse(out)
	return out, nil
}

// pruneHistory removes name's version directories beyond the newest s.history ones that were
// ever made current (after a Delete, all of them). Failures are logged only: a stale directory
// wastes space but never changes what is served.
func (s *Store) pruneHistory(ctx context.Context, name string) {
	if s.kv != nil {
		s.kvPruneLocked(ctx, name)
		return
	}
	versions, err := s.versionsOnDisk(name)
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
		if err := os.RemoveAll(s.versionDir(name, v)); err != nil {
			s.log.Warn("cannot remove an old schema version", "name", name, "version", v, "err", err)
		}
	}
}

// writeFileSynced writes a new file and flushes it to stable storage.
func writeFileSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// syncTree flushes every directory below root (the files were synced as they were written).
func syncTree(root string) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return syncDir(path)
		}
		return nil
	})
}

// syncDir flushes a directory's entries to stable storage.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
