package controlplane

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
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
//   - What a stream holds is a position in the change log (every subscribed resource as of that
//     update), not a map of versions per stream: an ACK is answered from the changes since its
//     last response without rescanning the subscription, the stream stays indexed, and the
//     returned map handed to go-control-plane's server is empty (it only identifies the
//     response, so that one the server dropped is noticed and the stream resent in full).
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
	// byName indexes the non-wildcard subscribers by subscribed name (a slice: a pointer per
	// entry); wildcard holds the rest. An entry may outlive its subscription (unsubscriptions,
	// closed streams) or repeat (a stream indexed again): both are dropped when the name next
	// changes.
	byName map[string][]*subscriber
	// visit numbers the walks over an index entry, to skip repeated subscribers.
	visit uint64
	// seed keys the hashes of SotW requests' lists of names.
	seed     maphash.Seed
	wildcard map[*subscriber]struct{}
	streams  map[streamKey]*subscriber
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

// newResourceCache returns an empty cache of typeURL.
func newResourceCache(typeURL string) *resourceCache {
	return &resourceCache{
		typeURL:   typeURL,
		resources: map[string]*cachedEntry{},
		version:   hashesVersion(nil),
		byName:    map[string][]*subscriber{},
		seed:      maphash.MakeSeed(),
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
		_, existed := c.resources[name]
		c.resources[name] = e
		changed = append(changed, name)
		c.changes = append(c.changes, change{seq: c.seq, name: name, existed: existed})
	}
	for _, name := range remove {
		if _, ok := c.resources[name]; ok {
			delete(c.resources, name)
			changed = append(changed, name)
			c.changes = append(c.changes, change{seq: c.seq, name: name, existed: true})
		}
	}
	if len(changed) == 0 {
		return nil
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
		c.visit++
		list := c.byName[name]
		kept := list[:0]
		for _, s := range list {
			switch {
			case s.closed || s.visited == c.visit:
				continue // closed, or a repeat
			case s.watch == nil:
				// Between a response and its ACK: the ACK catches up from the change log.
			case !s.subscribes(name):
				continue // a stale entry left by an unsubscription
			default:
				woken[s] = struct{}{}
			}
			s.visited = c.visit
			kept = append(kept, s)
		}
		clear(list[len(kept):])
		if len(kept) == 0 {
			delete(c.byName, name)
		} else {
			c.byName[name] = kept
		}
	}
	for s := range c.wildcard {
		if s.watch != nil {
			woken[s] = struct{}{}
		}
	}
	for s := range woken {
		c.answerChanges(s, nil, false)
	}
}

// changesSince returns the changes after seq, or ok false when the log no longer reaches back
// that far.
func (c *resourceCache) changesSince(seq uint64) (changes []change, ok bool) {
	if seq < c.floor {
		return nil, false
	}
	i := sort.Search(len(c.changes), func(i int) bool { return c.changes[i].seq > seq })
	return c.changes[i:], true
}

// answerChanges answers s's open watch with what changed since its last answer plus the fresh
// names (newly subscribed: the client holds none of them); when the change log does not reach
// back far enough, every subscribed resource is sent.
func (c *resourceCache) answerChanges(s *subscriber, fresh []string, replyEmpty bool) bool {
	changes, ok := c.changesSince(s.seq)
	if !ok {
		return c.answer(s, c.subscribedNames(s), nil, nil, replyEmpty)
	}
	// The returned map holds what the server marked for sending again (delta, wildcard).
	return c.answer(s, fresh, changes, s.watch.sub.ReturnedResources(), replyEmpty)
}

// subscribedNames lists what s subscribes to: every resource for a wildcard subscription, plus
// the names it subscribes explicitly.
func (c *resourceCache) subscribedNames(s *subscriber) []string {
	names := slices.Collect(maps.Keys(s.names))
	if s.wildcard {
		names = slices.AppendSeq(names, maps.Keys(c.resources))
	}
	return names
}

// answer computes what s's open watch must receive and sends it; when there is nothing to send
// and replyEmpty is false it keeps the watch open. fresh are names whose version the client
// holds is known[name] (none when absent); changes are updates since the client was last in
// sync, for the names it holds at that point. It reports whether it sent a response.
//
// The client's state is kept as "every subscribed resource as of seq", not as a map of
// versions per client: the returned map handed to the server is empty, and identifies the
// response so that a response the server dropped is detected (see watch).
func (c *resourceCache) answer(s *subscriber, fresh []string, changes []change, known map[string]string, replyEmpty bool) bool {
	w := s.watch
	wanted := func(name string) bool { return s.wildcard || s.subscribes(name) }
	var updated, removed []string
	seen := make(map[string]bool, len(fresh)+len(changes))
	for _, name := range fresh {
		if seen[name] || !wanted(name) {
			continue
		}
		seen[name] = true
		e, exists := c.resources[name]
		version, had := known[name]
		switch {
		case exists && (!had || version != e.version):
			updated = append(updated, name)
		case !exists && had:
			removed = append(removed, name)
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
	s.synced, s.seq = true, c.seq
	if len(updated) == 0 && (!w.delta || len(removed) == 0) && !replyEmpty {
		s.sentMap = mapAddress(w.sub.ReturnedResources())
		return false
	}
	slices.Sort(updated)
	slices.Sort(removed)
	returned := map[string]string{}
	s.sentMap = mapAddress(returned)
	s.watch = nil
	if w.delta {
		resp := &discoveryv3.DeltaDiscoveryResponse{TypeUrl: c.typeURL, SystemVersionInfo: c.version, RemovedResources: removed}
		for _, name := range updated {
			resp.Resources = append(resp.Resources, c.resources[name].delta)
		}
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

// Fetch implements cache.ConfigFetcher; REST is not served.
func (c *resourceCache) Fetch(context.Context, *cache.Request) (cache.Response, error) {
	return nil, errors.New("controlplane: fetching over REST is not supported")
}
