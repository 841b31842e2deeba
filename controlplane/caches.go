package controlplane

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
)

// The MuxCache keys of the three caches behind the server.
const (
	muxSnapshots   = "snapshots"
	muxEndpoints   = "endpoints"
	muxDubboRoutes = "dubbo-routes"
)

// newMuxCache routes each request by type: endpoints and Dubbo routes to their linear caches
// (one collection shared by every client whatever its flavor), the rest to the snapshot cache.
func newMuxCache(snapshots, endpoints, dubboRoutes cache.Cache) *cache.MuxCache {
	classify := func(typeURL string) string {
		switch typeURL {
		case resource.EndpointType:
			return muxEndpoints
		case DubboRouteType:
			return muxDubboRoutes
		default:
			return muxSnapshots
		}
	}
	return &cache.MuxCache{
		Classify:      func(r *cache.Request) string { return classify(r.GetTypeUrl()) },
		ClassifyDelta: func(r *cache.DeltaRequest) string { return classify(r.GetTypeUrl()) },
		Caches: map[string]cache.Cache{
			muxSnapshots:   snapshots,
			muxEndpoints:   endpoints,
			muxDubboRoutes: dubboRoutes,
		},
	}
}

// nodeClusterHash keys snapshots by node cluster: clients of one node cluster share a snapshot.
type nodeClusterHash struct{}

// ID implements cache.NodeHash.
func (nodeClusterHash) ID(n *corev3.Node) string { return n.GetCluster() }

// linearDiff is what must change in a linear cache to hold want, given the content hashes of
// what it holds: the resources to add or replace, and the names to delete.
type linearDiff struct {
	update map[string]types.Resource
	remove []string
	hashes map[string]string
}

// diffLinear compares want (by name) with the hashes of the current content.
func diffLinear(current map[string]string, want map[string]types.Resource) (linearDiff, error) {
	d := linearDiff{update: map[string]types.Resource{}, hashes: make(map[string]string, len(want))}
	for name, res := range want {
		h, err := resourceHash(res)
		if err != nil {
			return d, fmt.Errorf("%s: %w", name, err)
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

// newLinearCache is a linear cache of typeURL that logs through log.
func newLinearCache(typeURL string, log *slog.Logger) *cache.LinearCache {
	return cache.NewLinearCache(typeURL, cache.WithLogger(cacheLogger{log}))
}
