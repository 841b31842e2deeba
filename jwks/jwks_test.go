package jwks_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/rpcbridge/rpcbridge/internal/jwttest"
	"github.com/rpcbridge/rpcbridge/jwks"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// follower records what Run publishes.
type follower struct {
	mu   sync.Mutex
	last jwks.Sets
	seen chan struct{}
}

func newFollower() *follower { return &follower{seen: make(chan struct{}, 100)} }

func (f *follower) publish(s jwks.Sets) {
	f.mu.Lock()
	f.last = s
	f.mu.Unlock()
	f.seen <- struct{}{}
}

// await waits until the latest published state of key satisfies ok.
func (f *follower) await(t *testing.T, key string, what string, ok func(jwks.State) bool) jwks.State {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		f.mu.Lock()
		st, have := f.last[key]
		f.mu.Unlock()
		if have && ok(st) {
			return st
		}
		select {
		case <-f.seen:
		case <-deadline:
			t.Fatalf("%s: never published; last %+v", what, st)
		}
	}
}

// TestFileRotationAndBadContent: a JWKS file is published at once, re-read when it changes (the
// rotated set replaces the old one), and a file that becomes unreadable or holds no usable key
// keeps the last good set with the problem reported; fixing it clears the problem.
func TestFileRotationAndBadContent(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "jwks.json")
	k1, k2 := jwttest.JWKS(t, jwttest.NewEC(t, "k1")), jwttest.JWKS(t, jwttest.NewEC(t, "k2"))
	if err := os.WriteFile(file, []byte(k1), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := newFollower()
	done := make(chan error, 1)
	src := jwks.Source{Key: "file:" + file, File: file, Refresh: 20 * time.Millisecond}
	go func() {
		done <- jwks.Run(ctx, []jwks.Source{src}, http.DefaultClient, slog.New(slog.NewTextHandler(io.Discard, nil)), f.publish)
	}()
	defer func() { cancel(); <-done }()

	f.await(t, src.Key, "first read", func(s jwks.State) bool { return s.JSON == k1 && s.Problem == "" })
	if err := os.WriteFile(file, []byte(k2), 0o600); err != nil {
		t.Fatal(err)
	}
	f.await(t, src.Key, "rotation", func(s jwks.State) bool { return s.JSON == k2 })
	if err := os.WriteFile(file, []byte(`{"keys":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	f.await(t, src.Key, "bad key set", func(s jwks.State) bool { return s.JSON == k2 && s.Problem != "" })
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	f.await(t, src.Key, "missing file", func(s jwks.State) bool { return s.JSON == k2 && s.Problem != "" })
	if err := os.WriteFile(file, []byte(k2), 0o600); err != nil {
		t.Fatal(err)
	}
	f.await(t, src.Key, "restored", func(s jwks.State) bool { return s.JSON == k2 && s.Problem == "" })
}

// TestURLOutageKeepsLastKeys: a JWKS URL is fetched on its interval; when the server goes away
// (or answers an error) the last good keys stay, with the problem, and a timeout bounds a fetch
// that never answers.
func TestURLOutageKeepsLastKeys(t *testing.T) {
	k1 := jwttest.JWKS(t, jwttest.NewEC(t, "k1"))
	var mu sync.Mutex
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, k1)
	}))
	ctx, cancel := context.WithCancel(context.Background())
	f := newFollower()
	done := make(chan error, 1)
	src := jwks.Source{Key: srv.URL, URL: srv.URL, Refresh: 20 * time.Millisecond, Timeout: time.Second}
	go func() {
		done <- jwks.Run(ctx, []jwks.Source{src}, srv.Client(), slog.New(slog.NewTextHandler(io.Discard, nil)), f.publish)
	}()
	defer func() { cancel(); <-done }()

	f.await(t, src.Key, "first fetch", func(s jwks.State) bool { return s.JSON == k1 && s.Problem == "" })
	mu.Lock()
	status = http.StatusServiceUnavailable
	mu.Unlock()
	f.await(t, src.Key, "error status", func(s jwks.State) bool { return s.JSON == k1 && s.Problem != "" })
	mu.Lock()
	status = http.StatusOK
	mu.Unlock()
	f.await(t, src.Key, "recovered", func(s jwks.State) bool { return s.JSON == k1 && s.Problem == "" })
	srv.Close()
	st := f.await(t, src.Key, "server gone", func(s jwks.State) bool { return s.Problem != "" })
	if st.JSON != k1 {
		t.Errorf("after the outage the key set is %q, want the last good one", st.JSON)
	}

	// Never fetched: no keys, and the problem.
	got := jwks.Load(context.Background(), []jwks.Source{src}, http.DefaultClient)
	if got[src.Key].JSON != "" || got[src.Key].Problem == "" {
		t.Errorf("Load of a dead URL = %+v, want no keys and a problem", got[src.Key])
	}
}
