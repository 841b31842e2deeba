// Package consul runs a real Consul agent for tests: "consul agent -dev" (a single in-memory
// server, its own leader) on free 127.0.0.1 ports, which tests can stop and restart on the same
// ports. Dev mode keeps nothing across a restart: registrations are lost.
//
// The binary is built by scripts/consul-agent.sh from the module in ./agent (Consul ≥ 1.15.8 is
// BUSL-1.1 licensed: it is a test fixture, never shipped). It is found at $RPCBRIDGE_CONSUL_BIN,
// else at the script's cache path.
package consul

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/internal/testpeers/peerproc"
)

// Version is the Consul release scripts/consul-agent.sh builds.
const Version = "v1.20.1"

// Datacenter and Node are the agent's datacenter and node names.
const (
	Datacenter = "dc1"
	Node       = "node1"
)

const (
	startTimeout  = 60 * time.Second
	startAttempts = 3
)

// Agent is one running (or stopped) Consul dev agent.
type Agent struct {
	t     testing.TB
	bin   string
	dir   string
	opts  Options
	ports ports
	proc  *peerproc.Process // nil while stopped
}

type ports struct{ http, https, server, serfLAN, serfWAN int }

// Options secure an agent.
type Options struct {
	// ACLToken turns ACLs on, denying by default, with this initial management token.
	ACLToken string
	// TLS serves HTTPS on HTTPSAddr as well, with the given CA and server certificate, and
	// requires clients there to present a certificate signed by the CA.
	TLS *TLS
}

// TLS is the agent's certificate authority and certificate, as PEM files.
type TLS struct {
	CAFile, CertFile, KeyFile string
}

// Start runs a Consul dev agent for the test and stops it when the test ends. It skips the test
// when the agent binary has not been built, unless RPCBRIDGE_REQUIRE_PEERS=1, which makes that a
// failure.
func Start(t testing.TB) *Agent {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith is Start with ACLs or TLS on.
func StartWith(t testing.TB, opts Options) *Agent {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("RPCBRIDGE_REQUIRE_PEERS") == "1" {
			t.Fatalf("consul agent not built (%v); run scripts/consul-agent.sh", err)
		}
		t.Skip("consul agent not built; run scripts/consul-agent.sh")
	}
	a := &Agent{t: t, bin: bin, dir: t.TempDir(), opts: opts}
	t.Cleanup(a.Stop)
	// Another process may take a free port before the agent binds it: try fresh ports then.
	for attempt := 1; ; attempt++ {
		a.ports = ports{http: peerproc.FreePort(t), server: peerproc.FreePort(t), serfLAN: peerproc.FreePort(t), serfWAN: peerproc.FreePort(t)}
		if opts.TLS != nil {
			a.ports.https = peerproc.FreePort(t)
		}
		err := a.start()
		if err == nil {
			return a
		}
		if attempt == startAttempts || !strings.Contains(err.Error(), "address already in use") {
			t.Fatal(err)
		}
		t.Logf("consul start attempt %d: port clash; trying other ports", attempt)
	}
}

// Binary is the path of the agent binary: $RPCBRIDGE_CONSUL_BIN, else the cache path of
// scripts/consul-agent.sh. It fails when no file is there.
func Binary() (string, error) {
	path := os.Getenv("RPCBRIDGE_CONSUL_BIN")
	if path == "" {
		cache := os.Getenv("RPCBRIDGE_CACHE")
		if cache == "" {
			base, err := os.UserCacheDir()
			if err != nil {
				return "", fmt.Errorf("consul binary: %w", err)
			}
			cache = filepath.Join(base, "rpcbridge")
		}
		path = filepath.Join(cache, "consul-"+Version, "consul")
	}
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("consul binary: %w", err)
	}
	return path, nil
}

// Addr is the agent's HTTP API "127.0.0.1:port"; it stays the same across Restart.
func (a *Agent) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(a.ports.http)) }

// HTTPSAddr is the agent's HTTPS API "127.0.0.1:port" when it serves TLS.
func (a *Agent) HTTPSAddr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(a.ports.https)) }

// Stop kills the agent (as a crash would) and waits for it to exit. Stopping a stopped agent
// does nothing.
func (a *Agent) Stop() {
	if a.proc == nil {
		return
	}
	a.proc.Kill()
	a.proc = nil
}

// Restart stops the agent if it runs and starts it again on the same ports. In dev mode the new
// agent starts empty: every registration must be made again.
func (a *Agent) Restart() {
	a.t.Helper()
	a.Stop()
	if err := a.start(); err != nil {
		a.t.Fatal(err)
	}
}

func (a *Agent) logPath() string { return filepath.Join(a.dir, "agent.log") }

// start runs the agent and waits for it to have a leader.
func (a *Agent) start() error {
	p := a.ports
	args := []string{"agent", "-dev", "-log-level=info",
		"-node=" + Node, "-datacenter=" + Datacenter,
		"-client=127.0.0.1", "-bind=127.0.0.1",
		"-http-port=" + strconv.Itoa(p.http), "-server-port=" + strconv.Itoa(p.server),
		"-serf-lan-port=" + strconv.Itoa(p.serfLAN), "-serf-wan-port=" + strconv.Itoa(p.serfWAN),
		"-dns-port=-1", "-grpc-port=-1", "-grpc-tls-port=-1"}
	if a.opts.ACLToken != "" {
		args = append(args, "-hcl", fmt.Sprintf(`acl { enabled = true default_policy = "deny" tokens { initial_management = %q } }`,
			a.opts.ACLToken))
	}
	if tl := a.opts.TLS; tl != nil {
		args = append(args, "-https-port="+strconv.Itoa(p.https), "-hcl",
			fmt.Sprintf(`tls { defaults { ca_file = %q cert_file = %q key_file = %q } https { verify_incoming = true } }`,
				tl.CAFile, tl.CertFile, tl.KeyFile))
	} else {
		args = append(args, "-https-port=-1")
	}
	cmd := exec.Command(a.bin, args...)
	proc, err := peerproc.Start(cmd, a.logPath(), "consul (leader)", startTimeout, func() bool {
		leader, _ := a.leader()
		return leader != ""
	})
	if err != nil {
		return err
	}
	a.proc = proc
	return nil
}

// leader asks /v1/status/leader; an empty answer means there is no leader yet.
func (a *Agent) leader() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+a.Addr()+"/v1/status/leader", nil)
	if err != nil {
		return "", err
	}
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("leader: status %d: %v", resp.StatusCode, err)
	}
	return strings.Trim(strings.TrimSpace(string(body)), `"`), nil
}
