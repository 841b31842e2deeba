package dataplane

import (
	"log/slog"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
)

// upstream is everything needed to send requests to one cluster: its decoded form, a
// transport (connection pool), gRPC connections for transcoded calls, and the pool of hosts that
// picks each attempt's endpoint under the cluster's policies. Transports, gRPC pools and host
// pools are reused across table swaps while what they depend on stays the same; hosts are kept
// while their address stays, with their requests in flight and their ejection.
type upstream struct {
	cluster   *routetable.Cluster
	transport *http.Transport
	grpc      *grpcPool
	pool      *pool
}

// newUpstreams builds the upstreams of a table, reusing what it can from the previous ones.
// It returns the transports that are no longer used, for the caller to close.
func newUpstreams(table *routetable.Table, prev map[string]*upstream, m *metrics, logger *slog.Logger) (map[string]*upstream, []*http.Transport) {
	next := make(map[string]*upstream, len(table.Clusters()))
	for _, c := range table.Clusters() {
		up := &upstream{cluster: c}
		old := prev[c.Name]
		if old != nil && old.cluster.HTTP2 == c.HTTP2 && old.cluster.ConnectTimeout == c.ConnectTimeout && tlsDigest(old.cluster) == tlsDigest(c) {
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
		if len(c.Unexecuted) > 0 && (old == nil || !slices.Equal(old.cluster.Unexecuted, c.Unexecuted)) {
			logger.Warn("cluster sets policies the embedded gateway does not execute", "cluster", c.Name, "policies", c.Unexecuted)
		}
		switch {
		case old != nil && old.pool.sameAs(c):
			up.pool = old.pool
		case old != nil:
			up.pool = newPool(c, old.pool, m, logger)
		default:
			up.pool = newPool(c, nil, m, logger)
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

// tlsDigest identifies a cluster's TLS settings, "" for plaintext.
func tlsDigest(c *routetable.Cluster) string {
	if c.TLS == nil {
		return ""
	}
	return c.TLS.Digest
}

// newTransport returns a connection pool for one cluster: HTTP/1.1, or cleartext HTTP/2 with
// prior knowledge (h2c) when the cluster asks for HTTP/2; over TLS with the cluster's
// UpstreamTlsContext when it has one (HTTP/2 then negotiated by ALPN, as Envoy's codec for an
// explicit HTTP/2 cluster over TLS). It never uses an environment proxy and never adds
// compression of its own.
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
	switch {
	case c.TLS != nil:
		t.TLSClientConfig = c.TLS.Config.Clone()
		t.TLSHandshakeTimeout = c.ConnectTimeout
		if c.HTTP2 {
			t.Protocols.SetHTTP2(true)
		} else {
			t.Protocols.SetHTTP1(true)
		}
	case c.HTTP2:
		t.Protocols.SetUnencryptedHTTP2(true)
	default:
		t.Protocols.SetHTTP1(true)
	}
	return t
}
