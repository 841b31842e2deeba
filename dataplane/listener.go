package dataplane

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"

	"github.com/rpcbridge/rpcbridge/internal/downstream"
)

// frontend serves the gateway's listener with the downstream settings of the Envoy listener
// it follows. net/http reads a server's timeouts and HTTP/2 settings for the life of the
// server, so a change of settings starts a new server generation, as Envoy drains a listener
// on an update: new connections go to the new server, the old one finishes its connections
// (HTTP/2 ones get GOAWAY) and ends.
type frontend struct {
	ln      *downstream.Listener
	tls     *tls.Config // nil: plaintext
	handler http.Handler
	log     *slog.Logger

	mu       sync.Mutex
	current  *generation
	draining map[*generation]bool
	stopped  bool
}

// generation is one http.Server and the listener it accepts from: the connections the
// frontend hands it.
type generation struct {
	settings downstream.Settings
	srv      *http.Server
	addr     net.Addr
	conns    chan net.Conn
	done     chan struct{}
	once     sync.Once
}

func (g *generation) Accept() (net.Conn, error) {
	select {
	case c := <-g.conns:
		return c, nil
	case <-g.done:
		return nil, net.ErrClosed
	}
}

func (g *generation) Close() error {
	g.once.Do(func() { close(g.done) })
	return nil
}

func (g *generation) Addr() net.Addr { return g.addr }

// newFrontend serves handler on ln, with settings until update says otherwise, over TLS with
// tlsConfig when it is set (HTTP/2 or HTTP/1.1 by ALPN).
func newFrontend(ln *downstream.Listener, handler http.Handler, settings downstream.Settings, tlsConfig *tls.Config, log *slog.Logger) *frontend {
	f := &frontend{ln: ln, handler: handler, log: log, draining: map[*generation]bool{}}
	if tlsConfig != nil {
		f.tls = tlsConfig.Clone()
		f.tls.NextProtos = []string{"h2", "http/1.1"}
	}
	f.current = f.start(settings)
	return f
}

// start runs a server generation with settings.
func (f *frontend) start(s downstream.Settings) *generation {
	g := &generation{settings: s, srv: downstream.NewServer(f.handler, s, true, f.log), addr: f.ln.Addr(),
		conns: make(chan net.Conn), done: make(chan struct{})}
	go func() { _ = g.srv.Serve(g) }()
	return g
}

// serve accepts connections and hands each to the current generation until the listener is
// closed. It returns http.ErrServerClosed after shutdown.
func (f *frontend) serve() error {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			f.mu.Lock()
			stopped := f.stopped
			f.mu.Unlock()
			if stopped {
				return http.ErrServerClosed
			}
			return err
		}
		f.hand(c)
	}
}

// hand gives c to the current generation, or closes it after shutdown. Over TLS the
// generation's server runs the handshake.
func (f *frontend) hand(c net.Conn) {
	if f.tls != nil {
		c = tls.Server(c, f.tls)
	}
	for {
		f.mu.Lock()
		g, stopped := f.current, f.stopped
		f.mu.Unlock()
		if stopped {
			_ = c.Close()
			return
		}
		select {
		case g.conns <- c:
			return
		case <-g.done: // replaced meanwhile: try the next one
		}
	}
}

// update makes new connections use settings; the connections of the previous settings drain.
func (f *frontend) update(s downstream.Settings) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped || f.current.settings == s {
		return
	}
	old := f.current
	f.current = f.start(s)
	f.draining[old] = true
	f.log.Info("listener settings changed; new connections use them, open ones drain",
		"idle_timeout", s.IdleTimeout, "request_headers_timeout", s.RequestHeadersTimeout,
		"stream_idle_timeout", s.Stream.Idle, "request_timeout", s.Stream.Request,
		"buffer_limit_bytes", s.BufferLimitBytes, "max_concurrent_streams", s.HTTP2.MaxConcurrentStreams)
	go func() {
		_ = old.srv.Shutdown(context.Background()) // returns once its connections are closed
		f.mu.Lock()
		delete(f.draining, old)
		f.mu.Unlock()
	}()
}

// shutdown stops accepting and shuts every generation down gracefully within ctx; what is
// still open when ctx ends is closed.
func (f *frontend) shutdown(ctx context.Context) error {
	f.mu.Lock()
	f.stopped = true
	gens := []*generation{f.current}
	for g := range f.draining {
		gens = append(gens, g)
	}
	f.mu.Unlock()
	_ = f.ln.Close()
	var errs []error
	for _, g := range gens {
		if err := g.srv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
			_ = g.srv.Close()
		}
	}
	return errors.Join(errs...)
}
