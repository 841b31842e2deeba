package controlplane

import (
	"fmt"
	"reflect"
	"unsafe"

	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// subscriber is what a resourceCache keeps about one stream: where it is indexed, its open watch
// and the state of its last response, which lets an unchanged request skip the rescan.
type subscriber struct {
	anonymous bool // not tied to a known stream: forgotten when its watch ends
	closed    bool
	watch     *openWatch
	// names is the subscribed set the subscriber is indexed under: the subscription's map of its
	// latest watch (read only while that watch is open, or after the stream ended).
	names    map[string]struct{}
	wildcard bool

	// The state of the last response (or last check that found nothing to send): the changes
	// up to seq are reflected in the returned map (identified by its address, with retLen
	// entries), for a subscription of subCount names of which missing were not returned.
	valid    bool
	seq      uint64
	returned unsafe.Pointer
	retLen   int
	subCount int
	missing  []string
}

// openWatch is a watch waiting for a change.
type openWatch struct {
	delta    bool
	sub      cache.Subscription
	req      *cache.Request
	out      chan cache.Response
	deltaReq *cache.DeltaRequest
	deltaOut chan cache.DeltaResponse
}

// subscribes reports whether the subscriber's latest subscription names name explicitly.
func (s *subscriber) subscribes(name string) bool {
	_, ok := s.names[name]
	return ok
}

// remember records the state of a response (or of a check that sent nothing). updated and
// removed are the names just sent and dropped; full says the missing names must be recomputed.
func (s *subscriber) remember(c *resourceCache, sub cache.Subscription, returned map[string]string, updated, removed []string, full bool) {
	s.valid = true
	s.seq = c.seq
	s.returned = mapAddress(returned)
	s.retLen = len(returned)
	s.wildcard = sub.IsWildcard()
	s.subCount = len(sub.SubscribedResources())
	if full {
		s.missing = s.missing[:0]
		for name := range sub.SubscribedResources() {
			if _, ok := returned[name]; !ok {
				s.missing = append(s.missing, name)
			}
		}
		return
	}
	if len(updated) > 0 {
		kept := s.missing[:0]
		for _, name := range s.missing {
			if _, ok := returned[name]; !ok {
				kept = append(kept, name)
			}
		}
		s.missing = kept
	}
	for _, name := range removed {
		if s.subscribes(name) {
			s.missing = append(s.missing, name)
		}
	}
}

// unchanged reports whether sub is the subscription s was last answered for, with the returned
// map of that answer: then only the changes since can require a response.
func (s *subscriber) unchanged(sub cache.Subscription) bool {
	known := sub.ReturnedResources()
	subscribed := sub.SubscribedResources()
	if !s.valid || mapAddress(known) != s.returned || len(known) != s.retLen ||
		sub.IsWildcard() != s.wildcard || len(subscribed) != s.subCount {
		return false
	}
	if s.wildcard {
		// With explicit names next to the wildcard the returned map says nothing about them.
		return s.subCount == 0
	}
	// The server only ever deletes from the returned map, and every returned name was
	// subscribed: an unchanged length means every returned name is still subscribed; with the
	// missing ones still there and the same count, the subscription is the same set.
	for _, name := range s.missing {
		if _, ok := subscribed[name]; !ok {
			return false
		}
	}
	return true
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
	return c.watch(stream, &openWatch{sub: sub, req: req, out: out}, replyEmpty), nil
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
	if s.unchanged(w.sub) {
		// An ACK or a repeated request: the index holds, only the changes since can matter.
		s.names = w.sub.SubscribedResources()
		names, ok := c.changesSince(s)
		c.answer(s, names, ok, replyEmpty)
	} else {
		c.index(s, w.sub)
		c.answer(s, nil, false, replyEmpty)
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

// index files s under the names of sub (or as wildcard). Entries for names it no longer
// subscribes stay until those names change.
func (c *resourceCache) index(s *subscriber, sub cache.Subscription) {
	s.names = sub.SubscribedResources()
	if sub.IsWildcard() {
		c.wildcard[s] = struct{}{}
	} else {
		delete(c.wildcard, s)
	}
	for name := range s.names {
		set := c.byName[name]
		if set == nil {
			set = map[*subscriber]struct{}{}
			c.byName[name] = set
		}
		set[s] = struct{}{}
	}
}

// drop forgets a subscriber whose stream ended.
func (c *resourceCache) drop(s *subscriber) {
	s.closed = true
	s.watch = nil
	delete(c.wildcard, s)
	for name := range s.names {
		if set := c.byName[name]; set != nil {
			delete(set, s)
			if len(set) == 0 {
				delete(c.byName, name)
			}
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
