package downstream

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const giveUp = 15 * time.Second

// syncBuffer is a log sink shared by the server's goroutines and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(giveUp)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s: %v", what, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAcceptRidesOutEMFILE runs out of file descriptors for real: clients connect, the
// process's open-file limit is lowered to what is open plus one, and a net/http server serves
// the Listener. Accept fails with EMFILE; the Listener must wait it out (not return the error,
// which ends net/http's Serve, nor spin) and log the burst once; once descriptors are available
// again every waiting client is served.
func TestAcceptRidesOutEMFILE(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	ln := NewListener(inner, ListenerOptions{Name: "test", Logger: slog.New(slog.NewTextHandler(logs, nil))})
	srv := NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }), Settings{}, false, nil)
	served := make(chan error, 1)
	defer func() {
		_ = srv.Close()
		if err := <-served; err != http.ErrServerClosed {
			t.Errorf("Serve ended with %v, want http.ErrServerClosed", err)
		}
	}()

	const clients = 6
	var conns []net.Conn
	for range clients {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(giveUp))
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}

	var limit syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &limit); err != nil {
		t.Fatal(err)
	}
	saved := limit
	restore := sync.OnceFunc(func() { _ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &saved) })
	defer restore()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count open files: %v", err)
	}
	limit.Cur = uint64(len(fds)) // ReadDir's own descriptor is closed again: one accept fits
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &limit); err != nil {
		t.Fatal(err)
	}
	go func() { served <- srv.Serve(ln) }()
	eventually(t, "accept to fail with EMFILE", func() error {
		if ln.AcceptErrors() == 0 {
			return fmt.Errorf("no accept error yet")
		}
		return nil
	})
	restore()

	for i, c := range conns {
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("client %d was not served after the burst: %v", i, err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Errorf("client %d: %d", i, resp.StatusCode)
		}
		resp.Body.Close()
	}
	out := logs.String()
	if n := strings.Count(out, "accepting connections failed"); n != 1 || !strings.Contains(out, "too many open files") {
		t.Errorf("logged %d warnings for one burst of EMFILE (want 1 naming the error):\n%s", n, out)
	}
}
