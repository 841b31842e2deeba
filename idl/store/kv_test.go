package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/kvstore"
	"github.com/rpcbridge/rpcbridge/kvstore/local"
)

// openReplicas opens n Stores on one local kvstore, each following it, as n replicas would.
func openReplicas(t *testing.T, n int) (kvstore.Store, []*Store) {
	t.Helper()
	kv, err := local.Open(local.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kv.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	var out []*Store
	for range n {
		s, err := OpenShared(ctx, kv, "local", Options{})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { _ = s.Follow(ctx) })
		out = append(out, s)
	}
	return kv, out
}

// waitVersion polls s until name is at version want (bounded: the test fails after 20 s).
func waitVersion(t *testing.T, s *Store, name string, want int64) idl.Schema {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		sc, err := s.Get(name)
		if err == nil && sc.Version == want {
			return sc
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: want version %d, have %d (%v)", name, want, sc.Version, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSharedUploadOnOneServedByAll(t *testing.T) {
	ctx := context.Background()
	_, rs := openReplicas(t, 3)
	if _, err := rs[0].Put(ctx, "greeter", KindProto, greeter("message")); err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		sc := waitVersion(t, r, "greeter", 1)
		if got := replyField(t, sc); got != "message" {
			t.Errorf("replica %d serves field %q", i, got)
		}
	}
	if _, err := rs[1].Put(ctx, "greeter", KindProto, greeter("text")); err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		if got := replyField(t, waitVersion(t, r, "greeter", 2)); got != "text" {
			t.Errorf("replica %d serves field %q after the second upload", i, got)
		}
	}
	files, err := rs[2].Files("greeter")
	if err != nil || string(files["greet/v1/greeter.proto"]) != string(greeter("text")["greet/v1/greeter.proto"]) {
		t.Errorf("Files on another replica: %v", err)
	}
	versions, err := rs[2].Versions("greeter")
	if err != nil || len(versions) != 2 || versions[0].Version != 2 || versions[1].Version != 1 {
		t.Errorf("Versions: %+v, %v", versions, err)
	}
	if _, err := rs[2].Rollback(ctx, "greeter", 1); err != nil {
		t.Fatal(err)
	}
	if got := replyField(t, waitVersion(t, rs[0], "greeter", 3)); got != "message" {
		t.Errorf("rollback served %q", got)
	}
	if err := rs[0].Delete("greeter"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, err := rs[1].Get("greeter"); err == nil; _, err = rs[1].Get("greeter") {
		if time.Now().After(deadline) {
			t.Fatal("the delete never reached replica 1")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The counter survives the delete on every replica.
	sc, err := rs[1].Put(ctx, "greeter", KindProto, greeter("message"))
	if err != nil || sc.Version != 4 {
		t.Errorf("put after delete: version %d, %v; want 4", sc.Version, err)
	}
}

// TestSharedConcurrentUploads: uploads of one name to two replicas at once all succeed in
// some order or fail with a *ConflictError; the versions they get are distinct and the last
// one is current everywhere.
func TestSharedConcurrentUploads(t *testing.T) {
	ctx := context.Background()
	_, rs := openReplicas(t, 2)
	const each = 10
	var mu sync.Mutex
	got := map[int64]string{}
	var wg sync.WaitGroup
	for i, r := range rs[:2] {
		wg.Go(func() {
			for j := range each {
				field := fmt.Sprintf("f%d_%d", i, j)
				sc, err := r.Put(ctx, "greeter", KindProto, greeter(field))
				var conflict *ConflictError
				if errors.As(err, &conflict) {
					continue
				}
				if err != nil {
					t.Errorf("replica %d: %v", i, err)
					return
				}
				mu.Lock()
				if prev, dup := got[sc.Version]; dup {
					t.Errorf("version %d given to %s and %s", sc.Version, prev, field)
				}
				got[sc.Version] = field
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	var top int64
	for v := range got {
		top = max(top, v)
	}
	if len(got) == 0 {
		t.Fatal("no upload succeeded")
	}
	for i, r := range rs {
		if f := replyField(t, waitVersion(t, r, "greeter", top)); f != got[top] {
			t.Errorf("replica %d serves %s at version %d, want %s", i, f, top, got[top])
		}
	}
}

func TestSharedSkipsForeignAndCorruptEntries(t *testing.T) {
	ctx := context.Background()
	kv, rs := openReplicas(t, 1)
	if _, err := rs[0].Put(ctx, "greeter", KindProto, greeter("message")); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "idl/current/Not_A_Name", []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "idl/current/broken", []byte("not json"), 0); err != nil {
		t.Fatal(err)
	}
	// A pointer to a version whose data is foreign keeps the last good version.
	e, err := kv.Get(ctx, kvCurrentKey("greeter"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, kvMetaKey("greeter", 7), []byte("{}"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, kvCurrentKey("greeter"), []byte(`{"version": 7}`), e.Revision); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		codes := map[diag.Code]int{}
		for _, d := range rs[0].Diagnostics() {
			codes[d.Code]++
		}
		if codes[diag.StoreStray] == 1 && codes[diag.StoreEntryUnreadable] == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("diagnostics: %v", rs[0].Diagnostics())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if sc, err := rs[0].Get("greeter"); err != nil || sc.Version != 1 {
		t.Errorf("the last good version is not served: %d, %v", sc.Version, err)
	}
	if n := len(rs[0].All()); n != 1 {
		t.Errorf("%d schemas served, want 1", n)
	}
}
