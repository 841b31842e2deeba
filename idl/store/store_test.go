package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/idl"
	idlproto "github.com/rpcbridge/rpcbridge/idl/proto"
	"google.golang.org/protobuf/proto"
)

func greeter(reply string) map[string][]byte {
	return map[string][]byte{
		"greet/v1/greeter.proto": []byte(`syntax = "proto3";
package greet.v1;
import "google/api/annotations.proto";
service Greeter {
  rpc SayHello(HelloRequest) returns (HelloReply) {
    option (google.api.http) = { get: "/v1/hello/{name}" };
  }
}
message HelloRequest { string name = 1; }
message HelloReply { string ` + reply + ` = 1; }
`),
	}
}

func open(t *testing.T, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// replyField returns the name of HelloReply's field, which the tests vary between versions.
func replyField(t *testing.T, sc idl.Schema) string {
	t.Helper()
	for _, f := range sc.Descriptors.GetFile() {
		for _, m := range f.GetMessageType() {
			if m.GetName() == "HelloReply" {
				return m.GetField()[0].GetName()
			}
		}
	}
	t.Fatal("HelloReply not in the schema")
	return ""
}

func TestPutGetReplaceDelete(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir(), Options{})
	v1, err := s.Put(ctx, "greeter", KindProto, greeter("message"))
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if v1.Name != "greeter" || v1.Version != 1 || len(idlproto.Services(v1.Descriptors)) != 1 {
		t.Fatalf("first put = %+v", v1)
	}
	v2, err := s.Put(ctx, "greeter", KindProto, greeter("text"))
	if err != nil {
		t.Fatalf("replace: %v", err)
	}
	got, err := s.Get("greeter")
	if err != nil || got.Version != 2 || v2.Version != 2 || replyField(t, got) != "text" {
		t.Fatalf("after replace Get = v%d %v", got.Version, err)
	}
	files, err := s.Files("greeter")
	if err != nil || !strings.Contains(string(files["greet/v1/greeter.proto"]), "string text = 1") {
		t.Fatalf("Files = %q, %v", files, err)
	}
	if list := s.List(); len(list) != 1 || list[0].Kind != KindProto || list[0].Version != 2 ||
		!slices.Equal(list[0].Files, []string{"greet/v1/greeter.proto"}) {
		t.Fatalf("List = %+v", list)
	}
	if err := s.Delete("greeter"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get("greeter"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after delete: %v", err)
	}
	if err := s.Delete("greeter"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete: %v", err)
	}
	v3, err := s.Put(ctx, "greeter", KindProto, greeter("message"))
	if err != nil || v3.Version != 3 {
		t.Fatalf("put after delete = v%d, %v; versions must not restart", v3.Version, err)
	}
}

func TestInvalidReplacementKeepsServing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir, Options{})
	if _, err := s.Put(ctx, "greeter", KindProto, greeter("message")); err != nil {
		t.Fatal(err)
	}
	announced := s.changedChannel()
	broken := greeter("message")
	broken["greet/v1/greeter.proto"] = []byte(strings.Replace(string(broken["greet/v1/greeter.proto"]), "string name", "strng name", 1))
	_, err := s.Put(ctx, "greeter", KindProto, broken)
	var ce *idlproto.CompileError
	if !errors.As(err, &ce) || len(ce.Problems) == 0 || ce.Problems[0].Line == 0 {
		t.Fatalf("want a positioned *CompileError, got %v", err)
	}
	got, err := s.Get("greeter")
	if err != nil || got.Version != 1 || replyField(t, got) != "message" {
		t.Fatalf("Get after invalid put = v%d, %v", got.Version, err)
	}
	select {
	case <-announced:
		t.Error("an invalid put was announced to watchers")
	default:
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "greeter"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"current", "v1"}) {
		t.Errorf("store directory after an invalid put = %v", names)
	}
	if s2 := open(t, dir, Options{}); len(s2.All()) != 1 || s2.All()[0].Version != 1 {
		t.Errorf("after restart: %+v", s2.List())
	}
}

