package controlplane

import (
	"hash/maphash"
	"sync"
)

// nameSet is a set of subscribed resource names, shared (read only) by every stream that
// subscribes to exactly these names: proxies of one fleet subscribe to the same load
// assignments, so a thousand streams hold one map instead of a thousand. Its sum is the sum of
// the hashes of its names, which does not depend on order and can be updated name by name.
type nameSet struct {
	names map[string]struct{}
	sum   uint64
	refs  int
}

// has reports whether the set holds name.
func (s *nameSet) has(name string) bool {
	_, ok := s.names[name]
	return ok
}

// len is the number of names.
func (s *nameSet) len() int { return len(s.names) }

// nameSets interns name sets by content and counts their users.
type nameSets struct {
	seed maphash.Seed

	mu    sync.Mutex
	bySum map[uint64][]*nameSet
	empty *nameSet
}

func newNameSets() *nameSets {
	t := &nameSets{seed: maphash.MakeSeed(), bySum: map[uint64][]*nameSet{}}
	t.empty = &nameSet{names: map[string]struct{}{}}
	return t
}

// hash is the hash of one name.
func (t *nameSets) hash(name string) uint64 { return maphash.String(t.seed, name) }

// fromList returns the interned set of the names of list except "*" (one more reference), and
// whether list holds "*".
func (t *nameSets) fromList(list []string) (*nameSet, bool) {
	names := make(map[string]struct{}, len(list))
	var sum uint64
	wildcard := false
	for _, name := range list {
		if name == explicitWildcard {
			wildcard = true
			continue
		}
		if _, dup := names[name]; !dup {
			names[name] = struct{}{}
			sum += t.hash(name)
		}
	}
	return t.intern(names, sum), wildcard
}

// listSum is the sum of the hashes of a list's names, counting repeats; equal lists give equal
// sums, which lets a state-of-the-world ACK that repeats its subscription skip building a set.
func (t *nameSets) listSum(list []string) uint64 {
	var sum uint64
	for _, name := range list {
		sum += t.hash(name)
	}
	return sum
}

// changed returns the interned set of old plus add minus remove (one more reference; old keeps
// its own) and the names of add that old lacked.
func (t *nameSets) changed(old *nameSet, add, remove []string) (next *nameSet, added []string) {
	names := make(map[string]struct{}, old.len()+len(add))
	for name := range old.names {
		names[name] = struct{}{}
	}
	sum := old.sum
	for _, name := range add {
		if _, ok := names[name]; !ok {
			names[name] = struct{}{}
			sum += t.hash(name)
			added = append(added, name)
		}
	}
	for _, name := range remove {
		if _, ok := names[name]; ok {
			delete(names, name)
			sum -= t.hash(name)
		}
	}
	return t.intern(names, sum), added
}

// intern returns the shared set equal to names (whose hash sum is sum), adding names as that
// set when there is none.
func (t *nameSets) intern(names map[string]struct{}, sum uint64) *nameSet {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(names) == 0 {
		return t.empty
	}
	for _, s := range t.bySum[sum] {
		if sameNames(s.names, names) {
			s.refs++
			return s
		}
	}
	s := &nameSet{names: names, sum: sum, refs: 1}
	t.bySum[sum] = append(t.bySum[sum], s)
	return s
}

// release drops one reference to s, forgetting it with the last.
func (t *nameSets) release(s *nameSet) {
	if s == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if s == t.empty {
		return
	}
	s.refs--
	if s.refs > 0 {
		return
	}
	list := t.bySum[s.sum]
	for i, x := range list {
		if x == s {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(t.bySum, s.sum)
	} else {
		t.bySum[s.sum] = list
	}
}

// sameNames reports whether a and b hold the same names.
func sameNames(a, b map[string]struct{}) bool {
	if len(a) != len(b) {
		return false
	}
	for name := range a {
		if _, ok := b[name]; !ok {
			return false
		}
	}
	return true
}

// explicitWildcard is the name that subscribes to every resource of a type.
const explicitWildcard = "*"
