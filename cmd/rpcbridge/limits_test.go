package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// clientConn is a hand-written HTTP/1.1 client connection, slow where a client library is not.
type clientConn struct {
	net.Conn
	r *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *clientConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(giveUp))
	return &clientConn{Conn: c, r: bufio.NewReader(c)}
}

// roundTrip writes raw and reads one response (err: what ended the read when none came).
func (c *clientConn) roundTrip(raw string) (int, string, error) {
	if _, err := io.WriteString(c, raw); err != nil {
		return 0, "", err
	}
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// closedByServer reports whether the server closed the connection: a read gets EOF or a reset
// rather than the test's give-up deadline.
func (c *clientConn) closedByServer() bool {
	_, err := c.r.ReadByte()
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// TestServeListenerLimits runs `rpcbridge serve` with gateway.limits and admin.limits and checks
// that the keys reach both listeners: the gateway (through the listener it receives over xDS)
// and the admin API close idle keep-alive connections, the admin API answers a stalled upload
// body and unfinished headers 408, and closes connections beyond admin.limits.maxConnections
// while it keeps serving the open ones.
func TestServeListenerLimits(t *testing.T) {
	_, port := backend(t, "A")
	srv := startServeWith(t, ", limits: {idleTimeout: 300ms}",
		", limits: {idleTimeout: 300ms, streamIdleTimeout: 300ms, requestHeadersTimeout: 300ms, maxConnections: 3}",
		httpServiceConfig(port, ""))
	get := "GET /healthz HTTP/1.1\r\nHost: admin\r\n\r\n"

	t.Run("gateway idle connection", func(t *testing.T) {
		c := dialRaw(t, srv.gateway)
		if code, body, err := c.roundTrip("GET /hello/x HTTP/1.1\r\nHost: gw\r\n\r\n"); err != nil || code != http.StatusOK {
			t.Fatalf("GET /hello/x: %d %s %v", code, body, err)
		}
		if !c.closedByServer() {
			t.Fatal("the gateway keeps an idle connection open beyond gateway.limits.idleTimeout")
		}
	})
	t.Run("admin idle connection", func(t *testing.T) {
		c := dialRaw(t, srv.admin)
		if code, body, err := c.roundTrip(get); err != nil || code != http.StatusOK {
			t.Fatalf("GET /healthz: %d %s %v", code, body, err)
		}
		if !c.closedByServer() {
			t.Fatal("the admin API keeps an idle connection open beyond admin.limits.idleTimeout")
		}
	})
	t.Run("admin stalled upload", func(t *testing.T) {
		c := dialRaw(t, srv.admin)
		code, body, err := c.roundTrip("PUT /api/v1/idl/slow?kind=proto&filename=a.proto HTTP/1.1\r\nHost: admin\r\n" +
			"Content-Type: text/plain\r\nContent-Length: 1000\r\n\r\nsyntax = ")
		if err != nil || code != http.StatusRequestTimeout || !strings.Contains(body, `"stream_idle_timeout"`) {
			t.Fatalf("stalled upload: %d %s %v, want 408 stream_idle_timeout", code, body, err)
		}
	})
	t.Run("admin unfinished headers", func(t *testing.T) {
		c := dialRaw(t, srv.admin)
		code, body, err := c.roundTrip("GET /healthz HTTP/1.1\r\nHost: admin\r\n")
		if err != nil || code != http.StatusRequestTimeout || !strings.Contains(body, `"request_header_timeout"`) {
			t.Fatalf("unfinished headers: %d %s %v, want 408 request_header_timeout", code, body, err)
		}
	})
	t.Run("admin connection limit", func(t *testing.T) {
		var open []*clientConn
		for len(open) < 3 { // earlier connections may take a moment to be closed
			c := dialRaw(t, srv.admin)
			if code, _, err := c.roundTrip(get); err != nil || code != http.StatusOK {
				c.Close()
				time.Sleep(20 * time.Millisecond)
				continue
			}
			open = append(open, c)
		}
		if code, body, err := dialRaw(t, srv.admin).roundTrip(get); err == nil {
			t.Fatalf("a fourth connection with admin.limits.maxConnections 3 was answered %d %s", code, body)
		}
		// The open ones are still served (within their idle timeout, so at once).
		if code, body, err := open[0].roundTrip(get); err != nil || code != http.StatusOK {
			t.Fatalf("an open connection is not served any more: %d %s %v", code, body, err)
		}
	})
}
