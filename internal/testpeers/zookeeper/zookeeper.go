// Package zookeeper runs a real ZooKeeper server (Debian's zookeeper package) for tests: a
// standalone ZooKeeperServerMain with a temporary data directory on a free 127.0.0.1 port, which
// tests can stop, restart on the same port and data, and whose client sessions they can expire.
package zookeeper

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/internal/testpeers/peerproc"
)

// Jar is the ZooKeeper server jar that Debian's zookeeper package installs. Its manifest's
// Class-Path names the other jars it needs (the same classpath zkEnv.sh builds).
const Jar = "/usr/share/java/zookeeper.jar"

// slf4jBinding makes the server log to stderr (Debian's jar logs nothing without a binding).
const slf4jBinding = "/usr/share/java/slf4j-simple.jar"

// TickTime is the server's tick; sessions may last from 2 to 20 ticks (1 s to 10 s).
const TickTime = 500 * time.Millisecond

const startTimeout = 30 * time.Second

// defaultHeapMiB is the server's Java heap unless StartWithHeap says otherwise.
const defaultHeapMiB = 256

// Server is one running (or stopped) ZooKeeper server.
type Server struct {
	t       testing.TB
	dir     string
	port    int
	heapMiB int
	proc    *peerproc.Process // nil while stopped
}

// Start runs a ZooKeeper server for the test and stops it when the test ends. It skips the test
// when ZooKeeper is not installed, unless RPCBRIDGE_REQUIRE_PEERS=1, which makes that a failure.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWithHeap(t, defaultHeapMiB)
}

// StartWithHeap is Start with a Java heap of heapMiB MiB, for tests that hold more nodes than
// the default 256 MiB can (500,000 provider nodes need about 1 GiB).
func StartWithHeap(t testing.TB, heapMiB int) *Server {
	t.Helper()
	if _, err := os.Stat(Jar); err != nil {
		if os.Getenv("RPCBRIDGE_REQUIRE_PEERS") == "1" {
			t.Fatalf("zookeeper not installed (%v); run scripts/test-deps.sh", err)
		}
		t.Skip("zookeeper not installed; run scripts/test-deps.sh")
	}
	s := &Server{t: t, dir: t.TempDir(), heapMiB: heapMiB}
	t.Cleanup(s.Stop)
	// A free port can be taken by another test process between FreePort and the JVM's bind
	// (packages run in parallel): then ZooKeeper exits with a BindException, and a new port is
	// tried.
	for attempt := 1; ; attempt++ {
		s.port = peerproc.FreePort(t)
		cfg := fmt.Sprintf("tickTime=%d\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"+
			"admin.enableServer=false\n4lw.commands.whitelist=*\nmaxClientCnxns=0\n",
			TickTime.Milliseconds(), filepath.Join(s.dir, "data"), s.port)
		if err := os.WriteFile(s.cfgPath(), []byte(cfg), 0o644); err != nil {
			t.Fatalf("zookeeper config: %v", err)
		}
		err := s.tryStart()
		if err == nil {
			return s
		}
		if attempt == 3 || !strings.Contains(err.Error(), "BindException") {
			t.Fatal(err)
		}
		t.Logf("zookeeper: port %d was taken before it bound; trying another", s.port)
	}
}

// Addr is the server's "127.0.0.1:port" client address; it stays the same across Restart.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Stop kills the server (as a crash would) and waits for it to exit. Stopping a stopped server
// does nothing.
func (s *Server) Stop() {
	if s.proc == nil {
		return
	}
	s.proc.Kill()
	s.proc = nil
}

// Restart stops the server if it runs and starts it again on the same port and data directory,
// so that sessions and persistent nodes survive.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

func (s *Server) cfgPath() string { return filepath.Join(s.dir, "zoo.cfg") }
func (s *Server) logPath() string { return filepath.Join(s.dir, "server.log") }

func (s *Server) start() {
	s.t.Helper()
	if err := s.tryStart(); err != nil {
		s.t.Fatal(err)
	}
}

// tryStart runs the server on s.port and waits until it serves.
func (s *Server) tryStart() error {
	cmd := exec.Command("java", fmt.Sprintf("-Xmx%dm", s.heapMiB), "-cp", Jar+":"+slf4jBinding,
		"org.apache.zookeeper.server.ZooKeeperServerMain", s.cfgPath())
	proc, err := peerproc.Start(cmd, s.logPath(), "zookeeper (ruok)", startTimeout, s.serving)
	if err != nil {
		return err
	}
	s.proc = proc
	return nil
}

// serving reports whether the server answers ruok with imok and serves requests: ruok answers
// before the server accepts sessions, srvr says so once it does.
func (s *Server) serving() bool {
	if reply, err := FourLetterWord(s.Addr(), "ruok"); err != nil || reply != "imok" {
		return false
	}
	reply, err := FourLetterWord(s.Addr(), "srvr")
	return err == nil && strings.Contains(reply, "Mode: ")
}

// FourLetterWord sends a four-letter command ("ruok", "mntr", ...) to addr and returns the reply.
func FourLetterWord(addr, cmd string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := conn.Write([]byte(cmd)); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(conn); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		return buf.String(), err
	}
	return buf.String(), nil
}
