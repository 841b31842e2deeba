package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// protoOfSize is a valid proto file of exactly size bytes (a comment pads it).
func protoOfSize(t *testing.T, pkg string, size int) map[string][]byte {
	t.Helper()
	src := "syntax = \"proto3\";\npackage " + pkg + ";\nmessage M { string s = 1; }\n//"
	if len(src) > size {
		t.Fatalf("a proto of %d bytes is too small for the skeleton", size)
	}
	return map[string][]byte{pkg + ".proto": []byte(src + strings.Repeat("x", size-len(src)))}
}

// TestPutRefusesBeyondQuota checks the total-size quota: an upload that would take the current
// versions beyond it is refused with a *QuotaError naming the figures and stores nothing; the
// version a Put replaces does not count; a delete frees its room; and the sizes survive a restart.
func TestPutRefusesBeyondQuota(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir, Options{QuotaBytes: 1000})
	if _, err := s.Put(ctx, "a", KindProto, protoOfSize(t, "a", 600)); err != nil {
		t.Fatalf("Put a within the quota: %v", err)
	}
	_, err := s.Put(ctx, "b", KindProto, protoOfSize(t, "b", 500))
	var qe *QuotaError
	if !errors.As(err, &qe) || qe.Quota != 1000 || qe.Used != 600 || qe.Requested != 500 || qe.Name != "b" {
		t.Fatalf("Put b beyond the quota: err %v (%+v), want a QuotaError of 1000 with 600 used and 500 requested", err, qe)
	}
	if !strings.Contains(err.Error(), "quota of 1000 bytes") {
		t.Errorf("the error does not name the quota: %v", err)
	}
	if list := s.List(); len(list) != 1 || list[0].Name != "a" || list[0].Bytes != 600 {
		t.Fatalf("after the refusal the store lists %+v, want only a with 600 bytes", list)
	}
	if _, err := os.Stat(filepath.Join(dir, "b")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused upload left %s on disk (stat: %v)", filepath.Join(dir, "b"), err)
	}

	if _, err := s.Put(ctx, "a", KindProto, protoOfSize(t, "a", 900)); err != nil {
		t.Fatalf("replacing a by 900 bytes must not count the 600 it replaces: %v", err)
	}
	if err := s.Delete("a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "b", KindProto, protoOfSize(t, "b", 500)); err != nil {
		t.Fatalf("Put b after a was deleted: %v", err)
	}

	reopened := open(t, dir, Options{QuotaBytes: 1000})
	if _, err := reopened.Put(ctx, "c", KindProto, protoOfSize(t, "c", 501)); !errors.As(err, &qe) || qe.Used != 500 {
		t.Fatalf("after a restart the quota must still count b's 500 bytes: err %v", err)
	}
	if _, err := reopened.Put(ctx, "c", KindProto, protoOfSize(t, "c", 500)); err != nil {
		t.Fatalf("Put c up to the quota exactly: %v", err)
	}
}

// TestQuotaCountsVersionsWrittenWithoutSizes reopens a store whose metadata predates Entry.Bytes:
// the sizes are read from the stored files, so the quota still counts those versions.
func TestQuotaCountsVersionsWrittenWithoutSizes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir, Options{QuotaBytes: 1000})
	if _, err := s.Put(ctx, "a", KindProto, protoOfSize(t, "a", 700)); err != nil {
		t.Fatal(err)
	}
	meta := filepath.Join(dir, "a", "v1", metaFile)
	raw, err := os.ReadFile(meta)
	if err != nil {
		t.Fatal(err)
	}
	legacy := strings.Replace(string(raw), `"bytes": 700`, `"bytes": 0`, 1)
	if legacy == string(raw) {
		t.Fatalf("meta.json does not record the size as expected:\n%s", raw)
	}
	if err := os.WriteFile(meta, []byte(legacy), 0o644); err != nil {
		t.Fatal(err)
	}
	reopened := open(t, dir, Options{QuotaBytes: 1000})
	if got := reopened.List()[0].Bytes; got != 700 {
		t.Fatalf("size of a version without a recorded size = %d, want 700 from its files", got)
	}
	var qe *QuotaError
	if _, err := reopened.Put(ctx, "b", KindProto, protoOfSize(t, "b", 400)); !errors.As(err, &qe) {
		t.Fatalf("Put beyond the quota after reopening: err %v, want *QuotaError", err)
	}
}
