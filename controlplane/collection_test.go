package controlplane

import (
	"fmt"
	"testing"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
)

// claEntries builds the entries of load assignments with the given names, one endpoint on port.
func claEntries(t *testing.T, port uint32, names ...string) map[string]*cachedEntry {
	t.Helper()
	upsert := map[string]types.Resource{}
	versions := map[string]string{}
	for _, name := range names {
		cla := &endpointv3.ClusterLoadAssignment{ClusterName: name, Endpoints: []*endpointv3.LocalityLbEndpoints{{
			LbEndpoints: []*endpointv3.LbEndpoint{{HostIdentifier: &endpointv3.LbEndpoint_EndpointName{EndpointName: fmt.Sprint(port)}}},
		}}}
		h, err := resourceHash(cla)
		if err != nil {
			t.Fatal(err)
		}
		upsert[name], versions[name] = cla, h
	}
	e, err := entries(resource.EndpointType, upsert, versions)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// woken reports whether st was woken, and resets it.
func woken(st *adsStream) bool {
	select {
	case <-st.wakeC:
		return true
	default:
		return false
	}
}

// TestCollectionWakesOnlySubscribers subscribes streams to different names and one to
// everything, changes one name, and checks that only its subscribers and the wildcard stream
// wake; streams subscribed to the same names share one set.
func TestCollectionWakesOnlySubscribers(t *testing.T) {
	sets := newNameSets()
	c := newCollection(resource.EndpointType)
	c.update(claEntries(t, 1, "a", "b", "c"), nil, "v1")
	subscribe := func(wildcard bool, names ...string) (*adsStream, *typeStream) {
		st := &adsStream{wakeC: make(chan struct{}, 1)}
		set, _ := sets.fromList(names)
		ts := &typeStream{stream: st, coll: c, names: set, wildcard: wildcard}
		c.subscribe(ts)
		return st, ts
	}
	onA, tsA := subscribe(false, "a", "b")
	onA2, tsA2 := subscribe(false, "b", "a")
	onC, _ := subscribe(false, "c")
	all, _ := subscribe(true)
	if tsA.names != tsA2.names || tsA.names.refs != 2 {
		t.Fatalf("two streams subscribed to {a, b} hold different sets (%p, %p) or the set has %d users", tsA.names, tsA2.names, tsA.names.refs)
	}
	c.update(claEntries(t, 2, "b"), nil, "v2")
	for _, tc := range []struct {
		name string
		st   *adsStream
		want bool
	}{{"{a, b}", onA, true}, {"{b, a}", onA2, true}, {"{c}", onC, false}, {"wildcard", all, true}} {
		if got := woken(tc.st); got != tc.want {
			t.Errorf("stream subscribed to %s woken: %v, want %v", tc.name, got, tc.want)
		}
	}
	sets.release(tsA.names)
	sets.release(tsA2.names)
	if len(sets.bySum) != 1 {
		t.Fatalf("after both users released {a, b}, %d sets are interned, want 1 ({c})", len(sets.bySum))
	}
}

// TestBuildFromChangeLog: a synced stream gets only what changed since its position, and an
// unsubscribed name's change is not sent.
func TestBuildFromChangeLog(t *testing.T) {
	sets := newNameSets()
	c := newCollection(resource.EndpointType)
	c.update(claEntries(t, 1, "a", "b", "c"), nil, "v1")
	set, _ := sets.fromList([]string{"a", "b"})
	ts := &typeStream{stream: &adsStream{wakeC: make(chan struct{}, 1)}, coll: c, names: set}
	b, ok := ts.build(true)
	if !ok || len(b.updated) != 2 {
		t.Fatalf("first build: %v with %d resources, want a and b", ok, len(b.updated))
	}
	c.update(claEntries(t, 2, "b", "c"), nil, "v2")
	b, ok = ts.build(true)
	if !ok || len(b.updated) != 1 || b.updated[0].delta.GetName() != "b" {
		t.Fatalf("after b and c changed: %v %v, want only b", ok, b.updated)
	}
	c.update(nil, []string{"a"}, "v3")
	b, ok = ts.build(true)
	if !ok || len(b.updated) != 0 || len(b.removed) != 1 || b.removed[0] != "a" {
		t.Fatalf("after a was removed: %v updated %v removed %v, want a removed", ok, b.updated, b.removed)
	}
	if _, ok := ts.build(true); ok {
		t.Fatal("nothing changed, yet a response was due")
	}
}
