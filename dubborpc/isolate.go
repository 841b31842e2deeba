package dubborpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

// One call must not fail the others. A Dubbo provider that cannot take a request packet (one
// over its payload limit, or one it fails to decode) closes the connection, and every call in
// flight on that multiplexed connection fails with it. Calls whose request was written before
// the close cannot be known to be unprocessed (a provider runs requests independently as they
// arrive; the response of one may have been lost after it ran), so they are not sent again:
// Dubbo calls are not known to be idempotent, and the caller answers as Envoy does for an
// upstream connection termination. This client therefore keeps such packets off shared
// connections instead:
//   - a request body over the provider's payload limit (Request.PayloadLimit, Dubbo's
//     "payload" URL parameter) is refused with ErrPayloadTooLarge before anything is sent;
//   - a request packet over Options.IsolateAbove bytes goes on a connection of its own, dialed
//     for it and closed after it, so that a limit the provider does not publish (or enforces
//     below what it publishes) costs that call alone; large packets also no longer hold a
//     shared connection's writer while other calls wait;
//   - a response over Options.MaxBodySize is read past and fails its own call, not the
//     connection (its length is in the header, so the stream stays in step).

// ErrPayloadTooLarge is wrapped by errors of calls whose request body is over the provider's
// payload limit. Nothing was sent; the call is as large for every provider of the service.
var ErrPayloadTooLarge = errors.New("dubbo request body over the provider's payload limit")

// Defaults of the isolation options.
const (
	// DefaultIsolateAbove is the default of Options.IsolateAbove: 256 KiB, a quarter of the
	// smallest default limit of a known provider (dubbo-go's getty max-msg-len, 1,024,000
	// bytes), while most calls are far smaller and keep sharing connections.
	DefaultIsolateAbove = 256 << 10
	// DefaultMaxIsolated is the default of Options.MaxIsolated.
	DefaultMaxIsolated = 8
)

// isolateAbove is Options.IsolateAbove with its default; 0 means never.
func (o *Options) isolateAbove() int {
	switch {
	case o.IsolateAbove < 0:
		return 0
	case o.IsolateAbove == 0:
		return DefaultIsolateAbove
	}
	return o.IsolateAbove
}

func (o *Options) maxIsolated() int {
	if o.MaxIsolated <= 0 {
		return DefaultMaxIsolated
	}
	return o.MaxIsolated
}

// checkPayload refuses a request whose body is over the provider's payload limit
// (Request.PayloadLimit, else Options.MaxBodySize).
func (e *Endpoint) checkPayload(req Request, frame []byte) error {
	limit := req.PayloadLimit
	if limit <= 0 {
		limit = e.opts.MaxBodySize
	}
	if n := len(frame) - HeaderLength; n > limit {
		return fmt.Errorf("dubbo %s.%s: %w: the request body is %d bytes, the provider accepts %d",
			req.Interface, req.Method, ErrPayloadTooLarge, n, limit)
	}
	return nil
}

// isolation holds the endpoint's connections of one call each.
type isolation struct {
	slots chan struct{} // one token per call on a connection of its own

	mu     sync.Mutex
	conns  map[*conn]struct{}
	closed bool
}

func newIsolation(opts *Options) isolation {
	return isolation{slots: make(chan struct{}, opts.maxIsolated()), conns: map[*conn]struct{}{}}
}

// ErrOwnConnectionLost is wrapped, beside ErrConnectionLost, by errors of calls that ran on a
// connection of their own (Options.IsolateAbove) when it failed under them. The provider most
// likely refused that one request (a limit it does not publish), so such a failure says little
// about the provider's health.
var ErrOwnConnectionLost = errors.New("the call's own connection was lost")

// connFor returns the connection a request packet of frameLen bytes goes on, and what to call
// with the round trip's error when the call is over (it returns the error to report): a shared
// connection of the endpoint's slots, or, above Options.IsolateAbove, one of its own (waiting
// while Options.MaxIsolated such calls run).
func (e *Endpoint) connFor(ctx context.Context, frameLen int) (*conn, func(error) error, error) {
	if above := e.opts.isolateAbove(); above == 0 || frameLen <= above {
		s := e.slots[int(e.next.Add(1))%len(e.slots)]
		c, err := s.get(ctx, e)
		return c, func(err error) error { return err }, err
	}
	iso := &e.iso
	select {
	case iso.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	c, err := e.dial(ctx)
	if err != nil {
		<-iso.slots
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	iso.mu.Lock()
	if iso.closed {
		iso.mu.Unlock()
		c.close(ErrClosed)
		<-iso.slots
		return nil, nil, ErrClosed
	}
	iso.conns[c] = struct{}{}
	iso.mu.Unlock()
	return c, func(err error) error {
		iso.mu.Lock()
		delete(iso.conns, c)
		iso.mu.Unlock()
		c.close(errIsolatedCallOver)
		<-iso.slots
		if errors.Is(err, ErrConnectionLost) {
			err = fmt.Errorf("%w (%w)", err, ErrOwnConnectionLost)
		}
		return err
	}, nil
}

// errIsolatedCallOver closes a connection whose one call is over.
var errIsolatedCallOver = fmt.Errorf("%w: its one call is over", ErrClosed)

// inFlight is the number of calls on connections of their own.
func (iso *isolation) inFlight() int {
	iso.mu.Lock()
	defer iso.mu.Unlock()
	return len(iso.conns)
}

// close fails the calls in flight on the endpoint's own-connection calls.
func (iso *isolation) close() {
	iso.mu.Lock()
	iso.closed = true
	conns := iso.conns
	iso.conns = map[*conn]struct{}{}
	iso.mu.Unlock()
	for c := range conns {
		c.close(fmt.Errorf("%w: %w", ErrConnectionLost, ErrClosed))
	}
}

// oversizedError is a packet header whose body length is over the limit.
type oversizedError struct {
	length, limit int
}

func (e *oversizedError) Error() string {
	return fmt.Sprintf("body of %d bytes is over the %d-byte limit", e.length, e.limit)
}

// skipOversized reads past the body of a packet over Options.MaxBodySize and fails the call it
// answers, keeping the connection. It reports false when the connection failed meanwhile.
func (c *conn) skipOversized(r io.Reader, h header, cause *oversizedError) bool {
	if _, err := io.CopyN(io.Discard, r, int64(h.bodyLength)); err != nil {
		c.close(fmt.Errorf("%w: read from %s: %v", ErrConnectionLost, c.addr, err))
		return false
	}
	if h.request || h.event {
		c.logger.Warn("dubbo provider sent an oversized event or request; skipped", "id", h.id, "bytes", h.bodyLength)
		return true
	}
	c.mu.Lock()
	ch := c.pending[h.id]
	delete(c.pending, h.id)
	c.mu.Unlock()
	if ch != nil {
		ch <- reply{header: h, err: fmt.Errorf("response from %s: %w", c.addr, cause)}
	}
	return true
}
