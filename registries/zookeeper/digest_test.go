package zookeeper

import (
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/rpcbridge/rpcbridge/internal/secret"
	zkpeer "github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
	"github.com/rpcbridge/rpcbridge/internal/yamltime"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/registrytest"
)

// TestDigestAuth: against a real ZooKeeper whose Dubbo tree has a digest ACL, a source without
// the digest reports ZooKeeper's auth error (and no providers), one with the digest, read from
// a file, lists the providers.
func TestDigestAuth(t *testing.T) {
	server := zkpeer.Start(t)
	w := newWriter(t, server.Addr())
	if err := w.conn.AddAuth("digest", []byte("rpcbridge:s3cret")); err != nil {
		t.Fatal(err)
	}
	acl := zk.DigestACL(zk.PermAll, "rpcbridge", "s3cret")
	dir := "/dubbo/" + greeter + "/providers"
	for _, p := range []string{"/dubbo", "/dubbo/" + greeter, dir} {
		if _, err := w.conn.Create(p, nil, 0, acl); err != nil {
			t.Fatalf("create %s: %v", p, err)
		}
	}
	if _, err := w.conn.Create(dir+"/"+url.QueryEscape(greeterURL("10.0.0.1:20880", "version=1.0.0&methods=sayHello")), nil, zk.FlagEphemeral, acl); err != nil {
		t.Fatal(err)
	}

	run := func(digest secret.Ref) *registrytest.Recorder {
		src, err := New("zk1", Config{Servers: []string{server.Addr()}, Debounce: yamltime.Duration(50 * time.Millisecond),
			SessionTimeout: yamltime.Duration(4 * time.Second), Digest: digest}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return registrytest.Run(t, src)
	}

	anon := run(secret.Ref{})
	snap := anon.WaitFor(t, "the auth error", func(s registries.Snapshot) bool {
		for _, d := range s.Diagnostics {
			if strings.Contains(d.Message, "not authenticated") {
				return true
			}
		}
		return false
	})
	if len(snap.Services) != 0 {
		t.Errorf("without the digest: services %s", registrytest.Dump(snap))
	}

	file := filepath.Join(t.TempDir(), "digest")
	if err := os.WriteFile(file, []byte("rpcbridge:s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	authed := run(secret.Ref{File: file})
	snap = authed.WaitFor(t, "the providers with the digest", func(s registries.Snapshot) bool {
		_, ok := registrytest.Service(s, "providers:com.foo.Greeter:1.0.0:")
		return s.Synced && ok
	})
	if svc, _ := registrytest.Service(snap, "providers:com.foo.Greeter:1.0.0:"); endpointSet(svc) != "10.0.0.1:20880" {
		t.Errorf("endpoints %s", endpointSet(svc))
	}
}

func TestDigestMustBeUserColonPassword(t *testing.T) {
	file := filepath.Join(t.TempDir(), "digest")
	if err := os.WriteFile(file, []byte("no-colon"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := New("zk1", Config{Servers: []string{"127.0.0.1:1"}, Digest: secret.Ref{File: file}}, nil)
	if err == nil || !strings.Contains(err.Error(), "not user:password") || strings.Contains(err.Error(), "no-colon") {
		t.Fatalf("New: %v", err)
	}
}
