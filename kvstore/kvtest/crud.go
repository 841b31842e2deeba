package kvtest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/rpcbridge/rpcbridge/kvstore"
)

// wantConflict fails t unless err is a *ConflictError naming got as the current revision.
func wantConflict(t testing.TB, op string, err error, got int64) {
	t.Helper()
	var ce *kvstore.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, kvstore.ErrConflict) {
		t.Fatalf("%s: %v, want a *ConflictError", op, err)
	}
	if ce.Got != got {
		t.Fatalf("%s: conflict reports revision %d, want %d", op, ce.Got, got)
	}
}

func testCRUD(t *testing.T, b Backend, p string) {
	s := b.Open(t)
	if _, err := s.Get(ctx(t), p+"a"); !errors.Is(err, kvstore.ErrNotFound) {
		t.Fatalf("Get of a missing key: %v, want ErrNotFound", err)
	}
	r1 := put(t, s, p+"a", "v1", 0)
	_, err := s.Put(ctx(t), p+"a", []byte("again"), 0)
	wantConflict(t, "create of an existing key", err, r1)
	if e := get(t, s, p+"a"); string(e.Value) != "v1" || e.Revision != r1 {
		t.Fatalf("Get = %q@%d, want v1@%d", e.Value, e.Revision, r1)
	}
	r2 := put(t, s, p+"a", "v2", r1)
	if r2 <= r1 {
		t.Fatalf("update got revision %d after %d", r2, r1)
	}
	_, err = s.Put(ctx(t), p+"a", []byte("stale"), r1)
	wantConflict(t, "update at a stale revision", err, r2)
	wantConflict(t, "delete at a stale revision", s.Delete(ctx(t), p+"a", r1), r2)
	if e := get(t, s, p+"a"); string(e.Value) != "v2" {
		t.Fatalf("a lost compare-and-set changed the value: %q", e.Value)
	}
	if err := s.Delete(ctx(t), p+"a", r2); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(ctx(t), p+"a"); !errors.Is(err, kvstore.ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
	wantConflict(t, "delete of a missing key", s.Delete(ctx(t), p+"a", r2), 0)
	_, err = s.Put(ctx(t), p+"a", []byte("v3"), r2)
	wantConflict(t, "update of a deleted key", err, 0)
	r3 := put(t, s, p+"a", "v3", 0)
	if r3 <= r2 {
		t.Fatalf("a key created again got revision %d, not above its old %d", r3, r2)
	}
	// Writing the same value again is a write too: a new revision, and the old one is stale.
	if r4 := put(t, s, p+"a", "v3", r3); r4 <= r3 {
		t.Fatalf("rewriting the same value got revision %d after %d", r4, r3)
	} else if _, err := s.Put(ctx(t), p+"a", []byte("v3"), r3); !errors.Is(err, kvstore.ErrConflict) {
		t.Fatalf("rewriting the same value at the revision it replaced: %v, want ErrConflict", err)
	}

	put(t, s, p+"b", "", 0)
	if e := get(t, s, p+"b"); len(e.Value) != 0 {
		t.Fatalf("empty value read back as %q", e.Value)
	}
	put(t, s, p+"c/d", "nested", 0)
	put(t, s, p+"c-e", "sibling", 0)
	put(t, s, strings.TrimSuffix(p, "/")+"x/y", "outside", 0)
	for prefix, want := range map[string]string{
		p:         p + "a," + p + "b," + p + "c-e," + p + "c/d",
		p + "c/":  p + "c/d",
		p + "c":   p + "c-e," + p + "c/d",
		p + "zzz": "",
	} {
		l, err := s.List(ctx(t), prefix)
		if err != nil {
			t.Fatalf("List(%s): %v", prefix, err)
		}
		if keys(l) != want || l.Stale || l.Entries == nil {
			t.Errorf("List(%s) = [%s] (stale %v), want [%s]", prefix, keys(l), l.Stale, want)
		}
	}
	// Another client sees the same store.
	if e := get(t, b.Open(t), p+"c/d"); string(e.Value) != "nested" {
		t.Errorf("a second client read %q", e.Value)
	}
	for _, bad := range []string{"", "/x", "a//b", ".hidden", "sp ace"} {
		if _, err := s.Put(ctx(t), bad, nil, 0); !errors.Is(err, kvstore.ErrInvalid) {
			t.Errorf("Put(%q): %v, want ErrInvalid", bad, err)
		}
		if _, err := s.Get(ctx(t), bad); !errors.Is(err, kvstore.ErrInvalid) {
			t.Errorf("Get(%q): %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := s.List(ctx(t), "a//"); !errors.Is(err, kvstore.ErrInvalid) {
		t.Errorf("List of an invalid prefix: %v, want ErrInvalid", err)
	}
	if err := s.Delete(ctx(t), p+"b", 0); !errors.Is(err, kvstore.ErrInvalid) {
		t.Errorf("Delete without a revision: %v, want ErrInvalid", err)
	}
}

func testConcurrentWriters(t *testing.T, b Backend, p string) {
	a, c := b.Open(t), b.Open(t)
	// Both read the same revision and write: exactly one wins.
	for round := range 5 {
		key := fmt.Sprintf("%sduel-%d", p, round)
		r := put(t, a, key, "base", 0)
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, 2)
		revs := make([]int64, 2)
		for i, s := range []kvstore.Store{a, c} {
			wg.Go(func() {
				<-start
				v := []byte{'A' + byte(i)}
				if round == 0 {
					v = []byte("same") // both write the same bytes: still one winner
				}
				revs[i], errs[i] = s.Put(ctx(t), key, v, r)
			})
		}
		close(start)
		wg.Wait()
		winners := 0
		for i, err := range errs {
			switch {
			case err == nil:
				winners++
				if e := get(t, a, key); e.Revision != revs[i] || round > 0 && string(e.Value) != string(rune('A'+i)) {
					t.Fatalf("round %d: the winner wrote %c@%d but the store holds %q@%d", round, 'A'+i, revs[i], e.Value, e.Revision)
				}
			case !errors.Is(err, kvstore.ErrConflict):
				t.Fatalf("round %d: writer %d: %v, want success or ErrConflict", round, i, err)
			}
		}
		if winners != 1 {
			t.Fatalf("round %d: %d writers won, want exactly 1 (%v)", round, winners, errs)
		}
	}
	// Two creators of one key: one creates it, the other gets a conflict.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, s := range []kvstore.Store{a, c} {
		wg.Go(func() { _, errs[i] = s.Put(ctx(t), p+"created", []byte{'0' + byte(i)}, 0) })
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errors.Join(errs...), kvstore.ErrConflict) {
		t.Fatalf("two creators: %v, want one success and one conflict", errs)
	}
	// Read-modify-write loops that retry on conflict: nothing is lost.
	const each = 8
	key := p + "log"
	put(t, a, key, "", 0)
	for i, s := range []kvstore.Store{a, c} {
		wg.Go(func() {
			for n := range each {
				item := fmt.Sprintf("%c%d;", 'a'+i, n)
				for {
					e, err := s.Get(ctx(t), key)
					if err != nil {
						t.Errorf("writer %d: Get: %v", i, err)
						return
					}
					_, err = s.Put(ctx(t), key, append(e.Value, item...), e.Revision)
					if err == nil {
						break
					}
					if !errors.Is(err, kvstore.ErrConflict) {
						t.Errorf("writer %d: Put: %v", i, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	items := strings.Split(strings.TrimSuffix(string(get(t, a, key).Value), ";"), ";")
	slices.Sort(items)
	if len(items) != 2*each || len(slices.Compact(slices.Clone(items))) != 2*each {
		t.Fatalf("after %d appends the log holds %d distinct items: %v", 2*each, len(slices.Compact(items)), items)
	}
}
