package controlplane

import (
	"slices"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// typeStream is what a stream knows about one resource type: its subscription, what the
// client holds, and the flow control of its responses. Only the stream's goroutine changes it;
// names and wildcard are also read by the collection's wake-up walk, under the collection's lock.
type typeStream struct {
	stream  *adsStream
	typeURL string
	coll    *collection // nil for a type rpcbridge does not serve: never answered

	names    *nameSet
	wildcard bool
	// legacy says that the subscription may still be a legacy wildcard one: a first request
	// without names subscribes to everything until a request names resources.
	legacy bool
	// listSum and listLen identify the list of names of the last state-of-the-world request.
	listSum uint64
	listLen int

	// When synced, the client holds every resource it subscribes to as it was at seq (those
	// that existed then). fresh are names it must be sent again whatever changed (newly
	// subscribed, or unsubscribed while the wildcard keeps them wanted); known is what a first
	// request says the client holds (delta initial_resource_versions).
	synced bool
	seq    uint64
	fresh  []string
	known  map[string]string
	// replyEmpty asks for a response even when it carries nothing (a client's first request).
	replyEmpty bool

	// pending is set between a response and the client's next request of the type: the server
	// sends nothing more of the type meanwhile, as go-control-plane's server does.
	pending bool
	nonce   string
	// nacks counts consecutive rejections; pushes are spaced by backoffAfter(nacks).
	nacks       int
	lastPush    time.Time
	requested   time.Time
	sentVersion string
}

// built is one response's content.
type built struct {
	version string
	updated []*cachedEntry
	removed []string
}

// build computes the response ts is due, under the collection's lock, and marks the client as
// holding it; ok is false when nothing is due.
func (ts *typeStream) build(delta bool) (b built, ok bool) {
	c := ts.coll
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ready {
		return b, false
	}
	wanted := func(name string) bool { return ts.wildcard || ts.names.has(name) }
	var updated, removed []string
	changes, inLog := c.changesSince(ts.seq)
	if !ts.synced || !inLog {
		// Compare the whole subscription with what the client says it holds.
		known := ts.known
		consider := func(name string) {
			e, exists := c.resources[name]
			version, had := known[name]
			switch {
			case exists && (!had || version != e.version):
				updated = append(updated, name)
			case !exists && had:
				removed = append(removed, name)
			}
		}
		if ts.wildcard {
			for name := range c.resources {
				consider(name)
			}
			for name := range known {
				if _, exists := c.resources[name]; !exists {
					removed = append(removed, name)
				}
			}
		} else {
			for name := range ts.names.names {
				consider(name)
			}
		}
	} else {
		seen := make(map[string]bool, len(ts.fresh)+len(changes))
		for _, name := range ts.fresh {
			if seen[name] || !wanted(name) {
				continue
			}
			seen[name] = true
			if _, exists := c.resources[name]; exists {
				updated = append(updated, name)
			}
		}
		for _, ch := range changes {
			if seen[ch.name] {
				continue
			}
			seen[ch.name] = true // the first change after seq tells whether the client held it
			if !wanted(ch.name) {
				continue
			}
			if _, exists := c.resources[ch.name]; exists {
				updated = append(updated, ch.name)
			} else if ch.existed {
				removed = append(removed, ch.name)
			}
		}
	}
	replyEmpty := ts.replyEmpty
	ts.synced, ts.seq, ts.fresh, ts.known, ts.replyEmpty = true, c.seq, nil, nil, false
	switch {
	case delta && len(updated)+len(removed) == 0 && !replyEmpty:
		return b, false
	case !delta && c.fullState:
		if len(updated)+len(removed) == 0 && !replyEmpty {
			return b, false
		}
		// A listener or cluster response holds every subscribed resource.
		updated = updated[:0]
		if ts.wildcard {
			for name := range c.resources {
				updated = append(updated, name)
			}
		} else {
			for name := range ts.names.names {
				if _, exists := c.resources[name]; exists {
					updated = append(updated, name)
				}
			}
		}
		removed = nil
	case !delta && len(updated) == 0 && !replyEmpty:
		// State of the world cannot say that a load assignment or route was removed.
		return b, false
	}
	slices.Sort(updated)
	slices.Sort(removed)
	b.version, b.removed = c.version, removed
	b.updated = make([]*cachedEntry, len(updated))
	for i, name := range updated {
		b.updated[i] = c.resources[name]
	}
	return b, true
}

// sotwResponse is b as a state-of-the-world response.
func (b built) sotwResponse(typeURL, nonce string) *discoveryv3.DiscoveryResponse {
	resources := make([]*anypb.Any, len(b.updated))
	for i, e := range b.updated {
		resources[i] = e.any
	}
	return &discoveryv3.DiscoveryResponse{TypeUrl: typeURL, VersionInfo: b.version, Resources: resources, Nonce: nonce}
}

// deltaResponse is b as a delta response.
func (b built) deltaResponse(typeURL, nonce string) *discoveryv3.DeltaDiscoveryResponse {
	resources := make([]*discoveryv3.Resource, len(b.updated))
	for i, e := range b.updated {
		resources[i] = e.delta
	}
	return &discoveryv3.DeltaDiscoveryResponse{TypeUrl: typeURL, SystemVersionInfo: b.version,
		Resources: resources, RemovedResources: b.removed, Nonce: nonce}
}
