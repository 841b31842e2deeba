package consul

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/rpcbridge/rpcbridge/internal/secret"
	consulpeer "github.com/rpcbridge/rpcbridge/internal/testpeers/consul"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/testpki"
	"github.com/rpcbridge/rpcbridge/kvstore"
)

// TestACLToken runs against an agent whose ACLs deny by default: the store works with the
// management token read from a file, and is unavailable (403 wrapped) without it.
func TestACLToken(t *testing.T) {
	const token = "6c1e5d2a-0000-4000-8000-00000000acl1"
	agent := consulpeer.StartWith(t, consulpeer.Options{ACLToken: token})
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := open(t, Config{Address: agent.Addr(), Token: secret.Ref{File: file}})
	if _, err := s.Put(context.Background(), "idl/x", []byte("v"), 0); err != nil {
		t.Fatalf("Put with the token: %v", err)
	}
	t.Setenv("CONSUL_HTTP_TOKEN", "") // the client library would read it otherwise
	anon := open(t, Config{Address: agent.Addr()})
	_, err := anon.Get(context.Background(), "idl/x")
	if !errors.Is(err, kvstore.ErrUnavailable) {
		t.Fatalf("Get without a token: %v, want ErrUnavailable", err)
	}
	t.Logf("without a token: %v", err)
}

// TestTLS runs against an agent that serves HTTPS and verifies client certificates: the store
// works with the CA and a client certificate, and is unavailable without the certificate.
func TestTLS(t *testing.T) {
	ca := testpki.New(t)
	server := ca.Server(t, "consul", "127.0.0.1", "localhost", "server.dc1.consul")
	agent := consulpeer.StartWith(t, consulpeer.Options{TLS: &consulpeer.TLS{CAFile: ca.CAFile,
		CertFile: server.CertFile, KeyFile: server.KeyFile}})
	client := ca.Client(t, "rpcbridge")
	s := open(t, Config{Address: agent.HTTPSAddr(), Scheme: "https",
		TLS: TLSConfig{CAFile: ca.CAFile, CertFile: client.CertFile, KeyFile: client.KeyFile}})
	r, err := s.Put(context.Background(), "idl/x", []byte("over tls"), 0)
	if err != nil {
		t.Fatalf("Put over TLS: %v", err)
	}
	if e, err := s.Get(context.Background(), "idl/x"); err != nil || e.Revision != r || string(e.Value) != "over tls" {
		t.Fatalf("Get over TLS: %+v, %v", e, err)
	}
	noCert := open(t, Config{Address: agent.HTTPSAddr(), Scheme: "https", TLS: TLSConfig{CAFile: ca.CAFile}})
	if _, err := noCert.Get(context.Background(), "idl/x"); !errors.Is(err, kvstore.ErrUnavailable) {
		t.Fatalf("Get without a client certificate: %v, want ErrUnavailable", err)
	}
	untrusted := open(t, Config{Address: agent.HTTPSAddr(), Scheme: "https",
		TLS: TLSConfig{CertFile: client.CertFile, KeyFile: client.KeyFile}})
	if _, err := untrusted.Get(context.Background(), "idl/x"); !errors.Is(err, kvstore.ErrUnavailable) {
		t.Fatalf("Get without the CA: %v, want ErrUnavailable", err)
	}
}
