package controlplane

import (
	"context"
	"sync"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// compactSnapshots wraps the snapshot cache so that a state-of-the-world stream with a wildcard
// subscription to listeners or clusters (Envoy's LDS and CDS) does not hold a map of every
// resource name. go-control-plane's snapshot cache returns, with each response, the names and
// versions it sent, and the server keeps that map per stream until the next request; with
// thousands of clusters that map is most of a connected proxy's memory.
//
// Such responses are handed to the server with an empty returned map instead. For these types a
// response always carries every resource, so a request that names the snapshot's current
// version holds exactly the snapshot's resources: the snapshot cache is then given one map of
// those names, shared by every stream and built once per snapshot.
type compactSnapshots struct {
	cache.SnapshotCache

	mu sync.Mutex
	// names holds, per snapshot and type, the map of the names of its resources.
	names map[namesKey]map[string]string
}

// namesKey identifies the resources of one type in one snapshot.
type namesKey struct {
	snapshot cache.ResourceSnapshot
	typeURL  string
}

// maxSharedNames bounds compactSnapshots.names; it is cleared when full (the entries are cheap
// to rebuild).
const maxSharedNames = 16

func newCompactSnapshots(inner cache.SnapshotCache) *compactSnapshots {
	return &compactSnapshots{SnapshotCache: inner, names: map[namesKey]map[string]string{}}
}

// CreateWatch implements cache.ConfigWatcher.
func (c *compactSnapshots) CreateWatch(req *cache.Request, sub cache.Subscription, out chan cache.Response) (func(), error) {
	if !sub.IsWildcard() || !cache.ResourceRequiresFullStateInSotw(req.GetTypeUrl()) {
		return c.SnapshotCache.CreateWatch(req, sub, out)
	}
	known := sub
	if shared := c.sharedNames(req); shared != nil {
		known = knownSubscription{Subscription: sub, known: shared}
	}
	mid := make(chan cache.Response, 1)
	cancel, err := c.SnapshotCache.CreateWatch(req, known, mid)
	if err != nil {
		return nil, err
	}
	compact := func(r cache.Response) cache.Response {
		return compactResponse{Response: r, returned: map[string]string{}}
	}
	return relayVia(mid, out, noWait, compact, cancel), nil
}

// sharedNames returns the names of the resources of the request's type in its node's snapshot
// when the request holds that snapshot's version, else nil.
func (c *compactSnapshots) sharedNames(req *cache.Request) map[string]string {
	snap, err := c.GetSnapshot(nodeClusterHash{}.ID(req.GetNode()))
	if err != nil || snap == nil {
		return nil
	}
	version := snap.GetVersion(req.GetTypeUrl())
	if version == "" || version != req.GetVersionInfo() {
		return nil
	}
	key := namesKey{snapshot: snap, typeURL: req.GetTypeUrl()}
	c.mu.Lock()
	defer c.mu.Unlock()
	if names, ok := c.names[key]; ok {
		return names
	}
	if len(c.names) >= maxSharedNames {
		clear(c.names)
	}
	resources := snap.GetResources(req.GetTypeUrl())
	names := make(map[string]string, len(resources))
	for name := range resources {
		names[name] = version
	}
	c.names[key] = names
	return names
}

// Fetch implements cache.ConfigFetcher.
func (c *compactSnapshots) Fetch(ctx context.Context, req *cache.Request) (cache.Response, error) {
	return c.SnapshotCache.Fetch(ctx, req)
}

// knownSubscription is a subscription whose returned resources are replaced (read only).
type knownSubscription struct {
	cache.Subscription
	known map[string]string
}

// ReturnedResources implements cache.Subscription.
func (s knownSubscription) ReturnedResources() map[string]string { return s.known }

// compactResponse is a response whose returned map is replaced.
type compactResponse struct {
	cache.Response
	returned map[string]string
}

// GetReturnedResources implements cache.Response.
func (r compactResponse) GetReturnedResources() map[string]string { return r.returned }

// noWait lets a relay forward at once.
func noWait() time.Duration { return 0 }
