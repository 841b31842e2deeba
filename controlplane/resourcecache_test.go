package controlplane

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"
)

// setEndpoints puts load assignments with the given names into c, each with one endpoint on
// port, versioned by content.
func setEndpoints(t *testing.T, c *resourceCache, port uint32, names ...string) {
	t.Helper()
	upsert := map[string]types.Resource{}
	versions := map[string]string{}
	for _, name := range names {
		cla := &endpointv3.ClusterLoadAssignment{ClusterName: name, Endpoints: []*endpointv3.LocalityLbEndpoints{{
			LbEndpoints: []*endpointv3.LbEndpoint{{
				HostIdentifier: &endpointv3.LbEndpoint_EndpointName{EndpointName: fmt.Sprint(port)},
			}},
		}}}
		h, err := resourceHash(cla)
		if err != nil {
			t.Fatal(err)
		}
		upsert[name], versions[name] = cla, h
	}
	if err := c.update(upsert, versions, nil); err != nil {
		t.Fatal(err)
	}
}

// sotwWatch opens a state-of-the-world watch of stream id on c.
func sotwWatch(t *testing.T, c *resourceCache, id int64, sub stream.Subscription, version string) chan cache.Response {
	t.Helper()
	out := make(chan cache.Response, 1)
	req := &cache.Request{TypeUrl: resource.EndpointType, VersionInfo: version, ResourceNames: slices.Collect(maps.Keys(sub.SubscribedResources()))}
	if _, err := c.createWatch(streamKey{id: id}, req, &sub, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// responseNames lists the names of the load assignments in a SotW response, sorted.
func responseNames(t *testing.T, resp cache.Response) []string {
	t.Helper()
	out, err := resp.GetDiscoveryResponse()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range out.GetResources() {
		cla := &endpointv3.ClusterLoadAssignment{}
		if err := a.UnmarshalTo(cla); err != nil {
			t.Fatal(err)
		}
		names = append(names, cla.GetClusterName())
	}
	slices.Sort(names)
	return names
}

// pending returns the response waiting on out, or nil.
func pending(out chan cache.Response) cache.Response {
	select {
	case r := <-out:
		return r
	default:
		return nil
	}
}

// TestResourceCacheWakesOnlySubscribers opens watches on different names and a wildcard one,
// changes one name and checks that only its subscribers and the wildcard watch are answered,
// with only the changed resource.
func TestResourceCacheWakesOnlySubscribers(t *testing.T) {
	c := newResourceCache(resource.EndpointType)
	setEndpoints(t, c, 1, "a", "b", "c")

	subA := stream.NewSotwSubscription([]string{"a"}, false)
	subB := stream.NewSotwSubscription([]string{"b", "c"}, false)
	subAll := stream.NewSotwSubscription([]string{"*"}, false)
	subs := map[int64]*stream.Subscription{1: &subA, 2: &subB, 3: &subAll}
	want := map[int64][]string{1: {"a"}, 2: {"b", "c"}, 3: {"a", "b", "c"}}
	outs := map[int64]chan cache.Response{}
	for id, sub := range subs {
		first := pending(sotwWatch(t, c, id, *sub, ""))
		if first == nil || !slices.Equal(responseNames(t, first), want[id]) {
			t.Fatalf("stream %d: first response %v, want %v", id, first, want[id])
		}
		sub.SetReturnedResources(first.GetReturnedResources())
		// The ACK: nothing changed, so the watch stays open.
		outs[id] = sotwWatch(t, c, id, *sub, first.GetResponseVersion())
		if r := pending(outs[id]); r != nil {
			t.Fatalf("stream %d: the ACK was answered with %v", id, responseNames(t, r))
		}
	}
	if got := len(c.byName["b"]); got != 1 {
		t.Errorf("name b indexes %d subscribers, want 1", got)
	}
	if got := len(c.wildcard); got != 1 {
		t.Errorf("%d wildcard subscribers, want 1", got)
	}

	setEndpoints(t, c, 2, "c")
	if r := pending(outs[1]); r != nil {
		t.Errorf("the subscriber of a was woken by a change of c: %v", responseNames(t, r))
	}
	for _, id := range []int64{2, 3} {
		r := pending(outs[id])
		if r == nil {
			t.Fatalf("stream %d was not answered after c changed", id)
		}
		if got := responseNames(t, r); !slices.Equal(got, []string{"c"}) {
			t.Errorf("stream %d got %v, want only the changed [c]", id, got)
		}
	}

	c.streamClosed(streamKey{id: 2})
	if _, ok := c.byName["b"]; ok {
		t.Error("a closed stream is still indexed under b")
	}
}

// TestSubscriberInSync checks what lets an ACK be answered from the change log: the server
// hands back the returned map of the last response. Another map (the server dropped that
// response) brings the client up to date from scratch, with every subscribed resource.
func TestSubscriberInSync(t *testing.T) {
	c := newResourceCache(resource.EndpointType)
	setEndpoints(t, c, 1, "a", "b")
	// "x" does not exist: it is subscribed but missing from the response.
	sub := stream.NewSotwSubscription([]string{"a", "b", "x"}, false)
	first := pending(sotwWatch(t, c, 1, sub, ""))
	if first == nil || !slices.Equal(responseNames(t, first), []string{"a", "b"}) {
		t.Fatalf("first response: %v", first)
	}
	if n := len(first.GetReturnedResources()); n != 0 {
		t.Errorf("the returned map holds %d entries; the client's state is kept as a change-log position", n)
	}
	sub.SetReturnedResources(first.GetReturnedResources())
	s := c.streams[streamKey{id: 1}]
	if !s.inSync(sub) {
		t.Fatal("the ACK of the last response is not in sync")
	}
	out := sotwWatch(t, c, 1, sub, first.GetResponseVersion())
	if r := pending(out); r != nil {
		t.Fatalf("the ACK was answered with %v", responseNames(t, r))
	}
	setEndpoints(t, c, 2, "x")
	second := pending(out)
	if second == nil || !slices.Equal(responseNames(t, second), []string{"x"}) {
		t.Fatalf("after x appeared: %v, want only [x]", second)
	}

	// The server dropped the second response: it hands back the first response's map.
	if s.inSync(sub) {
		t.Fatal("a request after a dropped response counts as in sync")
	}
	again := pending(sotwWatch(t, c, 1, sub, first.GetResponseVersion()))
	if again == nil || !slices.Equal(responseNames(t, again), []string{"a", "b", "x"}) {
		t.Fatalf("after a dropped response: %v, want all of [a b x]", again)
	}
}

// TestResourceCacheIndexDropsRepeatsAndStaleEntries indexes a stream twice (a request after a
// dropped response goes through the full comparison again) and checks that a change answers it
// once and leaves it indexed once; after it unsubscribes a name, the next change of that name
// drops the stale entry.
func TestResourceCacheIndexDropsRepeatsAndStaleEntries(t *testing.T) {
	c := newResourceCache(resource.EndpointType)
	setEndpoints(t, c, 1, "a", "b")
	sub := stream.NewSotwSubscription([]string{"a", "b"}, false)
	first := pending(sotwWatch(t, c, 1, sub, ""))
	if first == nil {
		t.Fatal("no first response")
	}
	// Hand back another map: the cache treats the first response as dropped and resends.
	sub.SetReturnedResources(map[string]string{})
	again := pending(sotwWatch(t, c, 1, sub, first.GetResponseVersion()))
	if again == nil {
		t.Fatal("no response after a dropped one")
	}
	sub.SetReturnedResources(again.GetReturnedResources())
	if got := len(c.byName["a"]); got != 2 {
		t.Fatalf("name a indexes %d entries after indexing twice, want 2 (repeats are dropped lazily)", got)
	}
	out := sotwWatch(t, c, 1, sub, again.GetResponseVersion())
	setEndpoints(t, c, 2, "a")
	changed := pending(out)
	if changed == nil || !slices.Equal(responseNames(t, changed), []string{"a"}) {
		t.Fatalf("after a changed: %v, want one response with [a]", changed)
	}
	if got := len(c.byName["a"]); got != 1 {
		t.Errorf("name a indexes %d entries after it changed, want 1", got)
	}

	// Unsubscribe b (the ACK of the last response names only a), then change b.
	sub.SetReturnedResources(changed.GetReturnedResources())
	sub.SetResourceSubscription([]string{"a"})
	out = sotwWatch(t, c, 1, sub, changed.GetResponseVersion())
	setEndpoints(t, c, 2, "b")
	if r := pending(out); r != nil {
		t.Fatalf("a change of unsubscribed b was sent: %v", responseNames(t, r))
	}
	if _, ok := c.byName["b"]; ok {
		t.Error("the stale entry of b survived a change of b")
	}
}
