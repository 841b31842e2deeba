package controlplane

import (
	"fmt"
	"hash/maphash"
	"maps"
	"reflect"
	"slices"
	"unsafe"

	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// subscriber is what a resourceCache keeps about one stream: where it is indexed, its open watch
// and what the client holds, kept as a point in the change log rather than a map of versions.
type subscriber struct {
	anonymous bool // not tied to a known stream: forgotten when its watch ends
	closed    bool
	visited   uint64 // the last walk over an index entry that met it
	watch     *openWatch
	// names is the subscribed set the subscriber is indexed under: the subscription's map of its
	// latest watch (read only while that watch is open, or after the stream ended).
	names    map[string]struct{}
	wildcard bool
	// namesHash is the hash of the list of names of the SotW request names comes from.
	namesHash uint64

	// When synced, the client holds every resource it subscribes to as it was at seq (those
	// that existed then), as of the response whose returned map has the address sentMap. A
	// request that hands back another map follows a response the server dropped: the client is
	// then brought up to date from scratch.
	synced  bool
	seq     uint64
	sentMap unsafe.Pointer
}

// openWatch is a watch waiting for a change.
type openWatch struct {
	delta     bool
	namesHash uint64 // SotW: the hash of the request's list of names
	sub       cache.Subscription
	req       *cache.Request
	out       chan cache.Response
	deltaReq  *cache.DeltaRequest
	deltaOut  chan cache.DeltaResponse
}

// subscribes reports whether the subscriber's latest subscription names name explicitly.
func (s *subscriber) subscribes(name string) bool {
	_, ok := s.names[name]
	return ok
}

// inSync reports whether s can be brought up to date from the change log for sub: it was in
// sync, the server hands back the returned map of the last response, and the wildcard state is
// the same.
func (s *subscriber) inSync(sub cache.Subscription) bool {
	return s.synced && mapAddress(sub.ReturnedResources()) == s.sentMap && sub.IsWildcard() == s.wildcard
}

// mapAddress identifies a map value.
func mapAddress(m map[string]string) unsafe.Pointer {
	if m == nil {
		return nil
	}
	return reflect.ValueOf(m).UnsafePointer()
}

// createWatch implements streamCache for state-of-the-world streams.
func (c *resourceCache) createWatch(stream streamKey, req *cache.Request, sub cache.Subscription, out chan cache.Response) (func(), error) {
	if req.GetTypeUrl() != c.typeURL {
		return nil, fmt.Errorf("controlplane: request type %s does not match cache type %s", req.GetTypeUrl(), c.typeURL)
	}
	// A request without a version is the client's first: answer it even when empty.
	replyEmpty := req.GetVersionInfo() == ""
	// The response carries the request back to the server, which reads only its type and
	// version; a copy without the resource names keeps the open watch small.
	short := &cache.Request{Node: req.GetNode(), TypeUrl: req.GetTypeUrl(), VersionInfo: req.GetVersionInfo(),
		ResponseNonce: req.GetResponseNonce(), ErrorDetail: req.GetErrorDetail()}
	w := &openWatch{sub: sub, req: short, out: out, namesHash: c.hashNames(req.GetResourceNames())}
	return c.watch(stream, w, replyEmpty), nil
}

// createDeltaWatch implements streamCache for delta streams.
func (c *resourceCache) createDeltaWatch(stream streamKey, req *cache.DeltaRequest, sub cache.Subscription, out chan cache.DeltaResponse) (func(), error) {
	if req.GetTypeUrl() != c.typeURL {
		return nil, fmt.Errorf("controlplane: request type %s does not match cache type %s", req.GetTypeUrl(), c.typeURL)
	}
	// The first request of a wildcard subscription expects an answer to finish initialising.
	replyEmpty := sub.IsWildcard() && req.GetResponseNonce() == ""
	return c.watch(stream, &openWatch{delta: true, sub: sub, deltaReq: req, deltaOut: out}, replyEmpty), nil
}

// watch answers w at once when something is due, and otherwise keeps it open.
func (c *resourceCache) watch(stream streamKey, w *openWatch, replyEmpty bool) func() {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.streams[stream]
	if s == nil {
		s = &subscriber{anonymous: stream.id == 0}
		if !s.anonymous {
			c.streams[stream] = s
		}
	}
	s.watch = w
	if !s.inSync(w.sub) {
		// A new stream (the client holds what its request says), a new wildcard state, or a
		// dropped response: compare the whole subscription with what the server says it holds.
		c.index(s, w.sub, w.namesHash)
		known := w.sub.ReturnedResources()
		fresh := c.subscribedNames(s)
		for name := range known {
			fresh = append(fresh, name) // removed resources the client still holds
		}
		c.answer(s, fresh, nil, known, replyEmpty)
	} else {
		c.answerChanges(s, c.freshNames(s, w), replyEmpty)
	}
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if s.watch == w {
			s.watch = nil
		}
		if s.anonymous {
			c.drop(s)
		}
	}
}

