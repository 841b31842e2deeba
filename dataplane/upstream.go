package dataplane

import (
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
)

// upstream is everything needed to send requests to one cluster: its decoded form, a
// transport (connection pool), gRPC connections for transcoded calls and a load balancer.
// Transports, gRPC pools and balancers are reused across table swaps while the cluster's
// protocol and endpoints stay the same.
type upstream struct {
	cluster   *routetable.Cluster
	transport *http.Transport
	grpc      *grpcPool
	balancer  *smoothWRR
}

// newUpstreams builds the upstreams of a table, reusing what it can from the previous ones.
// It returns the transports that are no longer used, for the caller to close.
func newUpstreams(table *routetable.Table, prev map[string]*upstream) (map[string]*upstream, []*http.Transport) {
	next := make(map[string]*upstream, len(table.Clusters()))
	for _, c := range table.Clusters() {
		up := &upstream{cluster: c}
		old := prev[c.Name]
		if old != nil && old.cluster.HTTP2 == c.HTTP2 && old.cluster.ConnectTimeout == c.ConnectTimeout {
			up.transport = old.transport
		} else {
			up.transport = newTransport(c)
		}
		if old != nil && old.grpc.connectTimeout == c.ConnectTimeout {
			up.grpc = old.grpc
		} else {
			up.grpc = newGRPCPool(c.ConnectTimeout)
		}
		up.grpc.retain(c.Endpoints)
		if old != nil && old.balancer.sameEndpoints(c.Endpoints) {
			up.balancer = old.balancer
		} else {
			up.balancer = newSmoothWRR(c.Endpoints)
		}
		next[c.Name] = up
	}
	var unused []*http.Transport
	for name, old := range prev {
		if up, ok := next[name]; !ok || up.transport != old.transport {
			unused = append(unused, old.transport)
		}
	}
	return next, unused
}

// newTransport returns a connection pool for one cluster: HTTP/1.1, or cleartext HTTP/2 with
// prior knowledge (h2c) when the cluster asks for HTTP/2. It never uses an environment proxy
// and never adds compression of its own.
func newTransport(c *routetable.Cluster) *http.Transport {
	dialer := &net.Dialer{Timeout: c.ConnectTimeout, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		DialContext:         dialer.DialContext,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 128,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		Protocols:           new(http.Protocols),
	}
	if c.HTTP2 {
		t.Protocols.SetUnencryptedHTTP2(true)
	} else {
		t.Protocols.SetHTTP1(true)
	}
	return t
}

// RoundTrip sends the request to an endpoint chosen by the balancer. When connecting fails,
// nothing of the request has been sent, so it is tried once more on another endpoint.
func (u *upstream) RoundTrip(req *http.Request) (*http.Response, error) {
	first, ok := u.balancer.pick("")
	if !ok {
		return nil, errNoEndpoint
	}
	body := &retryableBody{ReadCloser: req.Body}
	if req.Body != nil {
		req.Body = body
	}
	resp, err := u.send(req, first)
	if err == nil || !isConnectFailure(err) || body.read.Load() || req.Context().Err() != nil {
		return resp, err
	}
	second, ok := u.balancer.pick(first.Address)
	if !ok {
		return nil, err
	}
	return u.send(req, second)
}

// send performs one attempt against one endpoint.
func (u *upstream) send(req *http.Request, ep routetable.Endpoint) (*http.Response, error) {
	attempt := req.WithContext(req.Context())
	target := *req.URL
	target.Scheme, target.Host = "http", ep.Address
	attempt.URL = &target
	if attempt.Host == autoHost {
		attempt.Host = ep.Address
	}
	return u.transport.RoundTrip(attempt)
}

// autoHost is the outgoing Host placeholder for routes with auto_host_rewrite: the endpoint's
// address replaces it.
const autoHost = "rpcbridge.auto-host-rewrite.invalid"

// errNoEndpoint means a cluster had no endpoint to pick.
var errNoEndpoint = errors.New("no healthy endpoint")

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

// isConnectFailure reports whether err happened while connecting to the endpoint (refused,
// unreachable, connect timeout), before any byte of the request was written.
func isConnectFailure(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
