package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rpcbridge/rpcbridge/kvstore"
	"github.com/rpcbridge/rpcbridge/kvstore/internal/layout"
	"github.com/rpcbridge/rpcbridge/kvstore/kvtest"
)

func open(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(Config{Dir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestConformance runs the store suite on a temporary directory.
func TestConformance(t *testing.T) {
	dir := t.TempDir()
	kvtest.Run(t, kvtest.Backend{
		Open:     func(t testing.TB) kvstore.Store { return open(t, dir) },
		Damage:   func(t testing.TB, key string, how kvtest.Damage) { damage(t, open(t, dir), key, how) },
		NoOutage: "a local directory has no outage to simulate",
	})
}

// damage rewrites key's file in the way how says, at a new revision (but foreign data).
func damage(t testing.TB, s *Store, key string, how kvtest.Damage) {
	t.Helper()
	err := s.locked(context.Background(), "damage", func() error {
		if how == kvtest.Foreign {
			return s.replace(s.keyPath(key), []byte("written by someone else\n"))
		}
		rev, err := s.nextRevision()
		if err != nil {
			return err
		}
		h, _, err := layout.Encode([]byte("a value that will not survive"), layout.Options{InlineMax: 1 << 20, Plain: true}, nil)
		if err != nil {
			return err
		}
		h.Revision = rev
		raw := layout.MarshalHead(h)
		if how == kvtest.MissingChunk {
			raw = raw[:len(raw)-5] // a truncated file
		} else {
			raw[len(raw)-3] ^= 0x20
		}
		return s.replace(s.keyPath(key), raw)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestConfig(t *testing.T) {
	if _, err := Open(Config{}, nil); err == nil || !strings.Contains(err.Error(), "dir") {
		t.Errorf("Open without a dir: %v", err)
	}
}

func TestStrayFilesAndCounterRecovery(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	r, err := s.Put(context.Background(), "a/b", []byte("v"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "keys", "not a key"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := s.List(context.Background(), "")
	if err != nil || len(l.Entries) != 1 || len(l.Diagnostics) != 1 || !strings.Contains(l.Diagnostics[0].Subject, "not a key") {
		t.Fatalf("List with a stray file: %+v, %v", l, err)
	}
	// A lost revision counter starts again above every stored revision.
	if err := os.Remove(filepath.Join(dir, "revision")); err != nil {
		t.Fatal(err)
	}
	r2, err := s.Put(context.Background(), "c", []byte("v"), 0)
	if err != nil || r2 <= r {
		t.Fatalf("Put after losing the counter: revision %d after %d, %v", r2, r, err)
	}
}

// TestCompareAndSetAcrossProcesses runs read-modify-write loops in this process and in a child
// process on the same directory: the flock keeps every append.
func TestCompareAndSetAcrossProcesses(t *testing.T) {
	if dir := os.Getenv("KVSTORE_LOCAL_CHILD_DIR"); dir != "" {
		appendItems(t, open(t, dir), "child")
		return
	}
	dir := t.TempDir()
	s := open(t, dir)
	if _, err := s.Put(context.Background(), "log", nil, 0); err != nil {
		t.Fatal(err)
	}
	child := exec.Command(os.Args[0], "-test.run=^TestCompareAndSetAcrossProcesses$", "-test.count=1")
	child.Env = append(os.Environ(), "KVSTORE_LOCAL_CHILD_DIR="+dir)
	out := make(chan error, 1)
	var output strings.Builder
	child.Stdout, child.Stderr = &output, &output
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { out <- child.Wait() }()
	appendItems(t, s, "parent")
	if err := <-out; err != nil {
		t.Fatalf("child: %v\n%s", err, output.String())
	}
	e, err := s.Get(context.Background(), "log")
	if err != nil {
		t.Fatal(err)
	}
	items := strings.Fields(string(e.Value))
	if len(items) != 2*appends {
		t.Fatalf("the log holds %d items, want %d: %v", len(items), 2*appends, items)
	}
}

const appends = 50

// appendItems appends who's items to "log" with compare-and-set, retrying conflicts.
func appendItems(t *testing.T, s *Store, who string) {
	for i := range appends {
		for {
			e, err := s.Get(context.Background(), "log")
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Put(context.Background(), "log", fmt.Appendf(e.Value, "%s-%d ", who, i), e.Revision)
			if err == nil {
				break
			}
			if !errors.Is(err, kvstore.ErrConflict) {
				t.Fatal(err)
			}
		}
	}
}
