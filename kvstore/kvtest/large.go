package kvtest

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/rpcbridge/rpcbridge/kvstore"
)

// LargeSize is the size of the large values: a 20 MB descriptor set.
const LargeSize = 20 << 20

// Large returns LargeSize bytes that compress about as well as a descriptor set (names and
// type tags between varints), different for each seed.
func Large(seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 42))
	words := []string{".google.protobuf.", "FieldDescriptorProto", "TYPE_MESSAGE", "rpcbridge.example.", "Request",
		"json_name", "Response", "repeated", "com.example.orders.v1", "OrderService", "GetOrder", "LABEL_OPTIONAL"}
	out := make([]byte, 0, LargeSize+64)
	for len(out) < LargeSize {
		if r.IntN(2) == 0 {
			out = append(out, byte(r.Uint32()), byte(r.Uint32()))
		} else {
			out = append(out, words[r.IntN(len(words))]...)
		}
	}
	return out[:LargeSize]
}

func testLargeValue(t *testing.T, b Backend, p string) {
	s := b.Open(t)
	key := p + "descriptors"
	before := writes(t, b)
	v1 := Large(1)
	r1, err := s.Put(ctx(t), key, v1, 0)
	if err != nil {
		t.Fatalf("Put of %d bytes: %v", len(v1), err)
	}
	if e := get(t, b.Open(t), key); !bytes.Equal(e.Value, v1) || e.Revision != r1 {
		t.Fatalf("read back %d bytes@%d, want the %d bytes written@%d", len(e.Value), e.Revision, len(v1), r1)
	}
	rec := Watch(t, b.Open(t), p)
	rec.WaitFor(t, "the large value", func(s kvstore.Snapshot) bool {
		e, ok := s.Lookup(key)
		return ok && e.Revision == r1 && bytes.Equal(e.Value, v1)
	})
	afterFirst := writes(t, b)
	if b.Writes != nil && len(afterFirst) != len(before)+1 {
		t.Fatalf("a chunked write left %d writes, want %d", len(afterFirst), len(before)+1)
	}

	// Two large writes race from the same revision: one wins, and the loser's chunks (written
	// before its head lost) are removed.
	v2, v3 := Large(2), Large(3)
	var wg sync.WaitGroup
	revs, errs := make([]int64, 2), make([]error, 2)
	for i, v := range [][]byte{v2, v3} {
		c := b.Open(t)
		wg.Go(func() { revs[i], errs[i] = c.Put(ctx(t), key, v, r1) })
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("two large writes from one revision: %v, want one winner", errs)
	}
	r2 := revs[0]
	if errs[0] != nil {
		v2, r2 = v3, revs[1]
	}
	rec.WaitFor(t, "the replaced large value", func(s kvstore.Snapshot) bool {
		e, ok := s.Lookup(key)
		return ok && e.Revision == r2 && bytes.Equal(e.Value, v2)
	})
	if got := writes(t, b); b.Writes != nil && (len(got) != len(afterFirst) || slices.Equal(got, afterFirst)) {
		t.Errorf("after the replacement the backend holds writes %v (before: %v): the old chunks must go", got, afterFirst)
	}
	if err := s.Delete(ctx(t), key, r2); err != nil {
		t.Fatal(err)
	}
	if got := writes(t, b); !slices.Equal(got, before) {
		t.Errorf("after the delete the backend holds writes %v, want %v", got, before)
	}
	rec.WaitFor(t, "the large value deleted", func(s kvstore.Snapshot) bool { return Holds(s, State{}) })
}

// writes lists the backend's writes, sorted; nil for a backend that does not chunk.
func writes(t testing.TB, b Backend) []string {
	t.Helper()
	if b.Writes == nil {
		return nil
	}
	w := b.Writes(t)
	slices.Sort(w)
	return w
}