// freshNames updates s to w's subscription and returns the names it newly subscribes to, whose
// resources the client does not hold. State of the world requests carry the whole subscription
// (compared with the previous one); delta requests carry the names added, and a wildcard
// subscription marks a name to send again with an empty version in the returned map.
func (c *resourceCache) freshNames(s *subscriber, w *openWatch) []string {
	subscribed := w.sub.SubscribedResources()
	var fresh []string
	if w.delta {
		for _, name := range w.deltaReq.GetResourceNamesSubscribe() {
			if name != "*" {
				fresh = append(fresh, name)
			}
		}
		for name, version := range w.sub.ReturnedResources() {
			if version == "" {
				fresh = append(fresh, name)
			}
		}
	} else if w.namesHash != s.namesHash || len(subscribed) != len(s.names) {
		// The same list of names as last time (the usual ACK) skips the comparison by set.
		for name := range subscribed {
			if !s.subscribes(name) {
				fresh = append(fresh, name)
			}
		}
	}
	s.namesHash = w.namesHash
	s.names = subscribed
	c.indexNames(s, fresh)
	return fresh
}

// hashNames hashes a list of names, in order: reading each name once in sequence is much cheaper
// than looking every name up in a set.
func (c *resourceCache) hashNames(names []string) uint64 {
	var h maphash.Hash
	h.SetSeed(c.seed)
	for _, name := range names {
		h.WriteString(name)
		h.WriteByte(0)
	}
	return h.Sum64()
}

// index files s under the names of sub (or as wildcard). Entries for names it no longer
// subscribes stay until those names change.
func (c *resourceCache) index(s *subscriber, sub cache.Subscription, namesHash uint64) {
	s.names = sub.SubscribedResources()
	s.namesHash = namesHash
	if sub.IsWildcard() {
		c.wildcard[s] = struct{}{}
	} else {
		delete(c.wildcard, s)
	}
	s.wildcard = sub.IsWildcard()
	c.indexNames(s, slices.Collect(maps.Keys(s.names)))
}

// indexNames files s under names.
func (c *resourceCache) indexNames(s *subscriber, names []string) {
	for _, name := range names {
		c.byName[name] = append(c.byName[name], s)
	}
}

// drop forgets a subscriber whose stream ended.
func (c *resourceCache) drop(s *subscriber) {
	s.closed = true
	s.watch = nil
	delete(c.wildcard, s)
	for name := range s.names {
		list := slices.DeleteFunc(c.byName[name], func(x *subscriber) bool { return x == s })
		if len(list) == 0 {
			delete(c.byName, name)
		} else {
			c.byName[name] = list
		}
	}
}

// streamClosed implements streamCache.
func (c *resourceCache) streamClosed(stream streamKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.streams[stream]; s != nil {
		delete(c.streams, stream)
		c.drop(s)
	}
}
