package controlplane

import (
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// changedTypes lists the type URLs whose version differs between the snapshots a (nil before
// the first) and b: the types an update pushes, whose push latency starts now.
func changedTypes(a, b *cache.Snapshot) []string {
	var out []string
	for i := range b.Resources {
		if a != nil && a.Resources[i].Version == b.Resources[i].Version {
			continue
		}
		if typeURL, err := cache.GetResponseTypeURL(types.ResponseType(i)); err == nil {
			out = append(out, typeURL)
		}
	}
	return out
}
