package controlplane

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
)

// newSnapshot wraps the listeners, route configurations and clusters of validated resources in
// a go-control-plane snapshot whose per-type versions are derived from the content, so equal
// resources give equal versions across restarts. Endpoints and Dubbo routes are served from
// resource caches instead (see Server).
func newSnapshot(r *Resources) (*cache.Snapshot, error) {
	snap := &cache.Snapshot{}
	for typeURL, items := range map[resource.Type][]types.Resource{
		resource.ListenerType: asResources(r.Listeners),
		resource.RouteType:    asResources(r.Routes),
		resource.ClusterType:  asResources(r.Clusters),
	} {
		version, err := contentVersion(items)
		if err != nil {
			return nil, fmt.Errorf("versioning %s: %w", typeURL, err)
		}
		snap.Resources[cache.GetResponseType(typeURL)] = cache.NewResources(version, items)
	}
	return snap, nil
}

// contentVersion hashes the deterministic wire form of items (which are sorted by name).
func contentVersion(items []types.Resource) (string, error) {
	h := sha256.New()
	opts := proto.MarshalOptions{Deterministic: true}
	for _, it := range items {
		b, err := opts.Marshal(it)
		if err != nil {
			return "", fmt.Errorf("%s: %w", cache.GetResourceName(it), err)
		}
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(b))))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// sameVersions reports whether a and b have the same version for every type.
func sameVersions(a, b *cache.Snapshot) bool {
	if a == nil || b == nil {
		return false
	}
	for i := range a.Resources {
		if a.Resources[i].Version != b.Resources[i].Version {
			return false
		}
	}
	return true
}

// cacheLogger adapts slog to go-control-plane's logger; its chatty info messages become debug.
type cacheLogger struct{ log *slog.Logger }

func (l cacheLogger) Debugf(format string, args ...any) { l.logf(slog.LevelDebug, format, args) }
func (l cacheLogger) Infof(format string, args ...any)  { l.logf(slog.LevelDebug, format, args) }
func (l cacheLogger) Warnf(format string, args ...any)  { l.logf(slog.LevelWarn, format, args) }
func (l cacheLogger) Errorf(format string, args ...any) { l.logf(slog.LevelError, format, args) }

func (l cacheLogger) logf(level slog.Level, format string, args []any) {
	if !l.log.Enabled(context.Background(), level) {
		return
	}
	l.log.Log(context.Background(), level, fmt.Sprintf(format, args...), "component", "go-control-plane")
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
