package downstream

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// conn gives its slot back when closed, and answers a request whose headers did not arrive in
// time 408, as Envoy answers request_headers_timeout (response code detail
// request_header_timeout); net/http only closes such a connection.
type conn struct {
	net.Conn
	l    *Listener
	once sync.Once

	// state is the http.ConnState net/http reported last (see trackState), stateUnknown for a
	// connection of a server without the hook; pending counts the bytes read since the
	// connection became new or idle, that is of request headers.
	state    atomic.Int32
	pending  atomic.Int64
	h2       atomic.Bool
	answered atomic.Bool
}

// stateUnknown marks a connection whose server does not report its states (no trackState hook):
// Read never answers 408 on it, as it could not tell header reads from others.
const stateUnknown = -1

// StatusRequestHeaderTimeout is the status of the 408 answered when request headers do not
// arrive within the header timeout, Envoy's response code detail for it.
const StatusRequestHeaderTimeout = "request_header_timeout"

// headerTimeoutResponse is that 408: the connection never reached a handler, so it is written
// to the connection as it is.
var headerTimeoutResponse = func() []byte {
	body := `{"error":{"code":408,"status":"` + StatusRequestHeaderTimeout + `","message":"request header timeout"}}` + "\n"
	return []byte("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: application/json\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
}()

// trackState is the http.Server's ConnState hook for connections of a Listener.
func trackState(c net.Conn, st http.ConnState) {
	dc, ok := c.(*conn)
	if !ok {
		return
	}
	dc.state.Store(int32(st))
	if st == http.StateIdle {
		dc.pending.Store(0)
	}
}

// Read counts header bytes and answers 408 when the server's header deadline ends a request
// that had started (bytes of it arrived) on an HTTP/1 connection.
func (c *conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	switch st := http.ConnState(c.state.Load()); {
	case st != http.StateNew && st != http.StateIdle, c.h2.Load():
	case n > 0:
		if c.pending.Add(int64(n)) == int64(n) && bytes.HasPrefix(p[:n], []byte("PRI ")) {
			c.h2.Store(true) // HTTP/2 with prior knowledge: its frames are not headers
		}
	case errors.Is(err, os.ErrDeadlineExceeded) && c.pending.Load() > 0 && c.answered.CompareAndSwap(false, true):
		_ = c.Conn.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = c.Conn.Write(headerTimeoutResponse)
	}
	return n, err
}

func (c *conn) Close() error {
	c.once.Do(func() { c.l.active.Add(-1) })
	return c.Conn.Close()
}

// CloseWrite half-closes the connection when the wrapped one can: net/http does so before it
// closes a connection after an error response (a 408 or a 413 sent before the body was read),
// so that the client reads the response instead of a reset.
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
