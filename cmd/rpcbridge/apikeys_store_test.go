package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/rpcbridge/rpcbridge/config"
	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/internal/bus"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
	"github.com/rpcbridge/rpcbridge/kvstore/local"
	kvzk "github.com/rpcbridge/rpcbridge/kvstore/zookeeper"
	"github.com/rpcbridge/rpcbridge/transcoding"
)

// TestServeAPIKeysInTheStore: `rpcbridge serve` on a real ZooKeeper store, with a policy whose
// keys are the store-held set "partners". Before the set exists its routes are withheld (503,
// policy.keys-unavailable). `rpcbridge apikeys push` stores it: a key of the set is 200 with
// its client, an unknown key 401; the store holds digests only (the entry read back with a
// client of its own); GET shows clients and key counts, never a digest. A push over a stale
// ETag is 412; a push with the right one rotates (the new key 200, which only the new set
// gives, then the old key 401). A hand edit that puts a plaintext key in the store is
// store.entry-unreadable and the last good set keeps serving; deleting the set withholds the
// routes again. A gateway of another node cluster (what an Envoy gets) has the route
// withheld. No key or digest is in serve's log or the admin API's routes and diagnostics.
func TestServeAPIKeysInTheStore(t *testing.T) {
	zk := zookeeper.Start(t)
	const root = "/rpcbridge/apikeys-test"
	srv := httptestEcho(t)
	logs := newSyncBuffer()
	r := startServeLogging(t, httpServiceConfig(srv, fmt.Sprintf(`policies:
  - name: partners
    services: [hello]
    apiKey:
      keys: {store: partners}
      from: [{header: x-api-key}]
      clientHeader: x-client-id
      hideCredentials: true
store:
  type: zookeeper
  zookeeper: {servers: [%q], root: %s}
`, zk.Addr(), root)), logs)
	other := startStandalone(t, "--xds", r.xds, "--node-cluster", "edge")
	admin := "http://" + r.admin
	call := func(gateway, key string) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+gateway+"/hello/x", nil)
		req.Header.Set("X-Api-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	diagnostics := func() string {
		_, body, err := get(admin + "/api/v1/diagnostics")
		if err != nil {
			t.Fatal(err)
		}
		return body
	}
	const oldKey, newKey, globexKey = "acme-old-key-0123456789", "acme-new-key-0123456789", "globex-key-0123456789"
	secrets := []string{oldKey, newKey, globexKey, digestHex(oldKey), digestHex(newKey), digestHex(globexKey)}

	if code, body := call(r.gateway, oldKey); code != 503 {
		t.Errorf("before the set is pushed: %d %q, want 503 (withheld)", code, body)
	}
	if d := diagnostics(); !strings.Contains(d, string(diag.PolicyKeysUnavailable)) || !strings.Contains(d, `key set \"partners\" is not in the store`) {
		t.Errorf("no policy.keys-unavailable for the missing set: %s", d)
	}

	keyFile := writeFile(t, t.TempDir(), "api-keys", "acme: "+oldKey+"\nglobex: sha256:"+digestHex(globexKey)+"\n")
	if code, out, stderr := runCLI(t, context.Background(), "apikeys", "push", "partners", keyFile, "--create", "--admin", admin); code != exitOK || !strings.Contains(out, "2 clients, 2 keys") {
		t.Fatalf("apikeys push: exit %d %s %s", code, out, stderr)
	}
	waitFor(t, "the pushed set", func() error {
		if code, body := call(r.gateway, oldKey); code != 200 || body != "client=acme key=" {
			return fmt.Errorf("with acme's key: %d %q, want 200 \"client=acme key=\"", code, body)
		}
		return nil
	})
	if code, body := call(r.gateway, globexKey); code != 200 || body != "client=globex key=" {
		t.Errorf("with globex's (hashed) key: %d %q", code, body)
	}
	for name, key := range map[string]string{"an unknown key": "unknown-key-0123456789", "a digest as the key": digestHex(oldKey)} {
		if code, body := call(r.gateway, key); code != 401 || body != "Client authentication failed." {
			t.Errorf("with %s: %d %q, want 401", name, code, body)
		}
	}
	waitFor(t, "the other node cluster's gateway withholds the route", func() error {
		if code, body := call(other.listen, oldKey); code != 503 || !strings.Contains(body, "hashed keys") {
			return fmt.Errorf("with acme's key: %d %q, want 503 withheld", code, body)
		}
		return nil
	})

	// What the store holds, read with a client of its own: digests only.
	kv, err := kvzk.Open(kvzk.Config{Servers: []string{zk.Addr()}, Root: root}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	raw, err := kv.Get(context.Background(), config.APIKeysPrefix+"partners")
	if err != nil {
		t.Fatal(err)
	}
	if want := "acme: sha256:" + digestHex(oldKey) + "\nglobex: sha256:" + digestHex(globexKey) + "\n"; string(raw.Value) != want {
		t.Errorf("the store holds %q, want %q", raw.Value, want)
	}
	if strings.Contains(string(raw.Value), oldKey) {
		t.Error("the store holds a plaintext key")
	}
	code, out, _ := runCLI(t, context.Background(), "apikeys", "get", "partners", "--admin", admin)
	if code != exitOK || !strings.Contains(out, "acme\t1 keys") || !strings.Contains(out, "globex\t1 keys") || !strings.Contains(out, fmt.Sprintf(`etag "%d"`, raw.Revision)) {
		t.Errorf("apikeys get: exit %d %q", code, out)
	}
	_, body, _ := get(admin + "/api/v1/apikeys/partners")
	_, list, _ := get(admin + "/api/v1/apikeys")
	for _, s := range append(secrets, "sha256") {
		if strings.Contains(out+body+list, s) {
			t.Errorf("apikeys get or the admin API shows a key or a digest: %s %s %s", out, body, list)
		}
	}

	// Rotation: compare-and-set over the ETag that get printed.
	rotated := writeFile(t, t.TempDir(), "api-keys", "acme: "+newKey+"\nglobex: sha256:"+digestHex(globexKey)+"\n")
	if code, out, stderr := runCLI(t, context.Background(), "apikeys", "push", "partners", rotated, "--if-match", `"1"`, "--admin", admin); code == exitOK || !strings.Contains(out+stderr, "412") {
		t.Errorf("push over a stale ETag: exit %d %s %s, want 412", code, out, stderr)
	}
	if code, out, stderr := runCLI(t, context.Background(), "apikeys", "push", "partners", rotated, "--if-match", fmt.Sprintf(`"%d"`, raw.Revision), "--admin", admin); code != exitOK {
		t.Fatalf("rotating push: exit %d %s %s", code, out, stderr)
	}
	waitFor(t, "the rotated set", func() error {
		if code, body := call(r.gateway, newKey); code != 200 || body != "client=acme key=" {
			return fmt.Errorf("with the new key: %d %q", code, body)
		}
		return nil
	})
	if code, _ := call(r.gateway, oldKey); code != 401 {
		t.Errorf("the old key after rotation: %d, want 401", code)
	}

	// A hand edit in the store with a plaintext key: diagnosed, the last good set kept.
	cur, err := kv.Get(context.Background(), config.APIKeysPrefix+"partners")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(context.Background(), config.APIKeysPrefix+"partners", []byte("acme: "+oldKey+"\n"), cur.Revision); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the corrupt entry diagnosed", func() error {
		if d := diagnostics(); !strings.Contains(d, string(diag.StoreEntryUnreadable)) || !strings.Contains(d, "the last good set keeps serving") {
			return fmt.Errorf("no store.entry-unreadable: %s", d)
		}
		return nil
	})
	if code, _ := call(r.gateway, newKey); code != 200 {
		t.Errorf("the last good set's key after the corrupt write: %d, want 200", code)
	}
	if code, _ := call(r.gateway, oldKey); code != 401 {
		t.Errorf("the corrupt entry's plaintext key: %d, want 401", code)
	}

	// Deleted: the routes are withheld again.
	if code, out, stderr := runCLI(t, context.Background(), "apikeys", "delete", "partners", "--admin", admin); code != exitOK {
		t.Fatalf("apikeys delete: exit %d %s %s", code, out, stderr)
	}
	waitFor(t, "the routes withheld without the set", func() error {
		if code, body := call(r.gateway, newKey); code != 503 {
			return fmt.Errorf("with the new key: %d %q, want 503", code, body)
		}
		return nil
	})

	for _, path := range []string{"/api/v1/routes", "/api/v1/diagnostics"} {
		_, body, err := get(admin + path)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if strings.Contains(body, s) {
				t.Errorf("%s shows a key or a digest", path)
			}
		}
	}
	for name, l := range map[string]string{"serve": logs.String(), "gateway": other.stderr.String()} {
		for _, s := range secrets {
			if strings.Contains(l, s) {
				t.Errorf("%s's log shows a key or a digest", name)
			}
		}
	}
}

