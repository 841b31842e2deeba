package store

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/rpcbridge/rpcbridge/idl"
)

// versionNumbers lists the versions of name as Versions returns them.
func versionNumbers(t *testing.T, s *Store, name string) []int64 {
	t.Helper()
	entries, err := s.Versions(name)
	if err != nil {
		t.Fatalf("Versions(%s): %v", name, err)
	}
	out := make([]int64, len(entries))
	for i, e := range entries {
		out[i] = e.Version
	}
	return out
}

func TestHistoryKeepsTheLastVersions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir, Options{History: 3})
	for i := 1; i <= 5; i++ {
		if _, err := s.Put(ctx, "greeter", KindProto, greeter(fmt.Sprintf("field%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if got := versionNumbers(t, s, "greeter"); fmt.Sprint(got) != "[5 4 3]" {
		t.Fatalf("Versions = %v, want [5 4 3] (History 3, newest first)", got)
	}
	e, sc, err := s.Version("greeter", 4)
	if err != nil || e.Version != 4 || sc.Version != 4 || replyField(t, sc) != "field4" {
		t.Fatalf("Version(4) = %+v, field %v", e, err)
	}
	files, err := s.VersionFiles("greeter", 3)
	if err != nil || len(files) != 1 {
		t.Fatalf("VersionFiles(3) = %d files, %v", len(files), err)
	}
	for _, v := range []int64{0, 2, 6} {
		if _, _, err := s.Version("greeter", v); !errors.Is(err, ErrNotFound) {
			t.Errorf("Version(%d): %v, want ErrNotFound", v, err)
		}
	}
	r := open(t, dir, Options{History: 3})
	if got := versionNumbers(t, r, "greeter"); fmt.Sprint(got) != "[5 4 3]" {
		t.Fatalf("after a restart Versions = %v", got)
	}
	if _, err := r.Versions("nosuch"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Versions of an unknown name: %v", err)
	}
}

func TestRollbackStoresTheOldContentAsTheNextVersion(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir(), Options{})
	if _, err := s.Put(ctx, "greeter", KindProto, greeter("message")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "greeter", KindProto, greeter("text")); err != nil {
		t.Fatal(err)
	}
	announced := s.changedChannel()
	back, err := s.Rollback(ctx, "greeter", 1)
	if err != nil || back.Version != 3 || replyField(t, back) != "message" {
		t.Fatalf("Rollback(1) = v%d, %v; want v3 with version 1's content", back.Version, err)
	}
	if cur, _ := s.Get("greeter"); cur.Version != 3 || replyField(t, cur) != "message" {
		t.Fatalf("current after rollback = v%d", cur.Version)
	}
	select {
	case <-announced:
	default:
		t.Error("the rollback was not announced to the store's watchers")
	}
	entries, err := s.Versions("greeter")
	if err != nil || len(entries) != 3 || entries[0].RestoredFrom != 1 || entries[1].RestoredFrom != 0 {
		t.Fatalf("Versions = %+v, %v; want v3 restored from v1 first", entries, err)
	}
	if _, err := s.Rollback(ctx, "greeter", 3); !errors.Is(err, ErrCurrent) {
		t.Errorf("Rollback to the current version: %v, want ErrCurrent", err)
	}
	if _, err := s.Rollback(ctx, "greeter", 9); !errors.Is(err, ErrNotFound) {
		t.Errorf("Rollback to a version never stored: %v, want ErrNotFound", err)
	}
	if _, err := s.Rollback(ctx, "nosuch", 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("Rollback of an unknown name: %v, want ErrNotFound", err)
	}
}

func TestRollbackValidatesAgain(t *testing.T) {
	ctx := context.Background()
	accept := true
	opts := Options{Validators: map[Kind]Validator{KindJavaSource: func(context.Context, map[string][]byte) (idl.Schema, error) {
		if !accept {
			return idl.Schema{}, errors.New("this validator no longer accepts the file")
		}
		return idl.Schema{Interfaces: []idl.JavaInterface{{Name: "com.example.Users"}}}, nil
	}}}
	s := open(t, t.TempDir(), opts)
	for range 2 {
		if _, err := s.Put(ctx, "users", KindJavaSource, map[string][]byte{"Users.java": []byte("interface Users {}")}); err != nil {
			t.Fatal(err)
		}
	}
	accept = false
	var invalid *ValidationError
	if _, err := s.Rollback(ctx, "users", 1); !errors.As(err, &invalid) {
		t.Fatalf("Rollback to content that no longer validates: %v, want a *ValidationError", err)
	}
	if got := versionNumbers(t, s, "users"); fmt.Sprint(got) != "[2 1]" {
		t.Errorf("a failed rollback changed the history: %v", got)
	}
}

func TestDeleteDropsTheHistory(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir(), Options{})
	for range 3 {
		if _, err := s.Put(ctx, "greeter", KindProto, greeter("message")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete("greeter"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Versions("greeter"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Versions after Delete: %v", err)
	}
	if _, err := s.Put(ctx, "greeter", KindProto, greeter("message")); err != nil {
		t.Fatal(err)
	}
	if got := versionNumbers(t, s, "greeter"); fmt.Sprint(got) != "[4]" {
		t.Fatalf("Versions after a delete and a new upload = %v, want [4]", got)
	}
}
