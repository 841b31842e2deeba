package dubborpc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// reply is a response packet handed from the read loop to the waiting call, still encoded: the
// caller decodes it, so that decoding runs in parallel.
type reply struct {
	header header
	body   []byte
	buf    *[]byte // body's pooled buffer (see getBody), nil when it is not pooled
	err    error   // the call failed alone (see skipOversized)
}

// conn is one multiplexed TCP connection to a provider: many calls in flight, told apart by
// request id.
type conn struct {
	nc     net.Conn
	addr   string
	opts   *Options
	ids    *atomic.Int64
	logger *slog.Logger

	wmu sync.Mutex // serializes whole packets

	mu      sync.Mutex
	pending map[int64]chan reply
	err     error // why the connection closed

	done     chan struct{}
	lastRead atomic.Int64  // unix nanoseconds of the last bytes read
	ready    chan struct{} // closed when the first packet has been read (see handshake)
	readyOne sync.Once
}

func newConn(nc net.Conn, addr string, opts *Options, ids *atomic.Int64) *conn {
	c := &conn{nc: nc, addr: addr, opts: opts, ids: ids, logger: opts.Logger.With("endpoint", addr),
		pending: map[int64]chan reply{}, done: make(chan struct{}), ready: make(chan struct{})}
	c.lastRead.Store(time.Now().UnixNano())
	go c.readLoop()
	go c.heartbeatLoop()
	return c
}

// closed reports whether the connection is unusable.
func (c *conn) closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// close marks the connection dead with err (the first error wins) and wakes every waiting call.
func (c *conn) close(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	c.pending = nil
	c.mu.Unlock()
	close(c.done)
	_ = c.nc.Close()
}

func (c *conn) closeErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// write sends one whole packet. A failed or timed-out write may leave half a packet on the
// wire, so it closes the connection. An error that also wraps ErrNotSent means no byte of the
// packet was written.
func (c *conn) write(frame []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closed() {
		return fmt.Errorf("%w: %w", ErrNotSent, c.closeErr())
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.opts.WriteTimeout))
	if n, err := c.nc.Write(frame); err != nil {
		err = fmt.Errorf("%w: write to %s: %v", ErrConnectionLost, c.addr, err)
		c.close(err)
		if n == 0 {
			return fmt.Errorf("%w: %w", ErrNotSent, err)
		}
		return err
	}
	return nil
}

// roundTrip sends the request packet frame (whose id is id) and waits for its response. When
// ctx ends first, the call is forgotten and a late response is dropped.
func (c *conn) roundTrip(ctx context.Context, id int64, frame []byte) (reply, error) {
	ch := make(chan reply, 1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return reply{}, fmt.Errorf("%w: %w", ErrNotSent, err)
	}
	c.pending[id] = ch
	c.mu.Unlock()
	if err := c.write(frame); err != nil {
		return reply{}, err
	}
	select {
	case r := <-ch:
		return r, r.err
	case <-ctx.Done():
		c.forget(id)
		return reply{}, ctx.Err()
	case <-c.done:
		select {
		case r := <-ch:
			return r, r.err
		default:
			return reply{}, c.closeErr()
		}
	}
}

func (c *conn) forget(id int64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// inFlight is the number of calls waiting for a response.
func (c *conn) inFlight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}

// readLoop reads packets until the connection fails, answers the provider's heartbeats and
// hands responses to their calls.
func (c *conn) readLoop() {
	r := bufio.NewReaderSize(readTracker{c}, 32<<10)
	hdr := make([]byte, HeaderLength)
	for {
		if _, err := io.ReadFull(r, hdr); err != nil {
			c.close(fmt.Errorf("%w: read from %s: %v", ErrConnectionLost, c.addr, err))
			return
		}
		h, err := parseHeader(hdr, c.opts.MaxBodySize)
		if big := (*oversizedError)(nil); errors.As(err, &big) {
			if c.skipOversized(r, h, big) {
				continue
			}
			return
		}
		if err != nil {
			c.close(fmt.Errorf("%w: %s sent a bad packet: %v", ErrConnectionLost, c.addr, err))
			return
		}
		body, buf := getBody(h.bodyLength)
		if _, err := io.ReadFull(r, body); err != nil {
			putBuffer(buf)
			c.close(fmt.Errorf("%w: read from %s: %v", ErrConnectionLost, c.addr, err))
			return
		}
		c.readyOne.Do(func() { close(c.ready) })
		if h.request || h.event { // nothing reads their bodies
			putBuffer(buf)
		}
		switch {
		case h.request && h.event:
			if h.twoWay {
				go func() { _ = c.write(heartbeatResponse(h.id)) }()
			}
		case h.request:
			c.logger.Debug("dubbo provider sent a request to the client; ignored", "id", h.id)
		case h.event:
			// a heartbeat response: reading it was the point
		default:
			c.mu.Lock()
			ch := c.pending[h.id]
			delete(c.pending, h.id)
			c.mu.Unlock()
			if ch == nil {
				putBuffer(buf)
				c.logger.Debug("dubbo response for a call that gave up; dropped", "id", h.id)
				continue
			}
			ch <- reply{header: h, body: body, buf: buf}
		}
	}
}

// ErrConnectionLost is wrapped by errors of calls whose connection failed. Such a call may or
// may not have run on the provider.
var ErrConnectionLost = errors.New("dubbo connection lost")
