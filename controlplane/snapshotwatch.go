package controlplane

import (
	"context"
	"maps"
	"sync"
	"time"
	"unsafe"

	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// compactSnapshots wraps the snapshot cache so that a state-of-the-world stream with a wildcard
// subscription to listeners or clusters (Envoy's LDS and CDS), or a delta stream with a
// wildcard subscription, does not hold a map of every resource name. go-control-plane's snapshot cache returns, with each response, the names and
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
	// shares holds, per delta stream and type, the version map a wildcard client holds when it
	// hands back the marker map of its last response.
	shares map[streamKey]map[string]deltaShare
}

// deltaShare says that a delta stream whose returned map is marker (plus the server's marks
// in it) holds exactly the versions of shared, a snapshot's version map.
type deltaShare struct {
	marker unsafe.Pointer
	shared map[string]string
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
	return &compactSnapshots{SnapshotCache: inner, names: map[namesKey]map[string]string{}, shares: map[streamKey]map[string]deltaShare{}}
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

// createDeltaWatch does for a delta stream with a wildcard subscription what CreateWatch does
// for state of the world: a response after which the client holds exactly the snapshot's
// versions is handed to the server with an empty marker map, and a request that hands back that
// marker is given the snapshot's version map (with the server's re-send marks on top).
func (c *compactSnapshots) createDeltaWatch(stream streamKey, req *cache.DeltaRequest, sub cache.Subscription, out chan cache.DeltaResponse) (func(), error) {
	if stream.id == 0 || !sub.IsWildcard() {
		return c.SnapshotCache.CreateDeltaWatch(req, sub, out)
	}
	typeURL := req.GetTypeUrl()
	known := sub
	c.mu.Lock()
	share, ok := c.shares[stream][typeURL]
	c.mu.Unlock()
	if marks := sub.ReturnedResources(); ok && mapAddress(marks) == share.marker {
		shared := share.shared
		if len(marks) > 0 {
			shared = maps.Clone(shared)
			maps.Copy(shared, marks)
		}
		known = knownSubscription{Subscription: sub, known: shared}
	}
	mid := make(chan cache.DeltaResponse, 1)
	cancel, err := c.SnapshotCache.CreateDeltaWatch(req, known, mid)
	if err != nil {
		return nil, err
	}
	compact := func(r cache.DeltaResponse) cache.DeltaResponse {
		shared := c.snapshotVersions(req, r.GetNextVersionMap())
		c.mu.Lock()
		defer c.mu.Unlock()
		if shared == nil {
			delete(c.shares[stream], typeURL)
			return r
		}
		marker := map[string]string{}
		if c.shares[stream] == nil {
			c.shares[stream] = map[string]deltaShare{}
		}
		c.shares[stream][typeURL] = deltaShare{marker: mapAddress(marker), shared: shared}
		return compactDeltaResponse{DeltaResponse: r, returned: marker}
	}
	return relayVia(mid, out, noWait, compact, cancel), nil
}

// snapshotVersions returns the version map of the request's type in its node's snapshot when
// it equals versions, else nil.
func (c *compactSnapshots) snapshotVersions(req *cache.DeltaRequest, versions map[string]string) map[string]string {
	snap, err := c.GetSnapshot(nodeClusterHash{}.ID(req.GetNode()))
	if err != nil || snap == nil {
		return nil
	}
	shared := snap.GetVersionMap(req.GetTypeUrl())
	if shared == nil || !maps.Equal(shared, versions) {
		return nil
	}
	return shared
}

// streamClosed forgets a delta stream's shares.
func (c *compactSnapshots) streamClosed(stream streamKey) {
	c.mu.Lock()
	delete(c.shares, stream)
	c.mu.Unlock()
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

// compactDeltaResponse is a delta response whose returned map is replaced.
type compactDeltaResponse struct {
	cache.DeltaResponse
	returned map[string]string
}

// GetReturnedResources implements cache.DeltaResponse.
func (r compactDeltaResponse) GetReturnedResources() map[string]string { return r.returned }

// GetNextVersionMap implements cache.DeltaResponse.
func (r compactDeltaResponse) GetNextVersionMap() map[string]string { return r.returned }

// noWait lets a relay forward at once.
func noWait() time.Duration { return 0 }
