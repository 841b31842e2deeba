package controlplane

import (
	"context"
	"log/slog"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/protobuf/proto"

	"github.com/rpcbridge/rpcbridge/internal/backoff"
	"github.com/rpcbridge/rpcbridge/telemetry"
)

// nackGuard sits between go-control-plane's xDS server and the caches. It implements
// cache.Cache around a streamCache (telling it each watch's stream and when a stream ends) and server.Callbacks to see each stream's requests and
// responses, and fixes how v0.14.0 treats a NACK:
//
//   - State of the world: a NACK carries the last accepted version, which differs from the
//     snapshot's, so the cache answers at once with the same rejected config, in a loop. The
//     guard rewrites the NACK's version to the rejected one before the cache sees it, so the cache
//     waits for new content instead.
//   - Delta: the cache already remembers what it sent, so it does not re-send; the guard only
//     logs and counts.
//   - Both: while a client keeps NACKing, pushes to it on that type are spaced by an exponential
//     backoff (initial, doubling up to max); an ACK resets it.
//
// Requests are tied to their stream by pointer: the server calls OnStream(Delta)Request and then
// Create(Delta)Watch with the same request.
type nackGuard struct {
	inner   streamCache
	log     *slog.Logger
	metrics *telemetry.XDSMetrics
	initial time.Duration
	max     time.Duration

	mu      sync.Mutex
	pending map[any]streamKey
	streams map[streamKey]map[string]*pushState
}

var (
	_ cache.Cache      = (*nackGuard)(nil)
	_ server.Callbacks = (*nackGuard)(nil)
)

// streamKey names a stream; SotW and delta streams are numbered separately by the server.
type streamKey struct {
	delta bool
	id    int64
}

// pushState is what the guard knows about one type on one stream.
type pushState struct {
	sentVersion string // SotW: version_info of the last response
	sentNonce   string
	lastPush    time.Time
	nacks       int // consecutive NACKs
	// requested is when the last request of the type arrived, the earliest a response to it
	// could go out (the start of its push latency when it is later than the last change).
	requested time.Time
}

// newNACKGuard wraps inner.
func newNACKGuard(inner streamCache, log *slog.Logger, m *telemetry.XDSMetrics, initial, maxBackoff time.Duration) *nackGuard {
	return &nackGuard{
		inner:   inner,
		log:     log,
		metrics: m,
		initial: initial,
		max:     maxBackoff,
		pending: map[any]streamKey{},
		streams: map[streamKey]map[string]*pushState{},
	}
}

// CreateWatch implements cache.ConfigWatcher for state-of-the-world streams.
func (g *nackGuard) CreateWatch(req *cache.Request, sub cache.Subscription, out chan cache.Response) (func(), error) {
	key, ok := g.claim(req)
	if !ok {
		return g.inner.createWatch(streamKey{}, req, sub, out)
	}
	nack := req.GetErrorDetail() != nil
	g.mu.Lock()
	st := g.state(key, req.GetTypeUrl())
	st.requested = time.Now()
	rejected := ""
	switch {
	case nack:
		st.nacks++
		if req.GetResponseNonce() == st.sentNonce {
			rejected = st.sentVersion
		}
	case req.GetResponseNonce() != "" && req.GetResponseNonce() == st.sentNonce:
		st.nacks = 0
	}
	streak := st.nacks
	g.mu.Unlock()

	if nack {
		g.recordNACK(req.GetNode(), req.GetTypeUrl(), req.GetResponseNonce(), rejected, req.GetErrorDetail().GetMessage(), false)
		if rejected != "" && rejected != req.GetVersionInfo() {
			// Tell the cache the client holds the rejected version: it then answers only when the
			// content changes. The stream keeps its own copy of the original request.
			req = proto.Clone(req).(*cache.Request)
			req.VersionInfo = rejected
		}
	}
	if streak == 0 {
		return g.inner.createWatch(key, req, sub, out)
	}
	mid := make(chan cache.Response, 1)
	cancel, err := g.inner.createWatch(key, req, sub, mid)
	if err != nil {
		return nil, err
	}
	return relay(mid, out, g.waitFunc(key, req.GetTypeUrl()), cancel), nil
}

