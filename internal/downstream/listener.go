// Package downstream bounds what clients (Envoy's "downstream") can make an HTTP server hold,
// with the semantics Envoy documents for the same limits, so that the embedded gateway and the
// admin API execute the settings rpcbridge emits to Envoy:
//
//   - Listener: a maximum of open connections that closes new ones beyond it while the open
//     ones are served (Envoy's overload manager resource monitor
//     envoy.resource_monitors.global_downstream_max_connections), and accept errors such as
//     EMFILE that back off instead of spinning, logged once per burst;
//   - NewServer: the net/http server of a listener's Settings (HCM idle_timeout,
//     request_headers_timeout, max_request_headers_kb, HTTP/2 max_concurrent_streams and
//     windows);
//   - Stream: the per-stream timeouts (HCM stream_idle_timeout, request_timeout) answered 408
//     as Envoy answers them;
//   - Body and Budget: the bytes of a request body a handler buffers (413 beyond the per-request
//     limit, Envoy's per_connection_buffer_limit_bytes) and of all buffered bodies together (503
//     once the budget is spent, as Envoy's envoy.overload_actions.stop_accepting_requests).
package downstream

import (
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rpcbridge/rpcbridge/internal/backoff"
)

// acceptBackoff is net/http's delay after a temporary accept error (Server.Serve: 5 ms,
// doubled up to 1 s), without jitter.
var acceptBackoff = backoff.Config{BaseDelay: 5 * time.Millisecond, Multiplier: 2, MaxDelay: time.Second}

// ListenerOptions configure a Listener.
type ListenerOptions struct {
	// MaxConnections bounds the connections open at once; 0 means no bound. A connection
	// accepted beyond it is closed at once, as Envoy closes a connection over the global
	// downstream connection limit (stat downstream_global_cx_overflow).
	MaxConnections int
	// Name names the listener in logs ("gateway", "admin").
	Name string
	// Logger receives one warning when a burst of accept errors or of shed connections
	// starts and one line when it ends; nil discards them.
	Logger *slog.Logger
}

// Listener is a net.Listener that bounds its open connections and rides out accept errors.
// Accept never returns a temporary error: it backs off and tries again, as net/http does, so
// a server loop above it never spins on EMFILE.
type Listener struct {
	net.Listener
	opts   ListenerOptions
	log    *slog.Logger
	active atomic.Int64
	shed   atomic.Uint64
	errs   atomic.Uint64
	// failing and shedding log each burst of accept errors and of shed connections once.
	failing, shedding burstLog

	closeOnce sync.Once
	closed    chan struct{}
}

// NewListener wraps inner.
func NewListener(inner net.Listener, opts ListenerOptions) *Listener {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Listener{Listener: inner, opts: opts, log: log.With("listener", opts.Name), closed: make(chan struct{})}
}

// Accept returns the next connection within the limit. Connections beyond MaxConnections are
// closed as they arrive; temporary accept errors (EMFILE, ENFILE, ENOBUFS, ...) are waited out
// with net/http's back-off. It returns an error only when the listener is closed or fails for
// good.
func (l *Listener) Accept() (net.Conn, error) {
	for failures := 0; ; {
		c, err := l.Listener.Accept()
		if err != nil {
			if !temporary(err) {
				return nil, err
			}
			l.errs.Add(1)
			if l.failing.event() {
				l.log.Warn("accepting connections failed; backing off until it works again", "error", err)
			}
			t := time.NewTimer(acceptBackoff.Backoff(failures))
			failures++
			select {
			case <-t.C:
				continue
			case <-l.closed:
				t.Stop()
				return nil, net.ErrClosed
			}
		}
		failures = 0
		if n, over := l.failing.quiet(); over {
			l.log.Info("accepting connections again", "failed_accepts", n)
		}
		if max := int64(l.opts.MaxConnections); l.active.Add(1) > max && max > 0 {
			l.active.Add(-1)
			l.shed.Add(1)
			_ = c.Close()
			if l.shedding.event() {
				l.log.Warn("connection limit reached; closing new connections until some end", "max_connections", max)
			}
			continue
		}
		if n, over := l.shedding.quiet(); over {
			l.log.Info("connection limit no longer reached", "closed_connections", n)
		}
		dc := &conn{Conn: c, l: l}
		dc.state.Store(stateUnknown)
		return dc, nil
	}
}

// burstQuiet is how long a burst of accept errors or of shed connections must have stopped
// before it counts as over: the longest accept back-off. Events closer together are one burst
// and are logged once.
const burstQuiet = time.Second

// burstLog tells the first event of a burst, and the end of one, from the others.
type burstLog struct {
	mu     sync.Mutex
	active bool
	count  int
	last   time.Time
}

// event records an event and reports whether it starts a burst (and is to be logged).
func (b *burstLog) event() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	start := !b.active
	b.active, b.last = true, time.Now()
	b.count++
	return start
}

// quiet reports, once per burst, that the burst is over (no event for burstQuiet), with its
// number of events.
func (b *burstLog) quiet() (int, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.active || time.Since(b.last) < burstQuiet {
		return 0, false
	}
	n := b.count
	b.active, b.count = false, 0
	return n, true
}

// Close closes the listener; a back-off in progress ends.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// Active returns the connections open now.
func (l *Listener) Active() int64 { return l.active.Load() }

// Shed returns how many connections were closed because of MaxConnections.
func (l *Listener) Shed() uint64 { return l.shed.Load() }

// AcceptErrors returns how many accepts failed with a temporary error.
func (l *Listener) AcceptErrors() uint64 { return l.errs.Load() }

// temporary reports whether an accept error is worth waiting out: running out of file
// descriptors or kernel memory, or a connection that went away during the accept.
func temporary(err error) bool {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
		syscall.ECONNABORTED, syscall.ECONNRESET, syscall.EPROTO, syscall.EAGAIN} {
		if errors.Is(err, errno) {
			return true
		}
	}
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}