func TestRestartReloads(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	javaSchema := idl.Schema{Interfaces: []idl.JavaInterface{{Name: "com.example.UserService", Methods: []idl.JavaMethod{{
		Name: "find", Params: []idl.JavaParam{{Name: "id", Type: "long"}}, Returns: "com.example.User",
	}}}}}
	opts := Options{Validators: map[Kind]Validator{
		KindJavaSource: func(_ context.Context, files map[string][]byte) (idl.Schema, error) {
			if _, ok := files["com/example/UserService.java"]; !ok {
				return idl.Schema{}, fmt.Errorf("no UserService.java")
			}
			return javaSchema, nil
		},
	}}
	s := open(t, dir, opts)
	if _, err := s.Put(ctx, "greeter", KindProto, greeter("message")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "greeter", KindProto, greeter("text")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "users", KindJavaSource, map[string][]byte{"com/example/UserService.java": []byte("interface UserService {}")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "gone", KindProto, greeter("message")); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("gone"); err != nil {
		t.Fatal(err)
	}
	before := s.All()

	// Leftovers of a crash: a temporary directory and a version written but never made current.
	if err := os.MkdirAll(filepath.Join(dir, "greeter", ".tmp-crashed", "files"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "greeter", "v7"), 0o755); err != nil {
		t.Fatal(err)
	}

	r := open(t, dir, opts)
	after := r.All()
	if len(after) != len(before) || len(after) != 2 {
		t.Fatalf("reloaded %d schemas, had %d", len(after), len(before))
	}
	for i := range before {
		b, a := before[i], after[i]
		if a.Name != b.Name || a.Version != b.Version || !proto.Equal(a.Descriptors, b.Descriptors) ||
			fmt.Sprint(a.Interfaces) != fmt.Sprint(b.Interfaces) {
			t.Errorf("schema %s v%d reloaded as %s v%d (descriptors equal %v)", b.Name, b.Version, a.Name, a.Version, proto.Equal(a.Descriptors, b.Descriptors))
		}
	}
	if got, _ := r.Get("users"); len(got.Interfaces) != 1 || got.Interfaces[0].Methods[0].Params[0].Type != "long" {
		t.Errorf("Java model not reloaded: %+v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "greeter", ".tmp-crashed")); !os.IsNotExist(err) {
		t.Errorf("temporary directory survived Open: %v", err)
	}
	next, err := r.Put(ctx, "greeter", KindProto, greeter("message"))
	if err != nil || next.Version != 8 {
		t.Errorf("next greeter version = %d, %v; want 8 (after the leftover v7)", next.Version, err)
	}
	again, err := r.Put(ctx, "gone", KindProto, greeter("message"))
	if err != nil || again.Version != 2 {
		t.Errorf("put after a deleted v1 and a restart = v%d, %v; want 2", again.Version, err)
	}
}

func TestConcurrentPuts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir, Options{})
	const n = 6
	var wg sync.WaitGroup
	versions := make(chan int64, 2*n)
	errs := make(chan error, 2*n)
	for i := 0; i < n; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			sc, err := s.Put(ctx, "shared", KindProto, greeter(fmt.Sprintf("field%d", i)))
			errs <- err
			versions <- sc.Version
		}()
		go func() {
			defer wg.Done()
			_, err := s.Put(ctx, fmt.Sprintf("own-%d", i), KindProto, greeter("message"))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	close(versions)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var got []int64
	for v := range versions {
		got = append(got, v)
	}
	slices.Sort(got)
	if !slices.Equal(got, []int64{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("versions of concurrent puts = %v", got)
	}
	cur, err := s.Get("shared")
	if err != nil || cur.Version != n {
		t.Fatalf("current = v%d, %v", cur.Version, err)
	}
	files, err := s.Files("shared")
	if err != nil {
		t.Fatal(err)
	}
	// The stored files must be the ones of the version that is current.
	if want := "string " + replyField(t, cur) + " = 1"; !strings.Contains(string(files["greet/v1/greeter.proto"]), want) {
		t.Errorf("current files do not match the current schema (%s)", want)
	}
	if len(s.All()) != n+1 {
		t.Errorf("All = %d schemas, want %d", len(s.All()), n+1)
	}
	r := open(t, dir, Options{})
	if got, _ := r.Get("shared"); got.Version != n || replyField(t, got) != replyField(t, cur) {
		t.Errorf("after restart shared = v%d", got.Version)
	}
}

// changedChannel is the channel the next change closes.
func (s *Store) changedChannel() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

func TestWatchAnnouncesChanges(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := open(t, t.TempDir(), Options{})
	// Two watchers, each with its own view; both must see every step, in order.
	var views [2]chan []idl.Schema
	done := make(chan error, len(views))
	for i := range views {
		views[i] = make(chan []idl.Schema)
		go func() { done <- s.Watch(ctx, func(v []idl.Schema) { views[i] <- v }) }()
	}
	next := func(i int, what string) []idl.Schema {
		select {
		case v := <-views[i]:
			return v
		case <-ctx.Done():
			t.Fatalf("watcher %d: no call for %s", i, what)
			return nil
		}
	}
	for i := range views {
		if v := next(i, "the current schemas"); len(v) != 0 {
			t.Fatalf("watcher %d: first call %+v; want the empty store", i, v)
		}
	}
	if _, err := s.Put(ctx, "greeter", KindProto, greeter("message")); err != nil {
		t.Fatal(err)
	}
	for i := range views {
		if v := next(i, "the put"); len(v) != 1 || v[0].Name != "greeter" || v[0].Version != 1 {
			t.Fatalf("watcher %d: after the put saw %+v", i, v)
		}
	}
	if err := s.Delete("greeter"); err != nil {
		t.Fatal(err)
	}
	for i := range views {
		if v := next(i, "the delete"); len(v) != 0 {
			t.Fatalf("watcher %d: after the delete saw %+v", i, v)
		}
	}
	cancel()
	for range views {
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Watch returned %v; want context.Canceled", err)
		}
	}
}