// CreateDeltaWatch implements cache.ConfigWatcher for delta streams.
func (g *nackGuard) CreateDeltaWatch(req *cache.DeltaRequest, sub cache.Subscription, out chan cache.DeltaResponse) (func(), error) {
	key, ok := g.claim(req)
	if !ok {
		return g.inner.createDeltaWatch(streamKey{delta: true}, req, sub, out)
	}
	nack := req.GetErrorDetail() != nil
	g.mu.Lock()
	st := g.state(key, req.GetTypeUrl())
	st.requested = time.Now()
	switch {
	case nack:
		st.nacks++
	case req.GetResponseNonce() != "" && req.GetResponseNonce() == st.sentNonce:
		st.nacks = 0
	}
	streak := st.nacks
	g.mu.Unlock()

	if nack {
		g.recordNACK(req.GetNode(), req.GetTypeUrl(), req.GetResponseNonce(), "", req.GetErrorDetail().GetMessage(), true)
	}
	if streak == 0 {
		return g.inner.createDeltaWatch(key, req, sub, out)
	}
	mid := make(chan cache.DeltaResponse, 1)
	cancel, err := g.inner.createDeltaWatch(key, req, sub, mid)
	if err != nil {
		return nil, err
	}
	return relay(mid, out, g.waitFunc(key, req.GetTypeUrl()), cancel), nil
}

// Fetch implements cache.ConfigFetcher (REST), unchanged.
func (g *nackGuard) Fetch(ctx context.Context, req *cache.Request) (cache.Response, error) {
	return g.inner.Fetch(ctx, req)
}

// recordNACK logs and counts one rejected response.
func (g *nackGuard) recordNACK(node *corev3.Node, typeURL, nonce, rejected, detail string, delta bool) {
	g.metrics.NACK(typeURL)
	g.log.Warn("xDS client rejected a response",
		"node", node.GetId(), "node_cluster", node.GetCluster(), "type_url", typeURL,
		"nonce", nonce, "rejected_version", rejected, "delta", delta, "error", detail)
}

// claim returns the stream a request arrived on, forgetting the association.
func (g *nackGuard) claim(req any) (streamKey, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	key, ok := g.pending[req]
	delete(g.pending, req)
	return key, ok
}

// state returns the push state of a type on a stream; callers hold g.mu.
func (g *nackGuard) state(key streamKey, typeURL string) *pushState {
	types := g.streams[key]
	if types == nil {
		// The stream is closing; hand out a state nobody keeps.
		return &pushState{}
	}
	st := types[typeURL]
	if st == nil {
		st = &pushState{}
		types[typeURL] = st
	}
	return st
}

// waitFunc returns how long a response must still wait before it may be pushed.
func (g *nackGuard) waitFunc(key streamKey, typeURL string) func() time.Duration {
	return func() time.Duration {
		g.mu.Lock()
		defer g.mu.Unlock()
		st := g.state(key, typeURL)
		if st.nacks == 0 {
			return 0
		}
		return time.Until(st.lastPush.Add(backoffAfter(st.nacks, g.initial, g.max)))
	}
}

// backoffAfter is the minimum time between two pushes after nacks consecutive NACKs: 0 without
// NACKs, then initial, doubling with each NACK, at most maxBackoff. No jitter: it only delays a
// response the cache has already built for one stream, so spreading the delays across clients
// would save the control plane no work.
func backoffAfter(nacks int, initial, maxBackoff time.Duration) time.Duration {
	if nacks <= 0 {
		return 0
	}
	return backoff.Config{BaseDelay: initial, Multiplier: 2, MaxDelay: maxBackoff}.Backoff(nacks - 1)
}

// relay forwards the one response that arrives on in to out once wait allows, unless the
// returned cancel function is called first. After cancel returns, nothing more reaches out.
func relay[T any](in <-chan T, out chan<- T, wait func() time.Duration, cancelInner func()) func() {
	return relayVia(in, out, wait, func(r T) T { return r }, cancelInner)
}

