package bridge

import (
	"flag"
	"slices"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/rpcbridge/rpcbridge/internal/golden"
	"github.com/rpcbridge/rpcbridge/internal/yamltime"
	"github.com/rpcbridge/rpcbridge/registries"
)

var update = flag.Bool("update", false, "rewrite testdata/*.out.yaml from the current output")

// mergeInput is the format of testdata/*.in.yaml: one merge of snapshots, or a sequence of
// steps, each merged at its time with the memory of the step before (the output is then the
// catalog of every step).
type mergeInput struct {
	Snapshots []registries.Snapshot        `yaml:"snapshots"`
	Filters   map[string]filterInput       `yaml:"filters"`
	Retention map[string]yamltime.Duration `yaml:"retention"`
	Steps     []struct {
		Now       time.Time             `yaml:"now"`
		Snapshots []registries.Snapshot `yaml:"snapshots"`
		// Filters, when set, replace the filters from this step on (a configuration reload).
		Filters map[string]filterInput `yaml:"filters"`
	} `yaml:"steps"`
}

// filterInput is a source's filter in a golden input.
type filterInput struct {
	Include []string `yaml:"include"`
	Exclude []string `yaml:"exclude"`
}

// mergeStep is one step of the output of a sequence.
type mergeStep struct {
	Now     time.Time `yaml:"now"`
	Catalog Catalog   `yaml:"catalog"`
}

func TestMergeGolden(t *testing.T) {
	golden.Run(t, "testdata", *update, func(t *testing.T, in []byte) []byte {
		var input mergeInput
		golden.DecodeStrict(t, in, &input)
		toFilters := func(fs map[string]filterInput) map[string]Filter {
			out := map[string]Filter{}
			for src, f := range fs {
				out[src] = Filter{Include: f.Include, Exclude: f.Exclude}
			}
			return out
		}
		opts := Options{Filters: toFilters(input.Filters), Retention: map[string]time.Duration{}}
		for src, d := range input.Retention {
			opts.Retention[src] = d.Std()
		}
		var v any
		if len(input.Steps) == 0 {
			v, _ = Merge(input.Snapshots, opts)
		} else {
			var steps []mergeStep
			for _, step := range input.Steps {
				if step.Filters != nil {
					opts.Filters = toFilters(step.Filters)
				}
				opts.Now = step.Now
				var cat Catalog
				cat, opts.Memory = Merge(step.Snapshots, opts)
				steps = append(steps, mergeStep{Now: step.Now, Catalog: cat})
			}
			v = map[string]any{"steps": steps}
		}
		out, err := yaml.Marshal(v)
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
	catAB, _ := Merge([]registries.Snapshot{a, b}, Options{})
	catBA, _ := Merge([]registries.Snapshot{b, a}, Options{})
	ab, _ := yaml.Marshal(catAB)
	ba, _ := yaml.Marshal(catBA)
	if string(ab) != string(ba) {
		t.Fatalf("merge depends on snapshot order:\n%s\nvs\n%s", ab, ba)
	}
	cat := catBA
	if len(cat.Services) != 1 || !slices.Equal(cat.Services[0].Sources, []string{"a", "b"}) || len(cat.Services[0].Endpoints) != 2 {
		t.Fatalf("want one service with endpoints from a and b, got %+v", cat.Services)
	}
}
