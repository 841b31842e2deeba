// Package golden runs table tests stored as files: every testdata/<case>.in.yaml is fed to a
// function whose output is compared with testdata/<case>.out.yaml. With update set, the outputs
// are rewritten instead, and .out.yaml files without an input are deleted.
package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Run calls produce for every *.in.yaml in dir and compares its result with the matching
// *.out.yaml. update rewrites the expected files and prunes stale ones.
func Run(t *testing.T, dir string, update bool, produce func(t *testing.T, in []byte) []byte) {
	t.Helper()
	inputs, err := filepath.Glob(filepath.Join(dir, "*.in.yaml"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs in %s (%v)", dir, err)
	}
	wanted := map[string]bool{}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".in.yaml")
		out := filepath.Join(dir, name+".out.yaml")
		wanted[out] = true
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got := produce(t, data)
			if update {
				if err := os.WriteFile(out, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			Compare(t, out, got)
		})
	}
	if update {
		prune(t, dir, wanted)
	}
}

// Compare fails t with a line diff when got differs from the contents of file.
func Compare(t *testing.T, file string, got []byte) {
	t.Helper()
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")); diff != "" {
		t.Errorf("%s differs (-want +got; run with -update to accept):\n%s", file, diff)
	}
}

func prune(t *testing.T, dir string, wanted map[string]bool) {
	outs, _ := filepath.Glob(filepath.Join(dir, "*.out.yaml"))
	for _, out := range outs {
		if !wanted[out] {
			if err := os.Remove(out); err != nil {
				t.Errorf("prune %s: %v", out, err)
			}
		}
	}
}