// relayVia is relay with the response passed through transform.
func relayVia[T any](in <-chan T, out chan<- T, wait func() time.Duration, transform func(T) T, cancelInner func()) func() {
	done := make(chan struct{})
	var once sync.Once
	var forwarding sync.Mutex
	go func() {
		var resp T
		select {
		case resp = <-in:
		case <-done:
			return
		}
		resp = transform(resp)
		if d := wait(); d > 0 {
			timer := time.NewTimer(d)
			defer timer.Stop()
			select {
			case <-timer.C:
			case <-done:
				return
			}
		}
		forwarding.Lock()
		defer forwarding.Unlock()
		select {
		case <-done:
		case out <- resp:
		}
	}()
	return func() {
		once.Do(func() { close(done) })
		// Wait for a forward in progress, so that none completes after cancel returns.
		forwarding.Lock()
		forwarding.Unlock() //nolint:staticcheck // an intentionally empty critical section
		if cancelInner != nil {
			cancelInner()
		}
	}
}

// open and closed track streams.
func (g *nackGuard) open(key streamKey) {
	g.mu.Lock()
	g.streams[key] = map[string]*pushState{}
	g.mu.Unlock()
	g.metrics.StreamOpened()
}

func (g *nackGuard) closed(key streamKey) {
	g.mu.Lock()
	delete(g.streams, key)
	for req, k := range g.pending {
		if k == key {
			delete(g.pending, req)
		}
	}
	g.mu.Unlock()
	g.inner.streamClosed(key)
	g.metrics.StreamClosed()
}

// sent records a response of size bytes pushed on a stream.
func (g *nackGuard) sent(key streamKey, typeURL, version, nonce string, size int) {
	g.mu.Lock()
	st := g.state(key, typeURL)
	st.sentVersion, st.sentNonce, st.lastPush = version, nonce, time.Now()
	requested := st.requested
	g.mu.Unlock()
	g.metrics.Pushed(typeURL, requested, size)
}

func (g *nackGuard) request(key streamKey, req any) {
	g.mu.Lock()
	g.pending[req] = key
	g.mu.Unlock()
}

// OnStreamOpen implements server.Callbacks.
func (g *nackGuard) OnStreamOpen(_ context.Context, id int64, _ string) error {
	g.open(streamKey{id: id})
	return nil
}

// OnStreamClosed implements server.Callbacks.
func (g *nackGuard) OnStreamClosed(id int64, _ *corev3.Node) { g.closed(streamKey{id: id}) }

// OnStreamRequest implements server.Callbacks.
func (g *nackGuard) OnStreamRequest(id int64, req *discoveryv3.DiscoveryRequest) error {
	g.request(streamKey{id: id}, req)
	return nil
}

// OnStreamResponse implements server.Callbacks.
func (g *nackGuard) OnStreamResponse(_ context.Context, id int64, _ *discoveryv3.DiscoveryRequest, resp *discoveryv3.DiscoveryResponse) {
	g.sent(streamKey{id: id}, resp.GetTypeUrl(), resp.GetVersionInfo(), resp.GetNonce(), proto.Size(resp))
}

// OnDeltaStreamOpen implements server.Callbacks.
func (g *nackGuard) OnDeltaStreamOpen(_ context.Context, id int64, _ string) error {
	g.open(streamKey{delta: true, id: id})
	return nil
}

// OnDeltaStreamClosed implements server.Callbacks.
func (g *nackGuard) OnDeltaStreamClosed(id int64, _ *corev3.Node) {
	g.closed(streamKey{delta: true, id: id})
}

// OnStreamDeltaRequest implements server.Callbacks.
func (g *nackGuard) OnStreamDeltaRequest(id int64, req *discoveryv3.DeltaDiscoveryRequest) error {
	g.request(streamKey{delta: true, id: id}, req)
	return nil
}

// OnStreamDeltaResponse implements server.Callbacks.
func (g *nackGuard) OnStreamDeltaResponse(id int64, _ *discoveryv3.DeltaDiscoveryRequest, resp *discoveryv3.DeltaDiscoveryResponse) {
	g.sent(streamKey{delta: true, id: id}, resp.GetTypeUrl(), resp.GetSystemVersionInfo(), resp.GetNonce(), proto.Size(resp))
}

// OnFetchRequest implements server.Callbacks.
func (g *nackGuard) OnFetchRequest(context.Context, *discoveryv3.DiscoveryRequest) error { return nil }

// OnFetchResponse implements server.Callbacks.
func (g *nackGuard) OnFetchResponse(*discoveryv3.DiscoveryRequest, *discoveryv3.DiscoveryResponse) {
}
