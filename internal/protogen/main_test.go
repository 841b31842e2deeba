package main

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCheckedInCodeIsCurrent regenerates the Go code of every .proto under api/ and compares it
// with the checked-in .pb.go, so that a .proto edited without `go generate ./api/...` fails CI.
func TestCheckedInCodeIsCurrent(t *testing.T) {
	var protos []string
	err := filepath.WalkDir("../../api", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".proto") {
			protos = append(protos, path)
		}
		return err
	})
	if err != nil || len(protos) == 0 {
		t.Fatalf("no .proto under api/ (%v)", err)
	}
	for _, p := range protos {
		got, err := generate(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(goFile(p))
		if err != nil {
			t.Fatalf("%v (run go generate ./api/...)", err)
		}
		if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")); diff != "" {
			t.Errorf("%s is not what %s generates (-checked in +generated; run go generate ./api/...):\n%s", goFile(p), p, diff)
		}
	}
}

// TestGenerateReportsProtoErrors checks that a broken .proto is an error with its position, not
// a half-written file.
func TestGenerateReportsProtoErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "broken.proto")
	if err := os.WriteFile(path, []byte("syntax = \"proto3\";\nmessage M { strin x = 1; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := generate(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), "broken.proto:2") {
		t.Fatalf("generate(broken.proto) = %v, want an error at broken.proto:2", err)
	}
}
