package controlplane

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"google.golang.org/protobuf/proto"
)

// linearDiff is what must change in a collection of load assignments or Dubbo routes to hold
// want, given the content hashes of what it holds: the resources to add or replace, and the
// names to delete.
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

// versionSum is one version for a set of per-resource hashes: the sum of a hash of each name
// and its resource's hash. It does not depend on order, so a change of a few resources updates
// it in time proportional to them (add and sub), and a full recomputation (hashesVersion) gives
// the same value: the version depends only on the content.
type versionSum uint64

// entrySum is the term of one resource.
func entrySum(name, hash string) versionSum {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write([]byte(hash))
	return versionSum(binary.BigEndian.Uint64(h.Sum(nil)))
}

// add and sub account for one resource's hash.
func (v versionSum) add(name, hash string) versionSum { return v + entrySum(name, hash) }
func (v versionSum) sub(name, hash string) versionSum { return v - entrySum(name, hash) }

// String is the version text.
func (v versionSum) String() string {
	return hex.EncodeToString(binary.BigEndian.AppendUint64(nil, uint64(v)))
}

// sumOf is the versionSum of hashes.
func sumOf(hashes map[string]string) versionSum {
	var v versionSum
	for name, h := range hashes {
		v = v.add(name, h)
	}
	return v
}

// hashesVersion is one version for a set of per-resource hashes.
func hashesVersion(hashes map[string]string) string { return sumOf(hashes).String() }
