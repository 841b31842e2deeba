package dubborpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rpcbridge/rpcbridge/internal/backoff"
)

// ErrNotSent is wrapped by errors of calls that never left the client: no byte of the request
// was written, so the provider cannot have run it and the call may go to another provider.
var ErrNotSent = errors.New("request not sent")

// ErrUnavailable is wrapped by errors of calls that found no usable connection: the provider
// cannot be reached (or accepted a connection but did not answer its handshake heartbeat) and
// the endpoint waits before dialing again. Such errors also wrap ErrNotSent.
var ErrUnavailable = fmt.Errorf("dubbo endpoint unavailable (%w)", ErrNotSent)

// ErrClosed is returned by calls on a closed Client or Endpoint.
var ErrClosed = errors.New("dubbo client closed")

// Endpoint is the connection pool of one provider address: Options.ConnectionsPerEndpoint
// multiplexed connections, each dialed when first needed and again after it fails (with
// exponential backoff between failed dials). It is safe for concurrent use.
type Endpoint struct {
	addr   string
	opts   *Options
	ids    *atomic.Int64
	slots  []*slot
	next   atomic.Uint32
	closed atomic.Bool
	iso    isolation // calls on connections of their own (isolate.go)
}

func newEndpoint(addr string, opts *Options, ids *atomic.Int64) *Endpoint {
	e := &Endpoint{addr: addr, opts: opts, ids: ids, iso: newIsolation(opts)}
	for range opts.ConnectionsPerEndpoint {
		e.slots = append(e.slots, &slot{})
	}
	return e
}

// Addr is the provider's "host:port".
func (e *Endpoint) Addr() string { return e.addr }

// Invoke calls req.Method on the provider and waits for the result until ctx ends (or, when
// ctx has no deadline, for Options.DefaultTimeout). The remaining time goes to the provider as
// the call's timeout. Errors: *RemoteError for an exception the method threw, *StatusError for
// a response whose status is not OK, context.DeadlineExceeded / context.Canceled (wrapped) when
// ctx ended first, ErrUnavailable or ErrConnectionLost (wrapped) for connection failures,
// ErrPayloadTooLarge (wrapped) for a request the provider would refuse. A large request goes
// on a connection of its own (see isolate.go).
func (e *Endpoint) Invoke(ctx context.Context, req Request) (Response, error) {
	if e.closed.Load() {
		return Response{}, ErrClosed
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.opts.DefaultTimeout)
		defer cancel()
	}
	deadline, _ := ctx.Deadline()
	id := e.ids.Add(1)
	frame, buf, err := encodeRequest(id, req, time.Until(deadline))
	if err != nil {
		return Response{}, fmt.Errorf("dubbo %s.%s: %w", req.Interface, req.Method, err)
	}
	r, err := e.send(ctx, id, req, frame)
	putBuffer(buf) // written (or never to be): roundTrip keeps no reference
	if err != nil {
		return Response{}, err
	}
	defer putBuffer(r.buf) // decodeResponse copies what it keeps
	if r.header.serialization != serializationHessian2 {
		return Response{}, fmt.Errorf("dubbo %s.%s on %s: response uses serialization %d, not hessian2",
			req.Interface, req.Method, e.addr, r.header.serialization)
	}
	resp, err := decodeResponse(r.header.status, r.body)
	if err != nil {
		var remote *RemoteError
		var status *StatusError
		if errors.As(err, &remote) || errors.As(err, &status) {
			return Response{}, err
		}
		return Response{}, fmt.Errorf("dubbo %s.%s on %s: %w", req.Interface, req.Method, e.addr, err)
	}
	return resp, nil
}

// send sends the packet frame of req (request id id) on a connection for it and waits for the
// response, whose body the caller gives back (putBuffer(reply.buf)). Its errors are Invoke's.
func (e *Endpoint) send(ctx context.Context, id int64, req Request, frame []byte) (reply, error) {
	if err := e.checkPayload(req, frame); err != nil {
		return reply{}, err
	}
	c, done, err := e.connFor(ctx, len(frame))
	if err != nil {
		return reply{}, fmt.Errorf("dubbo %s.%s on %s: %w", req.Interface, req.Method, e.addr, err)
	}
	r, err := c.roundTrip(ctx, id, frame)
	if err = done(err); err != nil {
		putBuffer(r.buf)
		return reply{}, fmt.Errorf("dubbo %s.%s on %s: %w", req.Interface, req.Method, e.addr, err)
	}
	return r, nil
}

