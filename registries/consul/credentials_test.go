package consul

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/rpcbridge/rpcbridge/internal/secret"
	consulpeer "github.com/rpcbridge/rpcbridge/internal/testpeers/consul"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/testpki"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/registrytest"
)

// TestACLToken runs against a real agent whose ACLs deny by default: with the management token
// read from a file the registry lists the services; without it it lists nothing.
func TestACLToken(t *testing.T) {
	const token = "6c1e5d2a-0000-4000-8000-0000000reg01"
	agent := consulpeer.StartWith(t, consulpeer.Options{ACLToken: token})
	c, err := api.NewClient(&api.Config{Address: agent.Addr(), Scheme: "http", Token: token})
	if err != nil {
		t.Fatal(err)
	}
	register(t, c, &api.AgentServiceRegistration{ID: "web-1", Name: "web", Port: 8080, Address: "10.0.0.1"})
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	withToken := runSourceWith(t, Config{Address: agent.Addr(), Token: secret.Ref{File: file}})
	withToken.WaitFor(t, "web with the token", func(s registries.Snapshot) bool {
		_, ok := registrytest.Service(s, "web")
		return s.Synced && ok
	})

	t.Setenv("CONSUL_HTTP_TOKEN", "") // the client library would read it otherwise
	anon := runSourceWith(t, Config{Address: agent.Addr()})
	// Consul answers an anonymous catalog read under default deny with an empty, filtered list
	// (X-Consul-Results-Filtered-By-ACLs), not an error: the registry is synced and empty.
	snap := anon.WaitFor(t, "the anonymous listing", func(s registries.Snapshot) bool { return s.Synced })
	if _, ok := registrytest.Service(snap, "web"); ok || len(snap.Services) != 0 {
		t.Errorf("services listed without a token: %s", registrytest.Dump(snap))
	}
}

// TestTLS runs against a real agent that serves HTTPS and verifies client certificates: with
// the CA and a client certificate the registry lists the services.
func TestTLS(t *testing.T) {
	ca := testpki.New(t)
	server := ca.Server(t, "consul", "127.0.0.1", "localhost", "server.dc1.consul")
	agent := consulpeer.StartWith(t, consulpeer.Options{TLS: &consulpeer.TLS{CAFile: ca.CAFile,
		CertFile: server.CertFile, KeyFile: server.KeyFile}})
	register(t, agentClient(t, agent.Addr()), &api.AgentServiceRegistration{ID: "web-1", Name: "web", Port: 8080, Address: "10.0.0.1"})
	client := ca.Client(t, "rpcbridge")
	rec := runSourceWith(t, Config{Address: agent.HTTPSAddr(), Scheme: "https",
		TLS: TLSConfig{CAFile: ca.CAFile, CertFile: client.CertFile, KeyFile: client.KeyFile, ServerName: "localhost"}})
	rec.WaitFor(t, "web over TLS", func(s registries.Snapshot) bool {
		_, ok := registrytest.Service(s, "web")
		return s.Synced && ok
	})
	noCert := runSourceWith(t, Config{Address: agent.HTTPSAddr(), Scheme: "https", TLS: TLSConfig{CAFile: ca.CAFile}})
	noCert.WaitFor(t, "the TLS error without a client certificate", func(s registries.Snapshot) bool {
		return len(s.Diagnostics) > 0 && len(s.Services) == 0
	})
}

func TestCredentialConfig(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{TLS: TLSConfig{CAFile: "ca.pem"}}, "set scheme: https"},
		{Config{Scheme: "https", TLS: TLSConfig{CertFile: "c.pem"}}, "go together"},
		{Config{Token: secret.Ref{File: "/a", Env: "B"}}, "token: set file or env, not both"},
	} {
		if err := c.cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
	if _, err := New("c1", Config{Token: secret.Ref{Env: "RPCBRIDGE_TEST_UNSET_TOKEN"}}, nil); err == nil ||
		!strings.Contains(err.Error(), "RPCBRIDGE_TEST_UNSET_TOKEN is not set") {
		t.Errorf("New with an unset token variable: %v", err)
	}
}