func TestDescriptorSetKind(t *testing.T) {
	ctx := context.Background()
	fds, err := idlproto.Compile(ctx, greeter("message"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := proto.Marshal(fds)
	if err != nil {
		t.Fatal(err)
	}
	s := open(t, t.TempDir(), Options{})
	sc, err := s.Put(ctx, "bin", KindDescriptorSet, map[string][]byte{"greeter.binpb": raw})
	if err != nil || !proto.Equal(sc.Descriptors, fds) {
		t.Fatalf("Put descriptor set: %v", err)
	}
	if _, err := s.Put(ctx, "bin", KindDescriptorSet, map[string][]byte{"a.binpb": raw, "b.binpb": raw}); err == nil {
		t.Error("two descriptor-set files accepted")
	}
}

func TestRefusals(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir(), Options{})
	for _, name := range []string{"", "Upper", ".hidden", "-dash", "a/b", "..", strings.Repeat("a", 64), "sp ace"} {
		var ne *InvalidNameError
		if _, err := s.Put(ctx, name, KindProto, greeter("message")); !errors.As(err, &ne) {
			t.Errorf("name %q: want *InvalidNameError, got %v", name, err)
		}
	}
	for _, name := range []string{"a", "greeter-v1.2_x", strings.Repeat("a", 63)} {
		if _, err := s.Put(ctx, name, KindProto, greeter("message")); err != nil {
			t.Errorf("name %q refused: %v", name, err)
		}
	}
	var ke *UnknownKindError
	if _, err := s.Put(ctx, "java", KindJavaJar, map[string][]byte{"api.jar": nil}); !errors.As(err, &ke) {
		t.Errorf("want *UnknownKindError without a Java validator, got %v", err)
	}
	if _, err := s.Put(ctx, "escape", KindProto, map[string][]byte{"../x.proto": []byte("syntax = \"proto3\";")}); err == nil {
		t.Error("escaping file path accepted")
	}
}
