package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/rpcbridge/rpcbridge/internal/testpeers/peerproc"
)

// replicaConfigEnv names the configuration file TestReplicaProcess serves.
const replicaConfigEnv = "RPCBRIDGE_TEST_REPLICA_CONFIG"

// TestReplicaProcess is not a test: it is `rpcbridge serve` in a process of its own, which
// startReplica starts by running this test binary again, so that a replica can be killed as a
// crash kills a process (its connections drop at once). Run directly, it skips.
func TestReplicaProcess(t *testing.T) {
	file := os.Getenv(replicaConfigEnv)
	if file == "" {
		t.Skip("a helper process of the fleet tests, started by startReplica")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, []string{"serve", "--config", file, "--log-level", "debug"}, os.Stdout, os.Stderr))
}

// replica is one `rpcbridge serve` control-plane replica in a process of its own; its embedded
// gateway is off. Its configuration file and data directory survive a kill, so it can start
// again as the same replica.
type replica struct {
	t           testing.TB
	name        string
	xds, admin  string
	file, data  string
	log         string
	proc        *peerproc.Process
	cfgTemplate string
}

// startReplica writes the replica's configuration (rpcbridge.yaml without the listen addresses
// and data directory, which it adds) and starts it.
func startReplica(t testing.TB, name, cfgTemplate string) *replica {
	t.Helper()
	dir := t.TempDir()
	r := &replica{t: t, name: name, xds: freeAddr(t), admin: freeAddr(t), data: filepath.Join(dir, "data"),
		file: filepath.Join(dir, "rpcbridge.yaml"), log: filepath.Join(dir, "serve.log")}
	r.rewrite(cfgTemplate)
	r.start()
	t.Cleanup(func() {
		if r.proc != nil {
			r.proc.Kill()
			if t.Failed() {
				t.Logf("replica %s log:\n%s", r.name, peerproc.LogTail(r.log))
			}
		}
	})
	return r
}

// rewrite replaces the configuration file as an editor does (temp file, rename).
func (r *replica) rewrite(cfgTemplate string) {
	r.t.Helper()
	r.cfgTemplate = cfgTemplate
	body := fmt.Sprintf("xds: {listen: %q}\ngateway: {enabled: false}\nadmin: {listen: %q}\ndataDir: %q\n", r.xds, r.admin, r.data) + cfgTemplate
	if err := os.WriteFile(r.file+".tmp", []byte(body), 0o644); err != nil {
		r.t.Fatal(err)
	}
	if err := os.Rename(r.file+".tmp", r.file); err != nil {
		r.t.Fatal(err)
	}
}

// start runs the replica and waits until its admin API answers (not for readiness: that needs
// the IDL that the test pushes).
func (r *replica) start() {
	r.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestReplicaProcess$")
	cmd.Env = append(os.Environ(), replicaConfigEnv+"="+r.file)
	p, err := peerproc.Start(cmd, r.log, "replica "+r.name, giveUp, func() bool {
		code, _, err := get("http://" + r.admin + "/healthz")
		return err == nil && code == http.StatusOK
	})
	if err != nil {
		r.t.Fatal(err)
	}
	r.proc = p
}

// kill kills the replica as a crash would.
func (r *replica) kill() {
	r.t.Helper()
	r.proc.Kill()
	r.proc = nil
}

// syncBuffer is a buffer that a command writes (through lockedWriter's lock) while the test
// reads it.
type syncBuffer struct {
	lockedWriter
	buf bytes.Buffer
}

func newSyncBuffer() *syncBuffer {
	b := &syncBuffer{}
	b.w = &b.buf
	return b
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// standalone is an `rpcbridge gateway` run in-process by a test.
type standalone struct {
	listen, admin string
	stderr        *syncBuffer
	cancel        context.CancelFunc
	done          chan int
}

// startStandalone runs `rpcbridge gateway` with the given extra arguments until the test ends
// (or stop), and waits until its admin listener answers.
func startStandalone(t *testing.T, args ...string) *standalone {
	t.Helper()
	s := &standalone{listen: freeAddr(t), admin: freeAddr(t), stderr: newSyncBuffer(), done: make(chan int, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	args = append([]string{"gateway", "--listen", s.listen, "--admin", s.admin, "--log-level", "debug"}, args...)
	go func() { s.done <- run(ctx, args, &bytes.Buffer{}, s.stderr) }()
	t.Cleanup(func() {
		if s.stop() != exitOK || t.Failed() {
			t.Logf("gateway log:\n%s", s.stderr.String())
		}
	})
	waitFor(t, "the gateway's admin listener", func() error {
		_, _, err := get("http://" + s.admin + "/healthz")
		return err
	})
	return s
}

// stop ends the gateway (once) and returns its exit code.
func (s *standalone) stop() int {
	s.cancel()
	code := <-s.done
	s.done <- code
	return code
}

// metric returns the value of one series of the gateway's /metrics, e.g.
// `rpcbridge_gateway_xds_connected{server="127.0.0.1:1"}`; a missing series is an error.
func (s *standalone) metric(series string) (float64, error) {
	code, body, err := get("http://" + s.admin + "/metrics")
	if err != nil || code != http.StatusOK {
		return 0, fmt.Errorf("metrics: %d %v", code, err)
	}
	for line := range strings.Lines(body) {
		if value, ok := strings.CutPrefix(strings.TrimSpace(line), series+" "); ok {
			return strconv.ParseFloat(value, 64)
		}
	}
	return 0, fmt.Errorf("no series %s in /metrics", series)
}

// metrics returns every series whose name starts with prefix, as series → value text.
func (s *standalone) metrics(prefix string) (map[string]string, error) {
	code, body, err := get("http://" + s.admin + "/metrics")
	if err != nil || code != http.StatusOK {
		return nil, fmt.Errorf("metrics: %d %v", code, err)
	}
	out := map[string]string{}
	for line := range strings.Lines(body) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, prefix) {
			if i := strings.LastIndexByte(line, ' '); i > 0 {
				out[line[:i]] = line[i+1:]
			}
		}
	}
	return out, nil
}

// connectedTo checks that the gateway follows the replica at xds and no other of servers.
func (s *standalone) connectedTo(xds string, servers ...string) func() error {
	return func() error {
		for _, server := range servers {
			want := 0.0
			if server == xds {
				want = 1
			}
			series := fmt.Sprintf("rpcbridge_gateway_xds_connected{server=%q}", server)
			if got, err := s.metric(series); err != nil || got != want {
				return fmt.Errorf("%s = %v (%v), want %v", series, got, err, want)
			}
		}
		return nil
	}
}
