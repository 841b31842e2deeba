package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	idlproto "github.com/rpcbridge/rpcbridge/idl/proto"
)

// TestVerifyFindsFilesThatNoLongerValidate stores two schemas, breaks the stored file of one on
// disk (as a hand edit would) and checks that Verify reports exactly that one, with the
// compiler's file:line:column, while the store keeps serving what it loaded.
func TestVerifyFindsFilesThatNoLongerValidate(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	ctx := context.Background()
	for _, name := range []string{"good", "broken"} {
		if _, err := s.Put(ctx, name, KindProto, greeter("message")); err != nil {
			t.Fatal(err)
		}
	}
	if problems := s.Verify(ctx); len(problems) != 0 {
		t.Fatalf("valid store: Verify = %v", problems)
	}

	stored := filepath.Join(dir, "broken", "v1", filesDir, "greet", "v1", "greeter.proto")
	if err := os.WriteFile(stored, []byte("syntax = \"proto3\";\nmessage M { strin x = 1; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	problems := open(t, dir, Options{}).Verify(ctx)
	if len(problems) != 1 || problems[0].Entry.Name != "broken" || problems[0].Entry.Version != 1 {
		t.Fatalf("Verify = %v; want one problem for broken v1", problems)
	}
	var ce *idlproto.CompileError
	if !errors.As(problems[0], &ce) || len(ce.Problems) == 0 || ce.Problems[0].File != "greet/v1/greeter.proto" || ce.Problems[0].Line != 2 {
		t.Fatalf("want a compile error at greet/v1/greeter.proto:2, got %v", problems[0])
	}
}
