package bridge

import (
	"flag"
	"slices"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/rpcbridge/rpcbridge/internal/golden"
	"github.com/rpcbridge/rpcbridge/registries"
)

var update = flag.Bool("update", false, "rewrite testdata/*.out.yaml from the current output")

// mergeInput is the format of testdata/*.in.yaml.
type mergeInput struct {
	Snapshots []registries.Snapshot `yaml:"snapshots"`
	Filters   map[string]struct {
		Include []string `yaml:"include"`
		Exclude []string `yaml:"exclude"`
	} `yaml:"filters"`
}

func TestMergeGolden(t *testing.T) {
	golden.Run(t, "testdata", *update, func(t *testing.T, in []byte) []byte {
		var input mergeInput
		golden.DecodeStrict(t, in, &input)
		filters := map[string]Filter{}
		for src, f := range input.Filters {
			filters[src] = Filter{Include: f.Include, Exclude: f.Exclude}
		}
		out, err := yaml.Marshal(Merge(input.Snapshots, filters))
		if err != nil {
			t.Fatal(err)
		}
		return out
	})
}

func TestMergeIgnoresSnapshotOrder(t *testing.T) {
	a := registries.Snapshot{Source: "a", Synced: true, Services: []registries.Service{
		{Name: "hello", Protocol: registries.ProtocolHTTP, Endpoints: []registries.Endpoint{{Address: "10.0.0.1", Port: 80, Weight: 1, Healthy: true}}},
	}}
	b := registries.Snapshot{Source: "b", Synced: true, Services: []registries.Service{
		{Name: "hello", Protocol: registries.ProtocolHTTP, Endpoints: []registries.Endpoint{{Address: "10.0.0.2", Port: 80, Weight: 1, Healthy: true}}},
	}}
	ab, _ := yaml.Marshal(Merge([]registries.Snapshot{a, b}, nil))
	ba, _ := yaml.Marshal(Merge([]registries.Snapshot{b, a}, nil))
	if string(ab) != string(ba) {
		t.Fatalf("merge depends on snapshot order:\n%s\nvs\n%s", ab, ba)
	}
	cat := Merge([]registries.Snapshot{b, a}, nil)
	if len(cat.Services) != 1 || !slices.Equal(cat.Services[0].Sources, []string{"a", "b"}) || len(cat.Services[0].Endpoints) != 2 {
		t.Fatalf("want one service with endpoints from a and b, got %+v", cat.Services)
	}
}
