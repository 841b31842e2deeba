package follow

import (
	"errors"
	"testing"

	"github.com/rpcbridge/rpcbridge/kvstore"
)

func TestCache(t *testing.T) {
	c := NewCache[int]()
	reads := 0
	add := func(key string, version int, err error, again bool) Result {
		var res Result
		if e := c.Add(&res, "store/test", key, version, func() (kvstore.Entry, bool, error) {
			reads++
			return entry(key, int64(version)), again, err
		}); e != nil {
			t.Fatalf("Add: %v", e)
		}
		c.Prune()
		return res
	}
	add("a", 1, nil, false)
	if res := add("a", 1, nil, false); reads != 1 || len(res.Entries) != 1 {
		t.Fatalf("an unchanged version was read again (%d reads) or lost: %+v", reads, res)
	}
	add("a", 2, nil, false)
	if reads != 2 {
		t.Fatal("a new version was not read")
	}
	corrupt := &kvstore.CorruptError{Key: "a", Revision: 3, Reason: "bad"}
	add("a", 3, corrupt, false)
	if res := add("a", 3, nil, false); reads != 3 || len(res.Problems) != 1 || len(res.Entries) != 0 {
		t.Fatalf("a damaged version is not kept as a problem: %+v", res)
	}
	add("a", 4, corrupt, true) // a chunk missing: looked at again next time
	if res := add("a", 4, nil, false); reads != 5 || len(res.Entries) != 1 {
		t.Fatalf("a value with a missing chunk was cached: %d reads, %+v", reads, res)
	}
	if res := add("b", 1, &kvstore.NotFoundError{Key: "b"}, false); len(res.Entries)+len(res.Problems) != 0 {
		t.Fatalf("a key deleted meanwhile was reported: %+v", res)
	}
	var res Result
	if err := c.Add(&res, "s", "c", 1, func() (kvstore.Entry, bool, error) {
		return kvstore.Entry{}, false, errors.New("connection refused")
	}); err == nil {
		t.Fatal("a read failure was swallowed")
	}
	add("z", 1, nil, false) // a, c not added since the last Prune: forgotten
	if _, ok := c.entries["a"]; ok {
		t.Fatal("Prune kept a key that is gone")
	}
}