// GenericInvoke calls method through Dubbo's generic service ($invoke with the generic=true
// attachment; see GenericRequest for the arguments). The provider generalizes the result: POJO
// results come back as maps of their properties with a "class" key.
func (e *Endpoint) GenericInvoke(ctx context.Context, iface, version, group, method string,
	paramTypes []string, args []any, attachments map[string]string) (Response, error) {
	return e.Invoke(ctx, GenericRequest(iface, version, group, method, paramTypes, args, attachments))
}

// InFlight is the number of calls waiting for a response on the endpoint's connections, its
// own-connection calls included.
func (e *Endpoint) InFlight() int {
	n := e.iso.inFlight()
	for _, s := range e.slots {
		if c := s.current(); c != nil {
			n += c.inFlight()
		}
	}
	return n
}

// close closes the endpoint's connections; calls in flight fail with ErrConnectionLost.
func (e *Endpoint) close() {
	e.closed.Store(true)
	for _, s := range e.slots {
		s.close()
	}
	e.iso.close()
}

// slot holds one connection of an endpoint and redials it when it has failed.
type slot struct {
	mu       sync.Mutex
	conn     *conn
	dialing  chan struct{} // closed when the running dial ends
	failures int
	retryAt  time.Time
	lastErr  error
	closed   bool
}

func (s *slot) current() *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn
}

// get returns the slot's live connection, dialing one if needed: one dial at a time, other
// calls wait for it. After a failed dial, calls fail fast until the backoff has passed.
func (s *slot) get(ctx context.Context, e *Endpoint) (*conn, error) {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, ErrClosed
		}
		if s.conn != nil && !s.conn.closed() {
			c := s.conn
			s.mu.Unlock()
			return c, nil
		}
		if wait := s.dialing; wait != nil {
			s.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if now := time.Now(); now.Before(s.retryAt) {
			err := fmt.Errorf("%w: redial in %v after: %v", ErrUnavailable, s.retryAt.Sub(now).Round(time.Millisecond), s.lastErr)
			s.mu.Unlock()
			return nil, err
		}
		wait := make(chan struct{})
		s.dialing = wait
		s.mu.Unlock()

		c, err := e.dial(ctx)

		s.mu.Lock()
		s.dialing = nil
		close(wait)
		switch {
		case err == nil && s.closed:
			s.mu.Unlock()
			c.close(ErrClosed)
			return nil, ErrClosed
		case err == nil:
			s.conn, s.failures, s.lastErr = c, 0, nil
			s.mu.Unlock()
			return c, nil
		case ctx.Err() != nil: // the caller gave up: not the provider's fault
			s.mu.Unlock()
			return nil, ctx.Err()
		default:
			s.failures++
			s.lastErr = err
			s.retryAt = time.Now().Add(e.opts.redialBackoff().Backoff(s.failures - 1))
			s.mu.Unlock()
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
	}
}

func (s *slot) close() {
	s.mu.Lock()
	s.closed = true
	c := s.conn
	s.mu.Unlock()
	if c != nil {
		c.close(fmt.Errorf("%w: %w", ErrConnectionLost, ErrClosed))
	}
}

// dial opens a connection to the endpoint and waits for the provider to answer its handshake
// heartbeat (heartbeat.go), both within Options.DialTimeout.
func (e *Endpoint) dial(ctx context.Context) (*conn, error) {
	ctx, cancel := context.WithTimeout(ctx, e.opts.DialTimeout)
	defer cancel()
	d := net.Dialer{KeepAlive: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", e.addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", e.addr, err)
	}
	if tcp, ok := nc.(*net.TCPConn); ok {
		_ = tcp.SetNoDelay(true)
	}
	c := newConn(nc, e.addr, e.opts, e.ids)
	if err := c.handshake(ctx); err != nil {
		c.close(fmt.Errorf("%w: %w", ErrConnectionLost, err))
		return nil, fmt.Errorf("dial %s: %w", e.addr, err)
	}
	return c, nil
}

// redialBackoff spaces the dials of a slot after failed ones: ReconnectBackoff doubled per
// failure up to MaxReconnectBackoff, with ±20% jitter so that many clients do not redial in step.
func (o *Options) redialBackoff() backoff.Config {
	return backoff.Config{BaseDelay: o.ReconnectBackoff, Multiplier: 2, Jitter: 0.2, MaxDelay: o.MaxReconnectBackoff}
}
