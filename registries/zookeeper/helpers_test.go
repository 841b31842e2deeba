package zookeeper

import (
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/registrytest"

	"github.com/rpcbridge/rpcbridge/internal/yamltime"
)

// giveUp bounds every wait; tests never assert on durations.
const giveUp = 20 * time.Second

// writer writes nodes into ZooKeeper the way Dubbo providers do.
type writer struct {
	t    testing.TB
	conn *zk.Conn
}

func newWriter(t testing.TB, addr string) *writer {
	t.Helper()
	conn, _, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogger(log.New(io.Discard, "", 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	return &writer{t: t, conn: conn}
}

// retry runs op until it succeeds or fails with an error other than a lost connection, within
// giveUp: after a server restart the writer's own reconnect can take a while under load.
func (w *writer) retry(op func() error) error {
	deadline := time.Now().Add(giveUp)
	for {
		err := op()
		transient := errors.Is(err, zk.ErrNoServer) || errors.Is(err, zk.ErrConnectionClosed) || errors.Is(err, zk.ErrSessionMoved)
		if !transient || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ensure creates path and its parents as persistent nodes.
func (w *writer) ensure(path string) {
	w.t.Helper()
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i := range parts {
		p := "/" + strings.Join(parts[:i+1], "/")
		err := w.retry(func() error { _, err := w.conn.Create(p, nil, 0, zk.WorldACL(zk.PermAll)); return err })
		if err != nil && !errors.Is(err, zk.ErrNodeExists) {
			w.t.Fatalf("create %s: %v", p, err)
		}
	}
}

// provider registers rawURL as an ephemeral provider node of iface and returns its path.
func (w *writer) provider(iface, rawURL string) string {
	w.t.Helper()
	dir := "/dubbo/" + iface + "/providers"
	w.ensure(dir)
	path := dir + "/" + url.QueryEscape(rawURL)
	err := w.retry(func() error {
		_, err := w.conn.Create(path, nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
		return err
	})
	if err != nil {
		w.t.Fatalf("create provider %.80s: %v", path, err)
	}
	return path
}

func (w *writer) put(path string, data string, flags int32) {
	w.t.Helper()
	w.ensure(path[:strings.LastIndexByte(path, '/')])
	err := w.retry(func() error { _, err := w.conn.Create(path, []byte(data), flags, zk.WorldACL(zk.PermAll)); return err })
	if err != nil {
		if !errors.Is(err, zk.ErrNodeExists) {
			w.t.Fatalf("create %s: %v", path, err)
		}
		if _, err := w.conn.Set(path, []byte(data), -1); err != nil {
			w.t.Fatalf("set %s: %v", path, err)
		}
	}
}

func (w *writer) remove(path string) {
	w.t.Helper()
	if err := w.conn.Delete(path, -1); err != nil {
		w.t.Fatalf("delete %.80s: %v", path, err)
	}
}

// runSource runs a source against servers until the test ends.
func runSource(t testing.TB, servers ...string) *registrytest.Recorder {
	t.Helper()
	src, err := New("zk1", Config{Servers: servers, Debounce: yamltime.Duration(50 * time.Millisecond),
		SessionTimeout: yamltime.Duration(4 * time.Second)}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return registrytest.Run(t, src)
}

func endpointSet(svc registries.Service) string {
	var parts []string
	for _, e := range svc.Endpoints {
		parts = append(parts, fmt.Sprintf("%s:%d", e.Address, e.Port))
	}
	return strings.Join(parts, ",")
}

// deadline is a give-up bound for polling loops.
type deadline time.Time

func newDeadline() deadline     { return deadline(time.Now().Add(giveUp)) }
func (d deadline) passed() bool { return time.Now().After(time.Time(d)) }
func (d deadline) pause()       { time.Sleep(20 * time.Millisecond) }
