package proto

import (
	"context"
	"errors"
	"flag"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/rpcbridge/rpcbridge/internal/golden"
)

var update = flag.Bool("update", false, "rewrite testdata/*.out.yaml from the current output and prune stale ones")

// goldenInput is a testdata/<case>.in.yaml file: proto sources by import path.
type goldenInput struct {
	Files map[string]string `yaml:"files"`
}

// goldenOutput is what a case produces: the compiled files in order and the services, or the
// compile problems.
type goldenOutput struct {
	Files    []string      `yaml:"files,omitempty"`
	Services []ServiceInfo `yaml:"services,omitempty"`
	Problems []Problem     `yaml:"problems,omitempty"`
}

func TestCompileGolden(t *testing.T) {
	golden.Run(t, "testdata", *update, runGoldenCase)
}

func runGoldenCase(t *testing.T, raw []byte) []byte {
	t.Helper()
	var in goldenInput
	golden.DecodeStrict(t, raw, &in)
	files := map[string][]byte{}
	for name, src := range in.Files {
		files[name] = []byte(src)
	}
	var out goldenOutput
	fds, err := Compile(context.Background(), files)
	var compileErr *CompileError
	switch {
	case errors.As(err, &compileErr):
		out.Problems = compileErr.Problems
	case err != nil:
		t.Fatalf("compile: %v", err)
	default:
		for _, f := range fds.GetFile() {
			out.Files = append(out.Files, f.GetName())
		}
		out.Services = Services(fds)
	}
	b, err := yaml.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
