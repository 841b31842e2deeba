package dataplane

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc/codes"

	"github.com/rpcbridge/rpcbridge/dataplane/grpcjson"
	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
)

// httpRoute is the transport of requests proxied over one route: the cluster's hosts under the
// route's retry policy, each attempt's outcome reported to the cluster's outlier detection as
// Envoy's router reports it (the upstream's status, with a gRPC status in the response headers
// mapped to its HTTP status; route timeout as a local-origin timeout; a failed connection or a
// reset as a local-origin connect failure).
type httpRoute struct {
	up    *upstream
	retry *routetable.RetryPolicy
}

// forRoute returns the transport of the requests of route.
func (u *upstream) forRoute(route *routetable.Route) http.RoundTripper {
	return &httpRoute{up: u, retry: route.Retry}
}

// RoundTrip sends the request to the host the pool picks, and again to another one while an
// attempt did not reach its host (connect failure, or failed before the request was written)
// and the route's retry policy says so. A request whose body was read is never sent again.
func (t *httpRoute) RoundTrip(req *http.Request) (*http.Response, error) {
	body := &retryableBody{ReadCloser: req.Body}
	if req.Body != nil {
		req.Body = body
	}
	var resp *http.Response
	err := t.up.pool.try(req.Context(), t.retry, func(ctx context.Context, h *host, release func()) (string, error) {
		var wrote atomic.Bool
		traced := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteHeaders: func() { wrote.Store(true) }})
		r, err := t.up.send(traced, req, h.addr)
		t.up.pool.reportHTTP(ctx, h, r, err)
		if err != nil {
			release()
			switch {
			case body.read.Load() || ctx.Err() != nil:
				return "", err
			case isConnectFailure(err):
				return retryConnectFailure, err
			case !wrote.Load():
				return retryResetBeforeRequest, err
			}
			return "", err
		}
		r.Body = &releasingBody{ReadCloser: r.Body, release: release}
		resp = r
		return "", nil
	})
	return resp, err
}

// send performs one attempt against the host at addr.
func (u *upstream) send(ctx context.Context, req *http.Request, addr string) (*http.Response, error) {
	attempt := req.WithContext(ctx)
	target := *req.URL
	target.Scheme, target.Host = "http", addr
	attempt.URL = &target
	if attempt.Host == autoHost {
		attempt.Host = addr
	}
	return u.transport.RoundTrip(attempt)
}

// reportHTTP gives the outcome of one proxied attempt to the cluster's outlier detection. A
// client that went away says nothing about the host.
func (p *pool) reportHTTP(ctx context.Context, h *host, resp *http.Response, err error) {
	d := p.detector
	switch {
	case d == nil:
	case err == nil:
		d.putResult(h, localOriginConnectSuccess)
		code := resp.StatusCode
		if s, err := strconv.Atoi(resp.Header.Get("Grpc-Status")); err == nil {
			code = grpcjson.HTTPStatus(codes.Code(s))
		}
		d.putHTTPStatus(h, code)
	case errors.Is(context.Cause(ctx), errRouteTimeout):
		d.putResult(h, localOriginTimeout)
	case ctx.Err() != nil:
	default:
		d.putResult(h, localOriginConnectFailed)
	}
}

// autoHost is the outgoing Host placeholder for routes with auto_host_rewrite: the endpoint's
// address replaces it.
const autoHost = "rpcbridge.auto-host-rewrite.invalid"

// retryableBody lets a request body survive a failed connection attempt: the transport
// closes the body of a failed request, so Close is ignored until the body has been read
// (the server closes request bodies itself), and reads are tracked so that a body already
// sent is never resent.
type retryableBody struct {
	io.ReadCloser
	read atomic.Bool
}

func (b *retryableBody) Read(p []byte) (int, error) {
	b.read.Store(true)
	return b.ReadCloser.Read(p)
}

func (b *retryableBody) Close() error {
	if b.read.Load() {
		return b.ReadCloser.Close()
	}
	return nil
}

// releasingBody ends a response's attempt (its host's request in flight) when the body has been
// read to the end or closed.
type releasingBody struct {
	io.ReadCloser
	release func()
	once    sync.Once
}

func (b *releasingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.once.Do(b.release)
	}
	return n, err
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}

// isConnectFailure reports whether err happened while connecting to the endpoint (refused,
// unreachable, connect timeout), before any byte of the request was written.
func isConnectFailure(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
