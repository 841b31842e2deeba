package controlplane

import (
	"fmt"
	"slices"
	"sort"
	"sync"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// maxChangeLog bounds the change log of a collection: a stream that fell further behind is
// brought up to date from its whole subscription.
const maxChangeLog = 4096

// collection holds the resources of one type as rpcbridge serves them (the listeners, route
// configurations or clusters of one target, or the load assignments and Dubbo routes every
// client shares), and the streams subscribed to them. It replaces go-control-plane's caches
// and the per-stream bookkeeping of its server, whose memory and work per change grow with the
// number of names each stream subscribes to:
//
//   - Each resource is marshalled once, when it changes, and the same *anypb.Any is shared by
//     every response that carries it. Its version is the hash of its deterministic wire form.
//   - What a stream holds is a position in the change log (every subscribed resource as of that
//     update), not a map of versions per stream: an ACK is answered from the changes since its
//     last response.
//   - A stream's subscription is an interned nameSet, shared with every stream that subscribes
//     to the same names; a change wakes only the streams whose set holds a changed name (or
//     that subscribe to everything), and the test is made once per distinct set.
type collection struct {
	typeURL string
	// fullState says that a state-of-the-world response carries every subscribed resource
	// (listeners and clusters); for other types it carries only what changed.
	fullState bool

	mu sync.Mutex
	// ready is false until the first update: until then requests wait.
	ready     bool
	resources map[string]*cachedEntry
	// version is the version_info of state-of-the-world responses.
	version string
	// seq numbers the updates; changes logs the names each changed, in seq order. Changes with a
	// seq at or below floor may have been dropped from the log.
	seq     uint64
	changes []change
	floor   uint64
	// subs are the streams subscribed to the type.
	subs map[*typeStream]struct{}
}

// cachedEntry is one resource: its version and its wire form, shared by every response.
type cachedEntry struct {
	version string
	any     *anypb.Any
	delta   *discoveryv3.Resource
}

// change records that an update (seq) changed or removed name; existed says whether the name
// existed just before.
type change struct {
	seq     uint64
	name    string
	existed bool
}

// newCollection returns an empty collection of typeURL.
func newCollection(typeURL string) *collection {
	return &collection{
		typeURL:   typeURL,
		fullState: cache.ResourceRequiresFullStateInSotw(typeURL),
		resources: map[string]*cachedEntry{},
		subs:      map[*typeStream]struct{}{},
	}
}

// entries marshals resources for a collection of typeURL; versions holds each one's version.
func entries(typeURL string, upsert map[string]types.Resource, versions map[string]string) (map[string]*cachedEntry, error) {
	out := make(map[string]*cachedEntry, len(upsert))
	for name, res := range upsert {
		b, err := cache.MarshalResource(res)
		if err != nil {
			return nil, fmt.Errorf("marshalling %s: %w", name, err)
		}
		version := versions[name]
		if version == "" {
			return nil, fmt.Errorf("resource %s has no version", name)
		}
		a := &anypb.Any{TypeUrl: typeURL, Value: b}
		out[name] = &cachedEntry{version: version, any: a, delta: &discoveryv3.Resource{Name: name, Version: version, Resource: a}}
	}
	return out, nil
}

// update adds or replaces the entries of upsert and removes the names of remove, sets the
// collection's version and wakes the streams subscribed to what changed. The first update makes
// the collection ready, also when it changes nothing.
func (c *collection) update(upsert map[string]*cachedEntry, remove []string, version string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	first := !c.ready
	c.ready = true
	c.version = version
	changed := make([]string, 0, len(upsert)+len(remove))
	next := c.seq + 1
	for name, e := range upsert {
		_, existed := c.resources[name]
		c.resources[name] = e
		changed = append(changed, name)
		c.changes = append(c.changes, change{seq: next, name: name, existed: existed})
	}
	for _, name := range remove {
		if _, ok := c.resources[name]; ok {
			delete(c.resources, name)
			changed = append(changed, name)
			c.changes = append(c.changes, change{seq: next, name: name, existed: true})
		}
	}
	if len(changed) == 0 && !first {
		return
	}
	c.seq = next
	if len(c.changes) > maxChangeLog {
		drop := len(c.changes) - maxChangeLog/2
		c.floor = c.changes[drop-1].seq
		c.changes = slices.Clone(c.changes[drop:])
	}
	c.wake(changed, first)
}

// wake wakes the subscribers of the changed names (all of them when all is set).
func (c *collection) wake(changed []string, all bool) {
	touched := map[*nameSet]bool{}
	for ts := range c.subs {
		if all || ts.wildcard {
			ts.stream.wake()
			continue
		}
		hit, ok := touched[ts.names]
		if !ok {
			for _, name := range changed {
				if ts.names.has(name) {
					hit = true
					break
				}
			}
			touched[ts.names] = hit
		}
		if hit {
			ts.stream.wake()
		}
	}
}

// changesSince returns the changes after seq, or ok false when the log no longer reaches back
// that far.
func (c *collection) changesSince(seq uint64) (changes []change, ok bool) {
	if seq < c.floor {
		return nil, false
	}
	i := sort.Search(len(c.changes), func(i int) bool { return c.changes[i].seq > seq })
	return c.changes[i:], true
}

// subscribe files ts as a subscriber.
func (c *collection) subscribe(ts *typeStream) {
	c.mu.Lock()
	c.subs[ts] = struct{}{}
	c.mu.Unlock()
}

// unsubscribe forgets ts.
func (c *collection) unsubscribe(ts *typeStream) {
	c.mu.Lock()
	delete(c.subs, ts)
	c.mu.Unlock()
}

// setSubscription replaces what ts subscribes to; the wake-up walk reads it under c.mu.
func (c *collection) setSubscription(ts *typeStream, names *nameSet, wildcard bool) {
	c.mu.Lock()
	ts.names, ts.wildcard = names, wildcard
	c.mu.Unlock()
}

// size is the number of resources.
func (c *collection) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.resources)
}
