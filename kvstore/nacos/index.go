package nacos

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rpcbridge/rpcbridge/kvstore/internal/layout"
)

// indexKind marks the store's index document.
const indexKind = "rpcbridge.kvstore.index/v1"

// maxIndex is the largest index the store writes, below Nacos's default maxContent (10 MB).
const maxIndex = 8 << 20

// index is the store's index document: every key's head, and every write whose chunks may
// exist. Its compare-and-set (casMd5) is the one point where writes are ordered.
type index struct {
	Kind string `json:"kind"`
	// Revision counts the index's versions; a key written in version r has revision r.
	Revision int64 `json:"rev"`
	// Entries are the heads by key, kept raw so that one damaged entry does not make the
	// whole index unreadable.
	Entries map[string]json.RawMessage `json:"entries"`
	// Writes are the chunked writes whose chunks may exist: registered before the first chunk
	// is published, referenced by a head once written, released when that head goes, and
	// removed from here once their chunks are deleted.
	Writes map[string]write `json:"writes,omitempty"`
}

// write is one registered chunked write.
type write struct {
	// Chunks is how many chunk configurations it has.
	Chunks int `json:"chunks"`
	// Released is when no head named it any more (Unix milliseconds); 0 while pending or live.
	Released int64 `json:"released,omitempty"`
}

// errForeignIndex says that the index document is not rpcbridge's.
var errForeignIndex = errors.New("the index document is not rpcbridge's (or is damaged); fix or remove it")

func emptyIndex() *index {
	return &index{Kind: indexKind, Entries: map[string]json.RawMessage{}, Writes: map[string]write{}}
}

// parseIndex reads an index document; "" is the empty index of a new store.
func parseIndex(content string) (*index, error) {
	if content == "" {
		return emptyIndex(), nil
	}
	idx := emptyIndex()
	if err := json.Unmarshal([]byte(content), idx); err != nil || idx.Kind != indexKind {
		return nil, errForeignIndex
	}
	if idx.Entries == nil {
		idx.Entries = map[string]json.RawMessage{}
	}
	if idx.Writes == nil {
		idx.Writes = map[string]write{}
	}
	return idx, nil
}

func (idx *index) marshal() (string, error) {
	b, err := json.Marshal(idx)
	if err != nil {
		return "", err
	}
	if len(b) > maxIndex {
		return "", fmt.Errorf("the store's index would grow to %d bytes, over %d: too many or too large inline entries", len(b), maxIndex)
	}
	return string(b), nil
}

// head parses the entry of key. ok is false when there is none; err reports a damaged one.
func (idx *index) head(key string) (h layout.Head, ok bool, err error) {
	raw, ok := idx.Entries[key]
	if !ok {
		return layout.Head{}, false, nil
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return layout.Head{}, true, layout.ErrForeign
	}
	if err := h.Check(); err != nil {
		return h, true, err
	}
	if h.Revision <= 0 {
		return h, true, errors.New("no revision")
	}
	return h, true, nil
}

// revision is key's current revision: 0 when absent, -1 for a damaged entry without one
// (which no compare-and-set names).
func (idx *index) revision(key string) int64 {
	h, ok, err := idx.head(key)
	switch {
	case !ok:
		return 0
	case err != nil && h.Revision <= 0:
		return -1
	}
	return h.Revision
}

// setHead stores h as key's entry at the next revision, releasing the write it replaces, and
// returns the revision.
func (idx *index) setHead(key string, h layout.Head, now time.Time) (int64, error) {
	idx.release(key, now)
	idx.Revision++
	h.Revision = idx.Revision
	raw, err := json.Marshal(h)
	if err != nil {
		return 0, err
	}
	idx.Entries[key] = raw
	return h.Revision, nil
}

// remove deletes key's entry, releasing its write.
func (idx *index) remove(key string, now time.Time) {
	idx.release(key, now)
	idx.Revision++
	delete(idx.Entries, key)
}

func (idx *index) release(key string, now time.Time) {
	if old, ok, _ := idx.head(key); ok && old.Write != "" {
		if w, found := idx.Writes[old.Write]; found {
			w.Released = now.UnixMilli()
			idx.Writes[old.Write] = w
		}
	}
}

// garbage returns the writes whose chunks may be deleted: released ones, and pending ones
// older than layout.OrphanGrace (their writer crashed).
func (idx *index) garbage(now time.Time) []string {
	referenced := map[string]bool{}
	for key := range idx.Entries {
		if h, ok, _ := idx.head(key); ok && h.Write != "" {
			referenced[h.Write] = true
		}
	}
	var out []string
	var pending []string
	for id, w := range idx.Writes {
		switch {
		case referenced[id]:
		case w.Released != 0:
			out = append(out, id)
		default:
			pending = append(pending, id)
		}
	}
	return append(out, layout.Garbage(pending, func(string) bool { return false }, now)...)
}
