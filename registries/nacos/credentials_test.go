package nacos

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rpcbridge/rpcbridge/internal/secret"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/nacosdouble"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/registrytest"
)

// TestUsernamePasswordFromSecrets: against the Nacos protocol double with auth on (it checks
// the SDK's login over HTTP and the access token on every gRPC request, as Nacos's
// RemoteRequestAuthFilter does; not a Nacos server, whose auth plugin and token expiry it does
// not have), the username read from an environment variable and the password from a file
// log in and the providers are listed.
func TestUsernamePasswordFromSecrets(t *testing.T) {
	d := nacosdouble.Start(t)
	d.RequireAuth("rpcbridge", "s3cret-pass")
	d.Register("", "", "providers:com.foo.Greeter:1.0.0:",
		nacosdouble.NewInstance("10.0.0.1", 20880, dubboProvider("com.foo.Greeter", "1.0.0", "", "dubbo")))
	file := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(file, []byte("s3cret-pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("RPCBRIDGE_TEST_NACOS_USER", "rpcbridge")
	rec := startSource(t, d, Config{Username: secret.Ref{Env: "RPCBRIDGE_TEST_NACOS_USER"}, Password: secret.Ref{File: file}})
	rec.WaitFor(t, "the provider behind auth", func(s registries.Snapshot) bool {
		_, ok := registrytest.Service(s, "providers:com.foo.Greeter:1.0.0:")
		return s.Synced && ok
	})
}

func TestUnreadablePasswordFailsAtStart(t *testing.T) {
	_, err := New("n", Config{Servers: []string{"127.0.0.1:8848"}, Username: secret.Ref{Env: "RPCBRIDGE_TEST_NACOS_USER2"},
		Password: secret.Ref{File: filepath.Join(t.TempDir(), "missing")}}, nil)
	if err == nil {
		t.Fatal("New with an unset username variable and a missing password file: no error")
	}
}
