package kvtest

import (
	"errors"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/kvstore"
	"github.com/rpcbridge/rpcbridge/kvstore/internal/layout"
)

func testCorrupt(t *testing.T, b Backend, p string) {
	need(t, "way to damage stored data", b.Damage != nil)
	for _, how := range []Damage{Foreign, MissingChunk, BadChunk} {
		t.Run(how.String(), func(t *testing.T) {
			pre := p + [...]string{"foreign/", "missing/", "bad/"}[how]
			s := b.Open(t)
			put(t, s, pre+"good", "fine", 0)
			rv := put(t, s, pre+"victim", "the last good value", 0)
			rec := Watch(t, b.Open(t), pre)
			rec.WaitFor(t, "the first state", func(s kvstore.Snapshot) bool {
				return Holds(s, State{pre + "good": "fine", pre + "victim": "the last good value"})
			})

			b.Damage(t, pre+"victim", how)

			// The watcher keeps the last good value and says why.
			kept := rec.WaitFor(t, "a diagnostic about the damaged entry", func(s kvstore.Snapshot) bool {
				return HasDiagnosticFor(s, pre+"victim")
			})
			if v, ok := kept.Lookup(pre + "victim"); !ok || v.Revision != rv || string(v.Value) != "the last good value" {
				t.Fatalf("the watcher dropped the last good value of the damaged entry: %s", Dump(kept))
			}
			if _, ok := kept.Lookup(pre + "good"); !ok || kept.Stale {
				t.Fatalf("the damage took other entries along: %s", Dump(kept))
			}
			// A fresh reader leaves it out, with a diagnostic; Get says it is corrupt.
			l, err := b.Open(t).List(ctx(t), pre)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if keys(l) != pre+"good" || !HasDiagnosticFor(l, pre+"victim") {
				t.Fatalf("List with a damaged entry: %s", Dump(l))
			}
			_, err = s.Get(ctx(t), pre+"victim")
			var ce *kvstore.CorruptError
			if !errors.As(err, &ce) || !errors.Is(err, kvstore.ErrCorrupt) {
				t.Fatalf("Get of the damaged entry: %v, want a *CorruptError", err)
			}
			if ce.Revision <= 0 {
				return // foreign data without a revision: an operator must remove it
			}
			// The damaged value can be replaced at its revision, and the watcher converges.
			put(t, s, pre+"victim", "repaired", ce.Revision)
			rec.WaitFor(t, "the repaired entry", func(s kvstore.Snapshot) bool {
				return Holds(s, State{pre + "good": "fine", pre + "victim": "repaired"}) && len(s.Diagnostics) == 0
			})
		})
	}
}

func testOrphans(t *testing.T, b Backend, p string) {
	need(t, "chunks", b.Writes != nil && b.PlantOrphan != nil)
	orphan := b.PlantOrphan(t, 2*layout.OrphanGrace)
	fresh := b.PlantOrphan(t, time.Second)
	if !contains(writes(t, b), orphan) {
		t.Fatalf("the planted orphan %s is not listed in %v", orphan, writes(t, b))
	}
	// A client's first write sweeps leftovers older than the grace period, and only those.
	s := b.Open(t)
	put(t, s, p+"trigger", "x", 0)
	got := writes(t, b)
	if contains(got, orphan) {
		t.Errorf("the orphan %s survived a write: writes %v", orphan, got)
	}
	if !contains(got, fresh) {
		t.Errorf("a write in progress (%s) was swept: writes %v", fresh, got)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// DamagedWrite is the write a backend's Damage stores for MissingChunk and BadChunk: a head
// naming several small chunks, and the chunks to store under head.Write by index, one of them
// left out (MissingChunk) or with a flipped byte (BadChunk). The backend sets the head's
// revision where it keeps its own.
func DamagedWrite(t testing.TB, how Damage) (layout.Head, map[int][]byte) {
	t.Helper()
	h, chunks, err := layout.Encode(Large(9)[:5000], layout.Options{InlineMax: 0, ChunkSize: 700},
		func() string { return layout.NewWriteID(time.Now()) })
	if err != nil || len(chunks) < 2 {
		t.Fatalf("encode: %d chunks, %v", len(chunks), err)
	}
	out := map[int][]byte{}
	for i, c := range chunks {
		switch {
		case i != 1:
			out[i] = c
		case how == BadChunk:
			out[i] = append([]byte{c[0] ^ 1}, c[1:]...)
		case how != MissingChunk:
			out[i] = c
		}
	}
	return h, out
}
