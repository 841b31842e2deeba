package discovery

import (
	"context"
	"io"
	"log"
	"log/slog"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
)

// TestMetadataCenterDigest: against a real ZooKeeper whose metadata tree has a digest ACL, the
// metadata center reads the definitions with the digest (and a client without it cannot).
func TestMetadataCenterDigest(t *testing.T) {
	server := zookeeper.Start(t)
	conn, _, err := zk.Connect([]string{server.Addr()}, 10*time.Second, zk.WithLogger(log.New(io.Discard, "", 0)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.AddAuth("digest", []byte("meta:s3cret")); err != nil {
		t.Fatal(err)
	}
	acl := zk.DigestACL(zk.PermAll, "meta", "s3cret")
	const def = "/dubbo/metadata/com.example.user.UserService/provider/user-provider"
	for _, p := range []string{"/dubbo", "/dubbo/metadata", "/dubbo/metadata/com.example.user.UserService",
		"/dubbo/metadata/com.example.user.UserService/provider"} {
		if _, err := conn.Create(p, nil, 0, acl); err != nil {
			t.Fatalf("create %s: %v", p, err)
		}
	}
	if _, err := conn.Create(def, definition(t, "", "", false), 0, acl); err != nil {
		t.Fatal(err)
	}
	anon, _, err := zk.Connect([]string{server.Addr()}, 10*time.Second, zk.WithLogger(log.New(io.Discard, "", 0)))
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close()
	if _, _, err := anon.Children("/dubbo/metadata"); err != zk.ErrNoAuth {
		t.Fatalf("an anonymous read of the protected tree: %v, want %v", err, zk.ErrNoAuth)
	}

	mc, err := NewMetadataCenter(MetadataCenterOptions{Servers: []string{server.Addr()}, Digest: "meta:s3cret",
		Logger: slog.New(slog.DiscardHandler), Resync: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	out := newPublished(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mc.Run(ctx, out.publish) }()
	defer func() { cancel(); <-done }()
	var got []idl.Schema
	waitFor(t, "the protected definitions", func() bool { got, _ = out.Latest(); return len(got) > 0 })
	if _, ok := schemaNamed(got, "metadata-com.example.user.userservice"); !ok {
		t.Fatalf("schemas %v", names(got))
	}
}
