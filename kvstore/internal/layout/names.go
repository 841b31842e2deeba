package layout

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/rpcbridge/rpcbridge/kvstore"
)

// OrphanGrace is how old an unreferenced write must be before it is deleted as the leftover of
// a writer that crashed or lost its compare-and-set. A writer gives up on its head once
// half of it has passed since it started its chunks, so a sweeper never deletes the chunks of a
// write still in progress (with up to OrphanGrace/2 of clock skew between replicas).
const OrphanGrace = 10 * time.Minute

// NewWriteID returns a fresh write ID: the start time in milliseconds (base 36), a dash and 16
// random hex digits. Its characters are valid in ZooKeeper node names, Consul keys and Nacos
// data IDs.
func NewWriteID(now time.Time) string {
	var r [8]byte
	_, _ = rand.Read(r[:]) // crypto/rand.Read never fails
	return strconv.FormatInt(now.UnixMilli(), 36) + "-" + hex.EncodeToString(r[:])
}

// WriteTime returns when a write ID was made, and whether id is a write ID at all.
func WriteTime(id string) (time.Time, bool) {
	ms, rnd, ok := strings.Cut(id, "-")
	if !ok || len(rnd) != 16 {
		return time.Time{}, false
	}
	if _, err := hex.DecodeString(rnd); err != nil {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(ms, 36, 64)
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	return time.UnixMilli(n), true
}

// ValidWriteID reports whether id is a write ID.
func ValidWriteID(id string) bool {
	_, ok := WriteTime(id)
	return ok
}

// Expired reports whether a write started at id's time is too old to finish: its writer must
// not publish a head naming it any more.
func Expired(id string, now time.Time) bool {
	t, ok := WriteTime(id)
	return !ok || now.Sub(t) > OrphanGrace/2
}

// Garbage returns the writes among ids that no head references and that are older than
// OrphanGrace: leftovers safe to delete. Names that are not write IDs are not ours and are
// never returned.
func Garbage(ids []string, referenced func(id string) bool, now time.Time) []string {
	var out []string
	for _, id := range ids {
		t, ok := WriteTime(id)
		if ok && !referenced(id) && now.Sub(t) > OrphanGrace {
			out = append(out, id)
		}
	}
	return out
}

// ChunkName names chunk i (0-based) of a write in backends with a flat chunk namespace.
func ChunkName(write string, i int) string { return write + "." + strconv.Itoa(i) }

// ParseChunkName splits a ChunkName; ok is false for a name that is not one.
func ParseChunkName(name string) (write string, i int, ok bool) {
	write, n, found := strings.Cut(name, ".")
	if !found || !ValidWriteID(write) {
		return "", 0, false
	}
	i, err := strconv.Atoi(n)
	if err != nil || i < 0 || strconv.Itoa(i) != n {
		return "", 0, false
	}
	return write, i, true
}

// FlatKey turns a key into one name without '/' (for a ZooKeeper child node or a file):
// '/' becomes ':', which keys never contain.
func FlatKey(key string) string { return strings.ReplaceAll(key, "/", ":") }

// KeyOfFlat reverses FlatKey; ok is false for a name that is not a flattened valid key.
func KeyOfFlat(name string) (string, bool) {
	key := strings.ReplaceAll(name, ":", "/")
	return key, kvstore.ValidKey(key) == nil
}
