package controlplane

import (
	"context"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// sendOrder is the order in which a stream sends what is due: clusters before their load
// assignments, listeners before their route configurations (make before break, as Envoy's xDS
// protocol documentation recommends for ADS). Other types follow in the order requested.
var sendOrder = []string{resource.ClusterType, resource.EndpointType, resource.ListenerType, resource.RouteType, DubboRouteType}

// adsServer serves the xDS streams, state of the world and delta, from the Server's
// collections. It replaces go-control-plane's server for rpcbridge's resources: a stream keeps,
// per type, a shared name set and a position in the change log (see typeStream) instead of maps
// of names and versions, so a connected proxy costs a few hundred bytes of state whatever the
// number of resources. Its protocol follows go-control-plane v0.14.0's sotw and delta servers
// (pkg/server/sotw/v3/ads.go, pkg/server/delta/v3/server.go): a stale state-of-the-world
// request is ignored, one response per type is outstanding until the client's next request,
// legacy wildcard subscriptions (a first request without names) are honoured.
type adsServer struct {
	srv     *Server
	ctx     context.Context
	streams atomic.Int64
}

// adsStream is one stream being served.
type adsStream struct {
	a        *adsServer
	id       int64
	delta    bool
	node     *corev3.Node
	target   target
	targeted bool
	wakeC    chan struct{}
	types    map[string]*typeStream
	order    []*typeStream
	nonce    int64
	timer    *time.Timer
}

// wake asks the stream to look for due responses; it never blocks.
func (st *adsStream) wake() {
	select {
	case st.wakeC <- struct{}{}:
	default:
	}
}

// StreamAggregatedResources implements discoveryv3.AggregatedDiscoveryServiceServer.
func (a *adsServer) StreamAggregatedResources(s discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesServer) error {
	return a.serveSotW(s, "")
}

// DeltaAggregatedResources implements discoveryv3.AggregatedDiscoveryServiceServer.
func (a *adsServer) DeltaAggregatedResources(s discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesServer) error {
	return a.serveDelta(s, "")
}

// serveSotW serves a state-of-the-world stream; defaultType is the type of a per-type
// service's stream ("" for ADS, whose requests must name their type).
func (a *adsServer) serveSotW(s sotwStream, defaultType string) error {
	st := a.open(false)
	defer st.close()
	reqs := receive(s)
	send := func(ts *typeStream, b built) error {
		resp := b.sotwResponse(ts.typeURL, st.nextNonce())
		if err := s.Send(resp); err != nil {
			return err
		}
		st.sent(ts, b.version, resp.GetNonce(), proto.Size(resp))
		return nil
	}
	return serveLoop(st, s.Context(), reqs, func(req *discoveryv3.DiscoveryRequest) error {
		if req.GetTypeUrl() == "" {
			if defaultType == "" {
				return status.Error(codes.InvalidArgument, "type URL is required for ADS")
			}
			req.TypeUrl = defaultType
		}
		st.sotwRequest(req)
		return nil
	}, func(ts *typeStream) error {
		if b, ok := ts.build(false); ok {
			return send(ts, b)
		}
		return nil
	})
}

// serveDelta serves a delta stream; defaultType as for serveSotW.
func (a *adsServer) serveDelta(s deltaStream, defaultType string) error {
	st := a.open(true)
	defer st.close()
	reqs := receive(s)
	return serveLoop(st, s.Context(), reqs, func(req *discoveryv3.DeltaDiscoveryRequest) error {
		if req.GetTypeUrl() == "" {
			if defaultType == "" {
				return status.Error(codes.InvalidArgument, "type URL is required for ADS")
			}
			req.TypeUrl = defaultType
		}
		st.deltaRequest(req)
		return nil
	}, func(ts *typeStream) error {
		b, ok := ts.build(true)
		if !ok {
			return nil
		}
		resp := b.deltaResponse(ts.typeURL, st.nextNonce())
		if err := s.Send(resp); err != nil {
			return err
		}
		st.sent(ts, b.version, resp.GetNonce(), proto.Size(resp))
		return nil
	})
}

// receive reads a stream's requests into a channel, closed when the stream ends.
func receive[Req, Resp any](s grpc.BidiStreamingServer[Req, Resp]) <-chan *Req {
	reqs := make(chan *Req)
	go func() {
		defer close(reqs)
		for {
			req, err := s.Recv()
			if err != nil {
				return
			}
			select {
			case reqs <- req:
			case <-s.Context().Done():
				return
			}
		}
	}()
	return reqs
}

// open starts the bookkeeping of a new stream.
func (a *adsServer) open(delta bool) *adsStream {
	a.srv.metrics.StreamOpened()
	return &adsStream{a: a, id: a.streams.Add(1), delta: delta, wakeC: make(chan struct{}, 1), types: map[string]*typeStream{}}
}

// close forgets the stream's subscriptions.
func (st *adsStream) close() {
	for _, ts := range st.order {
		if ts.coll != nil {
			ts.coll.unsubscribe(ts)
		}
		st.a.srv.names.release(ts.names)
	}
	if st.timer != nil {
		st.timer.Stop()
	}
	st.a.srv.metrics.StreamClosed()
}

// serveLoop is a stream's main loop: each request, wake-up or backoff timer is followed by a
// pass over the types in send order that sends each one's due response.
func serveLoop[Req any](st *adsStream, ctx context.Context, reqs <-chan *Req, handle func(*Req) error, flush func(*typeStream) error) error {
	for {
		var timerC <-chan time.Time
		if st.timer != nil {
			timerC = st.timer.C
		}
		select {
		case req, ok := <-reqs:
			if !ok {
				return nil
			}
			if err := handle(req); err != nil {
				return err
			}
		case <-st.wakeC:
		case <-timerC:
			st.timer = nil
		case <-ctx.Done():
			return nil
		case <-st.a.ctx.Done():
			return nil
		}
		if err := st.flush(flush); err != nil {
			return status.Errorf(codes.Unavailable, "sending: %v", err)
		}
	}
}

// flush sends, type by type, what is due and allowed: nothing while a response is waiting for
// the client's answer, and after NACKs not before the backoff since the last push has passed.
func (st *adsStream) flush(send func(*typeStream) error) error {
	var retry time.Duration
	for _, ts := range st.order {
		if ts.coll == nil || ts.pending {
			continue
		}
		if ts.nacks > 0 {
			if wait := time.Until(ts.lastPush.Add(backoffAfter(ts.nacks, st.a.srv.opts.NACKBackoffInitial, st.a.srv.opts.NACKBackoffMax))); wait > 0 {
				if retry == 0 || wait < retry {
					retry = wait
				}
				continue
			}
		}
		if err := send(ts); err != nil {
			return err
		}
	}
	if retry > 0 && st.timer == nil {
		st.timer = time.NewTimer(retry)
	}
	return nil
}

// stateOf returns the state of typeURL on the stream, creating it for a first request.
func (st *adsStream) stateOf(typeURL string, node *corev3.Node) (ts *typeStream, first bool) {
	if node != nil && st.node == nil {
		st.node = node
	}
	if ts := st.types[typeURL]; ts != nil {
		return ts, false
	}
	if !st.targeted {
		st.target, st.targeted = st.a.srv.targetOf(st.node.GetCluster()), true
	}
	ts = &typeStream{stream: st, typeURL: typeURL, legacy: true, names: st.a.srv.names.empty,
		coll: st.a.srv.collectionFor(st.target, typeURL)}
	st.types[typeURL] = ts
	st.order = append(st.order, ts)
	slices.SortStableFunc(st.order, func(a, b *typeStream) int { return sendRank(a.typeURL) - sendRank(b.typeURL) })
	if ts.coll != nil {
		ts.coll.subscribe(ts)
	}
	return ts, true
}

// sendRank is a type's place in sendOrder; other types come after.
func sendRank(typeURL string) int {
	if i := slices.Index(sendOrder, typeURL); i >= 0 {
		return i
	}
	return len(sendOrder)
}

// answered records the client's answer to the type's last response: an ACK resets the NACK
// streak, a NACK extends it and is logged and counted.
func (st *adsStream) answered(ts *typeStream, nonce string, rejection *statuspb.Status) {
	ts.requested = time.Now()
	if rejection != nil {
		ts.nacks++
		rejected := ""
		if nonce == ts.nonce {
			rejected = ts.sentVersion
		}
		st.a.srv.metrics.NACK(ts.typeURL)
		st.a.srv.log.Warn("xDS client rejected a response",
			"node", st.node.GetId(), "node_cluster", st.node.GetCluster(), "type_url", ts.typeURL,
			"nonce", nonce, "rejected_version", rejected, "delta", st.delta, "error", rejection.GetMessage())
		return
	}
	if nonce != "" && nonce == ts.nonce {
		ts.nacks = 0
	}
}

// sotwRequest applies a state-of-the-world request.
func (st *adsStream) sotwRequest(req *discoveryv3.DiscoveryRequest) {
	ts, first := st.stateOf(req.GetTypeUrl(), req.GetNode())
	if ts.pending && req.GetResponseNonce() != ts.nonce {
		return // stale: an answer to an earlier response, the client will answer the last one
	}
	ts.pending = false
	st.answered(ts, req.GetResponseNonce(), req.GetErrorDetail())
	names := req.GetResourceNames()
	if first {
		ts.replyEmpty = req.GetVersionInfo() == ""
	}
	if ts.legacy {
		if len(names) == 0 {
			if first {
				st.setSubscription(ts, st.a.srv.names.empty, true)
				st.resumeSotW(ts, req.GetVersionInfo())
			}
			return
		}
		ts.legacy = false
	}
	sum := st.a.srv.names.listSum(names)
	if !first && sum == ts.listSum && len(names) == ts.listLen {
		return // the usual ACK: the same list of names as last time
	}
	ts.listSum, ts.listLen = sum, len(names)
	next, wildcard := st.a.srv.names.fromList(names)
	old := ts.names
	if wildcard != ts.wildcard {
		ts.synced = false // the client now wants every resource, or keeps only what it names
	} else if !wildcard {
		for name := range next.names {
			if !old.has(name) {
				ts.fresh = append(ts.fresh, name)
			}
		}
	}
	st.setSubscription(ts, next, wildcard)
	st.a.srv.names.release(old)
	if first {
		st.resumeSotW(ts, req.GetVersionInfo())
	}
}

// resumeSotW takes a first request's version of a listener or cluster type, when it is the
// current one, as saying that the client already holds the current resources (a client that
// reconnects): they are not sent again until they change.
func (st *adsStream) resumeSotW(ts *typeStream, version string) {
	if ts.coll == nil || !ts.coll.fullState || version == "" {
		return
	}
	ts.coll.mu.Lock()
	if ts.coll.ready && ts.coll.version == version {
		ts.synced, ts.seq = true, ts.coll.seq
	}
	ts.coll.mu.Unlock()
}

// deltaRequest applies a delta request.
func (st *adsStream) deltaRequest(req *discoveryv3.DeltaDiscoveryRequest) {
	ts, first := st.stateOf(req.GetTypeUrl(), req.GetNode())
	ts.pending = false
	st.answered(ts, req.GetResponseNonce(), req.GetErrorDetail())
	subscribe, unsubscribe := req.GetResourceNamesSubscribe(), req.GetResourceNamesUnsubscribe()
	wildcard := ts.wildcard
	if first {
		ts.known = req.GetInitialResourceVersions()
		wildcard = len(subscribe) == 0
	}
	if ts.legacy {
		if len(subscribe) == 0 {
			// A legacy wildcard subscription ignores the rest of the request, as
			// go-control-plane's stream.Subscription does.
			st.setSubscription(ts, ts.names, wildcard)
			ts.replyEmpty = ts.replyEmpty || (wildcard && req.GetResponseNonce() == "")
			return
		}
		ts.legacy = false
	}
	var add, remove []string
	for _, name := range subscribe {
		if name == explicitWildcard {
			if !wildcard {
				ts.synced = false
			}
			wildcard = true
			continue
		}
		add = append(add, name)
		ts.fresh = append(ts.fresh, name) // an explicit subscription is answered, held or not
	}
	for _, name := range unsubscribe {
		if name == explicitWildcard {
			wildcard = false
			continue
		}
		if ts.names.has(name) && wildcard {
			ts.fresh = append(ts.fresh, name) // still wanted through the wildcard: sent again
		}
		remove = append(remove, name)
	}
	old := ts.names
	next := old
	if len(add)+len(remove) > 0 {
		next, _ = st.a.srv.names.changed(old, add, remove)
	}
	st.setSubscription(ts, next, wildcard)
	if next != old {
		st.a.srv.names.release(old)
	}
	ts.replyEmpty = ts.replyEmpty || (wildcard && req.GetResponseNonce() == "")
}

// setSubscription sets what ts subscribes to.
func (st *adsStream) setSubscription(ts *typeStream, names *nameSet, wildcard bool) {
	if ts.coll == nil {
		ts.names, ts.wildcard = names, wildcard
		return
	}
	ts.coll.setSubscription(ts, names, wildcard)
}

// sent records a response of size bytes pushed for ts.
func (st *adsStream) sent(ts *typeStream, version, nonce string, size int) {
	ts.pending, ts.nonce, ts.sentVersion, ts.lastPush = true, nonce, version, time.Now()
	st.a.srv.metrics.Pushed(ts.typeURL, ts.requested, size)
}

// nextNonce numbers the stream's responses.
func (st *adsStream) nextNonce() string {
	st.nonce++
	return strconv.FormatInt(st.nonce, 10)
}
