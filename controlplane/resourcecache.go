package controlplane

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// maxChangeLog bounds the change log of a resourceCache: a stream that fell further behind is
// recomputed from its whole subscription.
const maxChangeLog = 4096

// resourceCache serves one resource type (load assignments, Dubbo routes) to every client, over
// state of the world and delta. It replaces go-control-plane's LinearCache, whose work per change
// grows with the number of subscribed names of every stream:
//
//   - Each resource is marshalled once, when it changes, and the same *anypb.Any is shared by
//     every response that carries it. Its version is the hash of its deterministic wire form.
//   - Streams (subscribers) are indexed by the names they subscribe to, wildcard ones in their own
//     set, so a change wakes only the streams that subscribe to the changed name.
//   - A stream remembers what it was last sent; a request that leaves its subscription unchanged
//     (an ACK) is answered from the change log since that response, without rescanning the
//     subscription, and the stream stays indexed.
//
// Only the resources that changed are sent, over delta and also over state of the world, which
// the xDS protocol allows for every type but listeners and clusters. Delta responses report
// removed resources; state of the world cannot.
type resourceCache struct {
	typeURL string

	mu        sync.Mutex
	resources map[string]*cachedEntry
	// version is the hash of every resource's version, the version_info of SotW responses.
	version string
	// seq numbers the updates; changes logs the names each changed, in seq order. Changes with a
	// seq at or below floor may have been dropped from the log.
	seq     uint64
	changes []change
	floor   uint64
	// byName indexes the non-wildcard subscribers by subscribed name; wildcard holds the rest.
	// An index entry may outlive its subscription (delta unsubscriptions): it is dropped when
	// the name next changes.
	byName   map[string]map[*subscriber]struct{}
	wildcard map[*subscriber]struct{}
	streams  map[streamKey]*subscriber
}

// cachedEntry is one resource: its version and its wire form, shared by every response.
type cachedEntry struct {
	version string
	any     *anypb.Any
	delta   *discoveryv3.Resource
}

// change records that an update (seq) changed or removed name.
type change struct {
	seq  uint64
	name string
}

// newResourceCache returns an empty cache of typeURL.
func newResourceCache(typeURL string) *resourceCache {
	return &resourceCache{
		typeURL:   typeURL,
		resources: map[string]*cachedEntry{},
		version:   hashesVersion(nil),
		byName:    map[string]map[*subscriber]struct{}{},
		wildcard:  map[*subscriber]struct{}{},
		streams:   map[streamKey]*subscriber{},
	}
}