// digestHex is the hex SHA-256 of key.
func digestHex(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// TestFollowAPIKeysKeepsTheLastGoodSet: on the local store, a set that is not digests only (a
// plaintext key, a malformed line) keeps the last good set with store.entry-unreadable; a key
// that is not a set name is stray; a deleted set is gone; a corrupt first write gives no set.
func TestFollowAPIKeysKeepsTheLastGoodSet(t *testing.T) {
	kv, err := local.Open(local.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	topic := bus.NewTopic[apiKeysState](nil)
	done := make(chan error, 1)
	go func() { done <- followAPIKeys(ctx, kv, topic, slog.New(slog.DiscardHandler)) }()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("followAPIKeys: %v", err)
		}
	}()
	wait := func(what string, ok func(apiKeysState) bool) {
		t.Helper()
		waitFor(t, what, func() error {
			if st, _ := topic.Latest(); !ok(st) {
				return fmt.Errorf("%+v", st)
			}
			return nil
		})
	}
	codes := func(st apiKeysState) map[diag.Code]int {
		out := map[diag.Code]int{}
		for _, d := range st.Diagnostics {
			out[d.Code]++
		}
		return out
	}
	good, err := transcoding.HashAPIKeys("acme: acme-key-0123456789\n")
	if err != nil {
		t.Fatal(err)
	}
	rev, err := kv.Put(ctx, config.APIKeysPrefix+"partners", []byte(good), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, config.APIKeysPrefix+"broken", []byte("acme: plaintext-key-0123456789\n"), 0); err != nil {
		t.Fatal(err)
	}
	wait("the good set, and none for the corrupt one", func(st apiKeysState) bool {
		_, broken := st.Sets["broken"]
		return st.Sets["partners"] == good && !broken && codes(st)[diag.StoreEntryUnreadable] == 1
	})
	if _, err := kv.Put(ctx, config.APIKeysPrefix+"partners", []byte("acme sha256:nothex\n"), rev); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, config.APIKeysPrefix+"Not_A_Name", []byte(good), 0); err != nil {
		t.Fatal(err)
	}
	wait("the last good set kept, the stray key ignored", func(st apiKeysState) bool {
		c := codes(st)
		return st.Sets["partners"] == good && c[diag.StoreEntryUnreadable] == 2 && c[diag.StoreStray] == 1 && len(st.Sets) == 1
	})
	e, err := kv.Get(ctx, config.APIKeysPrefix+"partners")
	if err != nil {
		t.Fatal(err)
	}
	if err := kv.Delete(ctx, config.APIKeysPrefix+"partners", e.Revision); err != nil {
		t.Fatal(err)
	}
	wait("the deleted set gone", func(st apiKeysState) bool { _, ok := st.Sets["partners"]; return !ok && len(st.Sets) == 0 })
}
