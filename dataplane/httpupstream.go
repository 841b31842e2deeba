package dataplane

import (
	"bytes"
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

// replayLimit is the largest request body kept to be sent again: Envoy's default
// per_connection_buffer_limit_bytes (1 MiB), beyond which its router stops retrying a request.
const replayLimit = 1 << 20

// RoundTrip sends the request to the host the pool picks, and again to another one while an
// attempt failed under one of the route's retry conditions (connect failure, reset before or
// after the request was written, a per-try timeout, an answer of a retried status; for a gRPC
// answer its grpc-status header). A body is kept in memory to be sent again, up to replayLimit,
// when the route retries under conditions that may replay the request; otherwise, or beyond
// that, a request whose body was read is never sent again.
func (t *httpRoute) RoundTrip(req *http.Request) (*http.Response, error) {
	policy := retryFor(t.retry, req)
	body := &retryableBody{ReadCloser: req.Body}
	var replay []byte
	switch {
	case req.Body == nil || req.Body == http.NoBody:
	case replays(policy):
		kept, err := io.ReadAll(io.LimitReader(req.Body, replayLimit+1))
		if err != nil {
			return nil, err
		}
		if len(kept) <= replayLimit {
			replay = kept
			break
		}
		body.ReadCloser = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(kept), req.Body), req.Body}
		req.Body = body // too large to keep: sent once, as a body that is not kept
	default:
		req.Body = body
	}
	var resp *http.Response
	err := t.up.pool.try(req.Context(), policy, func(ctx context.Context, h *host, release func()) attemptResult {
		var wrote atomic.Bool
		traced := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteHeaders: func() { wrote.Store(true) }})
		out := req
		if replay != nil {
			out = req.WithContext(traced)
			out.Body = io.NopCloser(bytes.NewReader(replay))
		}
		r, err := t.up.send(traced, out, h.addr)
		t.up.pool.reportHTTP(ctx, h, r, err)
		if err != nil {
			// Classified before release, which cancels the attempt's context (its per-try
			// timeout): after it, ctx.Err() would take every failure for a client gone away.
			res := httpFailure(ctx, err, wrote.Load(), body.read.Load())
			release()
			return res
		}
		r.Body = &releasingBody{ReadCloser: r.Body, release: release}
		resp = r
		f := answeredHTTP(r)
		if body.read.Load() || f.kind == failedNot {
			return attemptResult{}
		}
		return attemptResult{failure: f, discard: func() {
			_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, replayLimit))
			_ = r.Body.Close()
			resp = nil
		}}
	})
	return resp, err
}

// replays reports whether policy retries under a condition that may send a request twice.
func replays(policy *routetable.RetryPolicy) bool {
	if policy == nil {
		return false
	}
	for _, on := range policy.RetryOn {
		if on != retryConnectFailure && on != retryRefusedStream && on != retryResetBeforeRequest {
			return true
		}
	}
	return false
}

// answeredHTTP is what an upstream's answer says to the retry policy: its status, the
// grpc-status of a trailers-only gRPC answer, x-envoy-ratelimited. A 2xx without a gRPC status
// is no failure.
func answeredHTTP(r *http.Response) failure {
	f := answered(r.StatusCode)
	if s, err := strconv.Atoi(r.Header.Get("Grpc-Status")); err == nil {
		f.grpcStatus = codes.Code(s)
	}
	_, f.rateLimited = r.Header["X-Envoy-Ratelimited"]
	if r.StatusCode < 300 && f.grpcStatus == codes.OK {
		return failure{}
	}
	return f
}

// send performs one attempt against the host at addr.
func (u *upstream) send(ctx context.Context, req *http.Request, addr string) (*http.Response, error) {
	attempt := req.WithContext(ctx)
	target := *req.URL
	target.Scheme, target.Host = "http", addr
	if u.cluster.TLS != nil {
		target.Scheme = "https"
	}
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
	case timedOut(ctx):
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

// httpFailure classifies a failed HTTP attempt: the attempt's context ended (the client went
// away, the route timeout or the per-try timeout, which pool.try tells apart), no connection,
// nothing sent, the body consumed (it cannot be sent again), or a reset after sending.
func httpFailure(ctx context.Context, err error, wroteHeaders, bodyRead bool) attemptResult {
	switch {
	case ctx.Err() != nil:
		return attemptResult{err: err}
	case isConnectFailure(err):
		return attemptResult{err: err, failure: failure{kind: failedConnect}}
	case !wroteHeaders && !bodyRead:
		return attemptResult{err: err, failure: failure{kind: failedBeforeRequest}}
	case bodyRead:
		return attemptResult{err: err}
	}
	return attemptResult{err: err, failure: failure{kind: failedReset}}
}
