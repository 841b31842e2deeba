package zookeeper

import (
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"time"
)

// connErrors remembers why there is no ZooKeeper session, for the unreachable diagnostic.
// go-zookeeper reconnects on its own and tells its caller only state changes; the reasons reach
// just its dialer (a failed dial: refused, timed out, no route) and its logger (a connection
// that was accepted but whose session handshake failed). See conn.go of go-zookeeper v1.0.4:
// connect() logs "failed to connect to %s: %v" after a failed dial, loop() logs
// "authentication failed: %s" after a failed handshake.
type connErrors struct {
	mu     sync.Mutex
	byAddr map[string]string // server address (or "" for a handshake) → last error
	wake   chan struct{}
}

func newConnErrors() *connErrors {
	return &connErrors{byAddr: map[string]string{}, wake: make(chan struct{}, 1)}
}

// dial is the connection's zk.Dialer: net.DialTimeout, recording failures.
func (c *connErrors) dial(network, address string, timeout time.Duration) (net.Conn, error) {
	conn, err := net.DialTimeout(network, address, timeout)
	if err != nil {
		c.record(address, err.Error())
	}
	return conn, err
}

// record keeps err as the latest reason for addr and wakes the reader when it is new.
func (c *connErrors) record(addr, err string) {
	c.mu.Lock()
	changed := c.byAddr[addr] != err
	c.byAddr[addr] = err
	c.mu.Unlock()
	if changed {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

// Wake receives a value when a new reason was recorded.
func (c *connErrors) Wake() <-chan struct{} { return c.wake }

// clear forgets every reason; a session was established.
func (c *connErrors) clear() {
	c.mu.Lock()
	clear(c.byAddr)
	c.mu.Unlock()
}

// reason describes why there is no session: every distinct recorded error, sorted, or a
// generic sentence when none was recorded yet.
func (c *connErrors) reason() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var parts []string
	for _, addr := range slices.Sorted(maps.Keys(c.byAddr)) {
		if addr == "" {
			parts = append(parts, "session handshake failed: "+c.byAddr[addr])
		} else {
			parts = append(parts, c.byAddr[addr])
		}
	}
	if len(parts) == 0 {
		return "no ZooKeeper session"
	}
	return "cannot connect to ZooKeeper: " + strings.Join(parts, "; ")
}

// zkLogger routes go-zookeeper's log lines to slog at debug level, and records a failed session
// handshake in errs.
type zkLogger struct {
	logger *slog.Logger
	errs   *connErrors
}

// Printf implements zk.Logger.
func (l zkLogger) Printf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if strings.HasPrefix(format, "authentication failed") && l.errs != nil {
		l.errs.record("", strings.TrimPrefix(msg, "authentication failed: "))
	}
	l.logger.Debug(msg, "component", "go-zookeeper")
}
