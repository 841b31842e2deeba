package summary

import (
	"bytes"
	"context"
	"flag"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/rpcbridge/rpcbridge/idl"
	protoidl "github.com/rpcbridge/rpcbridge/idl/proto"
	"github.com/rpcbridge/rpcbridge/internal/golden"
)

var update = flag.Bool("update", false, "rewrite testdata/*.out.yaml from the current output and prune stale ones")

// version is one schema of a golden case: .proto sources by import path, or the Java model.
type version struct {
	Proto map[string]string `yaml:"proto"`
	Java  *idl.Schema       `yaml:"java"`
}

// goldenInput is a testdata/<case>.in.yaml file: two versions of a schema.
type goldenInput struct {
	From version `yaml:"from"`
	To   version `yaml:"to"`
}

// goldenOutput is the summary of the second version and what changed since the first.
type goldenOutput struct {
	Summary Summary `yaml:"summary"`
	Diff    Diff    `yaml:"diff"`
}

func TestSummaryAndDiffGolden(t *testing.T) {
	golden.Run(t, "testdata", *update, func(t *testing.T, raw []byte) []byte {
		var in goldenInput
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		dec.KnownFields(true)
		if err := dec.Decode(&in); err != nil {
			t.Fatalf("parse golden input: %v", err)
		}
		from, to := Of(schemaOf(t, in.From)), Of(schemaOf(t, in.To))
		out, err := yaml.Marshal(goldenOutput{Summary: to, Diff: Compare(from, to)})
		if err != nil {
			t.Fatal(err)
		}
		return out
	})
}

func schemaOf(t *testing.T, v version) idl.Schema {
	t.Helper()
	if v.Java != nil {
		return *v.Java
	}
	files := map[string][]byte{}
	for name, src := range v.Proto {
		files[name] = []byte(src)
	}
	fds, err := protoidl.Compile(context.Background(), files)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return idl.Schema{Descriptors: fds}
}

func TestCompareOfEqualSummariesIsEmpty(t *testing.T) {
	s := Of(idl.Schema{Interfaces: []idl.JavaInterface{{Name: "a.B", Methods: []idl.JavaMethod{{Name: "m", Returns: "void"}}}}})
	if d := Compare(s, s); !d.Empty() {
		t.Fatalf("Compare(s, s) = %+v", d)
	}
}
