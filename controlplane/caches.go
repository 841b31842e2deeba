package controlplane

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
)

// streamCache is a cache that is told which stream each watch belongs to and when a stream
// ends, so that it can keep per-stream state across requests. The NACK guard drives it.
type streamCache interface {
	cache.ConfigFetcher
	createWatch(stream streamKey, req *cache.Request, sub cache.Subscription, out chan cache.Response) (func(), error)
	createDeltaWatch(stream streamKey, req *cache.DeltaRequest, sub cache.Subscription, out chan cache.DeltaResponse) (func(), error)
	streamClosed(stream streamKey)
}

// typeRouter routes each request by type: endpoints and Dubbo routes to their resourceCaches
// (one collection shared by every client whatever its flavor), the rest to the snapshot cache.
type typeRouter struct {
	snapshots   *compactSnapshots
	endpoints   *resourceCache
	dubboRoutes *resourceCache
}

var _ streamCache = (*typeRouter)(nil)

// resourceCache returns the cache serving typeURL, or nil for the snapshot cache.
func (r *typeRouter) resourceCache(typeURL string) *resourceCache {
	switch typeURL {
	case resource.EndpointType:
		return r.endpoints
	case DubboRouteType:
		return r.dubboRoutes
	default:
		return nil
	}
}

func (r *typeRouter) createWatch(stream streamKey, req *cache.Request, sub cache.Subscription, out chan cache.Response) (func(), error) {
	if c := r.resourceCache(req.GetTypeUrl()); c != nil {
		return c.createWatch(stream, req, sub, out)
	}
	return r.snapshots.CreateWatch(req, sub, out)
}

func (r *typeRouter) createDeltaWatch(stream streamKey, req *cache.DeltaRequest, sub cache.Subscription, out chan cache.DeltaResponse) (func(), error) {
	if c := r.resourceCache(req.GetTypeUrl()); c != nil {
		return c.createDeltaWatch(stream, req, sub, out)
	}
	return r.snapshots.createDeltaWatch(stream, req, sub, out)
}

func (r *typeRouter) streamClosed(stream streamKey) {
	r.endpoints.streamClosed(stream)
	r.dubboRoutes.streamClosed(stream)
	r.snapshots.streamClosed(stream)
}

// Fetch implements cache.ConfigFetcher.
func (r *typeRouter) Fetch(ctx context.Context, req *cache.Request) (cache.Response, error) {
	if c := r.resourceCache(req.GetTypeUrl()); c != nil {
		return c.Fetch(ctx, req)
	}
	return r.snapshots.Fetch(ctx, req)
}

// nodeClusterHash keys snapshots by node cluster: clients of one node cluster share a snapshot.
type nodeClusterHash struct{}

// ID implements cache.NodeHash.
func (nodeClusterHash) ID(n *corev3.Node) string { return n.GetCluster() }

// linearDiff is what must change in a resource cache to hold want, given the content hashes of
// what it holds: the resources to add or replace, and the names to delete.
type linearDiff struct {
	update map[string]types.Resource
	remove []string
	hashes map[string]string
}

// diffLinear compares want (by name) with the hashes of the current content; known holds the
// hashes of resources known not to have changed (nil: none), which are not hashed again.
func diffLinear(current map[string]string, want map[string]types.Resource, known map[string]string) (linearDiff, error) {
	d := linearDiff{update: map[string]types.Resource{}, hashes: make(map[string]string, len(want))}
	for name, res := range want {
		h, ok := known[name]
		if !ok {
			var err error
			if h, err = resourceHash(res); err != nil {
				return d, fmt.Errorf("%s: %w", name, err)
			}
		}
		d.hashes[name] = h
		if current[name] != h {
			d.update[name] = res
		}
	}
	for name := range current {
		if _, ok := want[name]; !ok {
			d.remove = append(d.remove, name)
		}
	}
	return d, nil
}

// resourceHash is the hash of a resource's deterministic wire form.
func resourceHash(res types.Resource) (string, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(res)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8]), nil
}

// hashesVersion is one version for a set of per-resource hashes (sorted by name).
func hashesVersion(hashes map[string]string) string {
	h := sha256.New()
	for _, name := range sortedKeys(hashes) {
		h.Write([]byte(name))
		h.Write([]byte{0})
		h.Write([]byte(hashes[name]))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