// update adds or replaces the resources of upsert (by name; versions holds each one's version)
// and removes the names of remove, then answers the open watches that subscribe to them.
func (c *resourceCache) update(upsert map[string]types.Resource, versions map[string]string, remove []string) error {
	entries := make(map[string]*cachedEntry, len(upsert))
	for name, res := range upsert {
		b, err := cache.MarshalResource(res)
		if err != nil {
			return fmt.Errorf("marshalling %s: %w", name, err)
		}
		version := versions[name]
		if version == "" {
			return fmt.Errorf("resource %s has no version", name)
		}
		a := &anypb.Any{TypeUrl: c.typeURL, Value: b}
		entries[name] = &cachedEntry{version: version, any: a, delta: &discoveryv3.Resource{Name: name, Version: version, Resource: a}}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	changed := make([]string, 0, len(entries)+len(remove))
	for name, e := range entries {
		c.resources[name] = e
		changed = append(changed, name)
	}
	for _, name := range remove {
		if _, ok := c.resources[name]; ok {
			delete(c.resources, name)
			changed = append(changed, name)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	for _, name := range changed {
		c.changes = append(c.changes, change{seq: c.seq, name: name})
	}
	if len(c.changes) > maxChangeLog {
		drop := len(c.changes) - maxChangeLog/2
		c.floor = c.changes[drop-1].seq
		c.changes = slices.Clone(c.changes[drop:])
	}
	c.version = c.versionLocked()
	c.notify(changed)
	return nil
}

// versionLocked hashes the versions of all resources.
func (c *resourceCache) versionLocked() string {
	hashes := make(map[string]string, len(c.resources))
	for name, e := range c.resources {
		hashes[name] = e.version
	}
	return hashesVersion(hashes)
}

// notify answers the open watches of the subscribers of the changed names.
func (c *resourceCache) notify(changed []string) {
	woken := map[*subscriber]struct{}{}
	for _, name := range changed {
		for s := range c.byName[name] {
			switch {
			case s.closed:
				delete(c.byName[name], s)
			case s.watch == nil:
				// Between a response and its ACK: the ACK catches up from the change log.
			case !s.subscribes(name):
				delete(c.byName[name], s) // a stale entry left by an unsubscription
			default:
				woken[s] = struct{}{}
			}
		}
		if len(c.byName[name]) == 0 {
			delete(c.byName, name)
		}
	}
	for s := range c.wildcard {
		if s.watch != nil {
			woken[s] = struct{}{}
		}
	}
	for s := range woken {
		names, ok := c.changesSince(s)
		c.answer(s, names, ok, false)
	}
}

// changesSince lists the names changed since s was last answered; ok is false when the log no
// longer reaches back that far.
func (c *resourceCache) changesSince(s *subscriber) (names []string, ok bool) {
	if s.seq < c.floor {
		return nil, false
	}
	i := sort.Search(len(c.changes), func(i int) bool { return c.changes[i].seq > s.seq })
	for _, ch := range c.changes[i:] {
		names = append(names, ch.name)
	}
	return names, true
}

// answer computes what s's open watch must receive given the candidate names (all names it
// may hold or want when !ok) and sends it; when there is nothing to send and replyEmpty is false
// it keeps the watch open. It reports whether it sent a response.
func (c *resourceCache) answer(s *subscriber, candidates []string, ok, replyEmpty bool) bool {
	w := s.watch
	sub := w.sub
	known := sub.ReturnedResources()
	if !ok {
		candidates = c.allCandidates(sub, known)
	}
	var updated, removed, forgotten []string
	for _, name := range candidates {
		if !sub.IsWildcard() && !s.subscribes(name) {
			if _, had := known[name]; had {
				forgotten = append(forgotten, name) // so that a resubscription resends it
			}
			continue
		}
		e, exists := c.resources[name]
		version, had := known[name]
		switch {
		case exists && (!had || version != e.version):
			updated = append(updated, name)
		case !exists && had:
			removed = append(removed, name)
		}
	}
	slices.Sort(updated)
	updated = slices.Compact(updated)
	slices.Sort(removed)
	removed = slices.Compact(removed)
	sendable := len(updated) > 0 || (w.delta && len(removed) > 0)
	if !sendable && !replyEmpty {
		s.remember(c, sub, known, nil, nil, !ok)
		return false
	}
	returned := maps.Clone(known)
	if returned == nil {
		returned = map[string]string{}
	}
	for _, name := range updated {
		returned[name] = c.resources[name].version
	}
	for _, name := range slices.Concat(removed, forgotten) {
		delete(returned, name)
	}
	s.watch = nil
	s.remember(c, sub, returned, updated, removed, !ok)
	if w.delta {
		resp := &discoveryv3.DeltaDiscoveryResponse{TypeUrl: c.typeURL, SystemVersionInfo: c.version}
		for _, name := range updated {
			resp.Resources = append(resp.Resources, c.resources[name].delta)
		}
		resp.RemovedResources = removed
		w.deltaOut <- &cache.DeltaPassthroughResponse{DeltaRequest: w.deltaReq, NextVersionMap: returned, DeltaDiscoveryResponse: resp}
		return true
	}
	resp := &discoveryv3.DiscoveryResponse{TypeUrl: c.typeURL, VersionInfo: c.version}
	for _, name := range updated {
		resp.Resources = append(resp.Resources, c.resources[name].any)
	}
	w.out <- &cache.PassthroughResponse{Request: w.req, DiscoveryResponse: resp, ReturnedResources: returned}
	return true
}

// allCandidates is every name that may need sending or forgetting for sub: the subscribed ones
// (all resources for a wildcard subscription) and the ones the client holds.
func (c *resourceCache) allCandidates(sub cache.Subscription, known map[string]string) []string {
	var names []string
	if sub.IsWildcard() {
		names = slices.Collect(maps.Keys(c.resources))
	}
	for name := range sub.SubscribedResources() {
		names = append(names, name)
	}
	for name := range known {
		names = append(names, name)
	}
	return names
}

// Fetch implements cache.ConfigFetcher; REST is not served.
func (c *resourceCache) Fetch(context.Context, *cache.Request) (cache.Response, error) {
	return nil, errors.New("controlplane: fetching over REST is not supported")
}
