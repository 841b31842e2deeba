package downstream

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
)

// The errors of a Body that broke a limit, with the statuses they are answered with.
var (
	// ErrBodyTooLarge: the body is larger than the per-request buffer limit. Envoy answers a
	// buffering filter's overflow 413 Payload Too Large (response code detail
	// request_payload_too_large; the transcoder's max_request_body_size the same).
	ErrBodyTooLarge = errors.New("request body too large")
	// ErrOverloaded: buffering the body would exceed the process's buffer budget. Envoy's
	// overload manager answers such requests 503 (overload action
	// envoy.overload_actions.stop_accepting_requests, response code detail overload, response
	// flag OL).
	ErrOverloaded = errors.New("buffer budget exhausted")
)

// The statuses of the answers to a Body's errors, Envoy's response code details.
const (
	StatusPayloadTooLarge = "request_payload_too_large"
	StatusOverloaded      = "overload"
)

// Budget bounds the bytes of request bodies that all buffering handlers of a process hold at
// once. It is safe for concurrent use; a nil *Budget is unbounded.
type Budget struct {
	max  int64
	used atomic.Int64
}

// NewBudget returns a budget of max bytes; max <= 0 returns nil, no bound.
func NewBudget(max int64) *Budget {
	if max <= 0 {
		return nil
	}
	return &Budget{max: max}
}

// Max returns the budget's size (0 for a nil budget).
func (b *Budget) Max() int64 {
	if b == nil {
		return 0
	}
	return b.max
}

// InUse returns the bytes reserved now.
func (b *Budget) InUse() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}

// reserve takes n bytes if they are free.
func (b *Budget) reserve(n int64) bool {
	if b == nil {
		return true
	}
	for {
		cur := b.used.Load()
		if cur+n > b.max {
			return false
		}
		if b.used.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

func (b *Budget) release(n int64) {
	if b != nil && n > 0 {
		b.used.Add(-n)
	}
}

// Body is the body of one request that a handler buffers whole (a transcoder): it fails reads
// beyond Limit bytes with ErrBodyTooLarge and reads the budget cannot cover with ErrOverloaded.
// A body that declares its length is checked and reserved at the first read, before anything is
// read, so that it is refused before it costs memory. Release gives the reservation back once the handler no
// longer holds the body.
type Body struct {
	inner    io.ReadCloser
	limit    int64
	budget   *Budget
	declared int64 // Content-Length, -1 when unknown
	started  bool
	read     int64
	reserved int64
	err      atomic.Pointer[error]
}

// LimitBody replaces r.Body (when there is one) with a Body of limit bytes (0: no per-request
// limit) charged to budget (nil: none), and returns it. Nothing is checked before the handler
// reads, so a handler that passes the request on unbuffered after all (Unwrap) is not limited.
func LimitBody(r *http.Request, limit int64, budget *Budget) *Body {
	b := &Body{inner: r.Body, limit: limit, budget: budget, declared: r.ContentLength}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = b
	}
	return b
}

// Read reads within the limits.
func (b *Body) Read(p []byte) (int, error) {
	if err := b.Err(); err != nil {
		return 0, err
	}
	if !b.started {
		b.started = true
		switch n := b.declared; {
		case b.limit > 0 && n > b.limit:
			return 0, b.fail(ErrBodyTooLarge)
		case n > 0 && !b.budget.reserve(n):
			return 0, b.fail(ErrOverloaded)
		case n > 0:
			b.reserved = n
		}
	}
	if b.limit > 0 && int64(len(p)) > b.limit-b.read+1 {
		p = p[:b.limit-b.read+1] // one byte beyond the limit tells "too large" from "exactly"
	}
	n, err := b.inner.Read(p)
	b.read += int64(n)
	if b.limit > 0 && b.read > b.limit {
		return 0, b.fail(ErrBodyTooLarge)
	}
	if more := b.read - b.reserved; more > 0 {
		if !b.budget.reserve(more) {
			return 0, b.fail(ErrOverloaded)
		}
		b.reserved += more
	}
	return n, err
}

// Close closes the request body.
func (b *Body) Close() error { return b.inner.Close() }

// Err returns ErrBodyTooLarge or ErrOverloaded once the body broke a limit, else nil.
func (b *Body) Err() error {
	if p := b.err.Load(); p != nil {
		return *p
	}
	return nil
}

// Release gives the body's reservation back to the budget. Call it once, when the handler
// holds nothing of the body any more.
func (b *Body) Release() {
	b.budget.release(b.reserved)
	b.reserved = 0
}

// Unwrap restores the request's own body (for a request that is passed on unbuffered after
// all) and releases the reservation.
func (b *Body) Unwrap(r *http.Request) {
	if r.Body == b {
		r.Body = b.inner
	}
	b.Release()
}

func (b *Body) fail(err error) error {
	b.err.CompareAndSwap(nil, &err)
	return err
}

// Reject answers the request whose body broke a limit (413 or 503, see ErrBodyTooLarge and
// ErrOverloaded) and reports whether it did; it does nothing for a body within its limits.
func (b *Body) Reject(w http.ResponseWriter, answer Answer) bool {
	switch err := b.Err(); {
	case errors.Is(err, ErrBodyTooLarge):
		w.Header().Set("Connection", "close") // the rest of the body is not read
		answer(w, http.StatusRequestEntityTooLarge, StatusPayloadTooLarge,
			fmt.Sprintf("request body is larger than the buffer limit of %d bytes", b.limit))
		return true
	case errors.Is(err, ErrOverloaded):
		w.Header().Set("Connection", "close")
		answer(w, http.StatusServiceUnavailable, StatusOverloaded,
			fmt.Sprintf("the gateway buffers %d bytes of request bodies at most and has no room for this one now", b.budget.Max()))
		return true
	}
	return false
}
