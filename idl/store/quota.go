package store

import (
	"fmt"
	"os"
	"path/filepath"
)

// DefaultQuotaBytes is the store's quota when Options.QuotaBytes is zero: 1 GiB of uploaded
// files, four uploads of the largest size upload.DefaultLimits lets through.
const DefaultQuotaBytes int64 = 1 << 30

// QuotaError is returned by Put when storing an upload would take the uploaded files of all
// current versions beyond the store's quota. Nothing is stored.
type QuotaError struct {
	// Name is the schema being stored.
	Name string
	// Quota is the store's quota in bytes.
	Quota int64
	// Used is what the current versions take now, Name's current version excepted.
	Used int64
	// Requested is the size of the upload's files.
	Requested int64
}

// Error names the quota, what is used and what was requested.
func (e *QuotaError) Error() string {
	return fmt.Sprintf("storing %s (%d bytes) would exceed the IDL store quota of %d bytes: %d bytes are used by the other schemas; delete some or raise the quota",
		e.Name, e.Requested, e.Quota, e.Used)
}

// filesBytes is the size of an upload: the sum of its files' lengths.
func filesBytes(files map[string][]byte) int64 {
	var n int64
	for _, b := range files {
		n += int64(len(b))
	}
	return n
}

// checkQuota is checkQuotaLocked with the lock taken.
func (s *Store) checkQuota(name string, requested int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.checkQuotaLocked(name, requested)
}

// checkQuotaLocked refuses an upload of requested bytes as name's next version when the current
// versions of the other names and it would exceed the quota. The version it replaces does not
// count: the quota bounds what is served, and one older version per name is kept on disk beside
// it (see pruneOld), so the data directory holds at most about twice the quota plus descriptors.
func (s *Store) checkQuotaLocked(name string, requested int64) error {
	var used int64
	for n, st := range s.current {
		if n != name {
			used += st.entry.Bytes
		}
	}
	if used+requested > s.quota {
		return &QuotaError{Name: name, Quota: s.quota, Used: used, Requested: requested}
	}
	return nil
}

// storedBytes sums the sizes of a stored version's files on disk, for versions written before
// Entry.Bytes was recorded.
func (s *Store) storedBytes(e Entry) (int64, error) {
	root := filepath.Join(s.versionDir(e.Name, e.Version), filesDir)
	var n int64
	for _, path := range e.Files {
		fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(path)))
		if err != nil {
			return 0, err
		}
		n += fi.Size()
	}
	return n, nil
}
