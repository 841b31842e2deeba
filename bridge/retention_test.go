package bridge

import (
	"reflect"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/rpcbridge/rpcbridge/registries"
)

func dubboSnapshot(source string, services ...string) registries.Snapshot {
	snap := registries.Snapshot{Source: source, Synced: true}
	for _, iface := range services {
		snap.Services = append(snap.Services, registries.Service{
			Name: "providers:" + iface + "::", Protocol: registries.ProtocolDubbo, Interface: iface,
			Methods: []string{"call"}, Metadata: map[string]string{"timeout": "1000"},
			Endpoints: []registries.Endpoint{{Address: "10.0.0.1", Port: 20880, Weight: 100, Healthy: true}},
		})
	}
	return snap
}

// TestMergeLeavesItsMemoryAlone: Merge is pure; the memory it is given is the same afterwards,
// so a runner may keep the previous one (or merge twice from it).
func TestMergeLeavesItsMemoryAlone(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	opts := Options{Retention: map[string]time.Duration{"zk": time.Minute}, Now: t0}
	_, opts.Memory = Merge([]registries.Snapshot{dubboSnapshot("zk", "a.A", "b.B")}, opts)
	before, _ := yaml.Marshal(opts.Memory)
	opts.Now = t0.Add(time.Second)
	first, mem := Merge([]registries.Snapshot{dubboSnapshot("zk", "b.B")}, opts)
	again, _ := Merge([]registries.Snapshot{dubboSnapshot("zk", "b.B")}, opts)
	if after, _ := yaml.Marshal(opts.Memory); string(after) != string(before) {
		t.Fatalf("Merge changed the memory it was given:\n%s\nbecame\n%s", before, after)
	}
	if !reflect.DeepEqual(first, again) {
		t.Fatalf("two merges of the same input differ:\n%+v\n%+v", first, again)
	}
	if got := mem.Sources["zk"]; len(got) != 2 || got[0].Gone != opts.Now || !got[1].Gone.IsZero() {
		t.Fatalf("memory after a.A left = %+v, want a.A gone at %s and b.B listed", got, opts.Now)
	}
}

// TestMergeWithoutNowRetainsNothing: one-shot callers pass no time and get no retention.
func TestMergeWithoutNowRetainsNothing(t *testing.T) {
	opts := Options{Retention: map[string]time.Duration{"zk": time.Hour}}
	_, opts.Memory = Merge([]registries.Snapshot{dubboSnapshot("zk", "a.A")}, opts)
	cat, mem := Merge([]registries.Snapshot{dubboSnapshot("zk")}, opts)
	if len(cat.Services) != 0 || len(mem.Sources) != 0 {
		t.Fatalf("with a zero Now: catalog %+v, memory %+v; want both empty", cat.Services, mem)
	}
}

func TestNextExpiry(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, ok := NextExpiry(Catalog{Services: []Service{{ID: "http:a"}}}); ok {
		t.Error("a catalog without retained services has an expiry")
	}
	cat := Catalog{Services: []Service{
		{ID: "http:a", Retained: &Retained{Since: t0, Until: t0.Add(time.Hour)}},
		{ID: "http:b"},
		{ID: "http:c", Retained: &Retained{Since: t0, Until: t0.Add(time.Minute)}},
	}}
	if next, ok := NextExpiry(cat); !ok || !next.Equal(t0.Add(time.Minute)) {
		t.Errorf("NextExpiry = %s, %v; want %s", next, ok, t0.Add(time.Minute))
	}
}
