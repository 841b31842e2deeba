package follow

import (
	"errors"

	"github.com/rpcbridge/rpcbridge/kvstore"
)

// Cache keeps what a watch read of each key and the version it read it at (a revision, a
// file's inode and mtime), so that a value is read and decoded again only when its version
// changed. The zero Cache caches nothing (for a one-off List).
type Cache[V comparable] struct {
	entries map[string]cached[V]
	seen    map[string]bool
}

type cached[V comparable] struct {
	version V
	entry   kvstore.Entry
	problem *Problem
}

// NewCache returns an empty cache.
func NewCache[V comparable]() *Cache[V] {
	return &Cache[V]{entries: map[string]cached[V]{}, seen: map[string]bool{}}
}

// Add puts key into res, as it was read at version: from the cache when it was read at that
// version before, else by calling read. read's *kvstore.CorruptError makes the key a problem
// (cached: the same write stays damaged) unless again is set (a chunk was missing: the write
// may have been replaced since, so it is read anew next time); a *kvstore.NotFoundError leaves
// the key out (deleted meanwhile); other errors are returned.
func (c *Cache[V]) Add(res *Result, stage, key string, version V,
	read func() (e kvstore.Entry, again bool, err error)) error {
	if c.seen != nil {
		c.seen[key] = true
	}
	got, ok := c.entries[key]
	if !ok || got.version != version {
		got = cached[V]{version: version}
		e, again, err := read()
		var corrupt *kvstore.CorruptError
		switch {
		case errors.Is(err, kvstore.ErrNotFound):
			return nil
		case errors.As(err, &corrupt):
			p := Unreadable(stage, key, err)
			if again {
				res.Problems = append(res.Problems, p)
				return nil
			}
			got.problem = &p
		case err != nil:
			return err
		default:
			got.entry = e
		}
		if c.entries != nil {
			c.entries[key] = got
		}
	}
	if got.problem != nil {
		res.Problems = append(res.Problems, *got.problem)
	} else {
		res.Entries = append(res.Entries, got.entry)
	}
	return nil
}

// Prune forgets the keys that were not added since the last Prune.
func (c *Cache[V]) Prune() {
	for key := range c.entries {
		if !c.seen[key] {
			delete(c.entries, key)
		}
	}
	clear(c.seen)
}
