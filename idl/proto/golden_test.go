package proto

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
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
	inputs, err := filepath.Glob(filepath.Join("testdata", "*.in.yaml"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs (%v)", err)
	}
	wanted := map[string]bool{}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".in.yaml")
		out := filepath.Join("testdata", name+".out.yaml")
		wanted[out] = true
		t.Run(name, func(t *testing.T) {
			got := runGoldenCase(t, in)
			if *update {
				if err := os.WriteFile(out, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("%v (run `go test ./idl/proto -run TestCompileGolden -update` to create it)", err)
			}
			if diff := lineDiff(string(want), string(got)); diff != "" {
				t.Errorf("%s differs (-want +got; rerun with -update to accept):\n%s", out, diff)
			}
		})
	}
	if *update {
		outs, _ := filepath.Glob(filepath.Join("testdata", "*.out.yaml"))
		for _, out := range outs {
			if !wanted[out] {
				if err := os.Remove(out); err != nil {
					t.Errorf("prune %s: %v", out, err)
				}
			}
		}
	}
}

func runGoldenCase(t *testing.T, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var in goldenInput
	if err := yaml.Unmarshal(raw, &in); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
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

// lineDiff returns a readable line diff of want and got, or "" when they are equal. It marks the
// lines of the longest common subsequence as unchanged.
func lineDiff(want, got string) string {
	if want == got {
		return ""
	}
	a, b := strings.Split(want, "\n"), strings.Split(got, "\n")
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var sb strings.Builder
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			fmt.Fprintf(&sb, "  %s\n", a[i])
			i, j = i+1, j+1
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			fmt.Fprintf(&sb, "+ %s\n", b[j])
			j++
		default:
			fmt.Fprintf(&sb, "- %s\n", a[i])
			i++
		}
	}
	return sb.String()
}
