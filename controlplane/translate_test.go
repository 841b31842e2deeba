package controlplane

import (
	"bytes"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

var update = flag.Bool("update", false, "rewrite the golden .out.yaml files from the current output and prune stale ones")

// TestTranslateGolden translates each testdata/translate/<case>.in.yaml and compares the rendered
// resources (or "error: ..." for a failing translation) with <case>.out.yaml.
func TestTranslateGolden(t *testing.T) {
	dir := filepath.Join("testdata", "translate")
	inputs, err := filepath.Glob(filepath.Join(dir, "*.in.yaml"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs in %s: %v", dir, err)
	}
	wanted := map[string]bool{}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".in.yaml")
		outPath := filepath.Join(dir, name+".out.yaml")
		wanted[outPath] = true
		t.Run(name, func(t *testing.T) {
			got := translateCase(t, in)
			if *update {
				if err := os.WriteFile(outPath, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(outPath)
			if err != nil {
				t.Fatalf("reading golden file (run `go test ./controlplane -update`): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the translation:\n%s", outPath, lineDiff(string(want), string(got)))
			}
		})
	}
	if *update {
		outputs, _ := filepath.Glob(filepath.Join(dir, "*.out.yaml"))
		for _, out := range outputs {
			if !wanted[out] {
				if err := os.Remove(out); err != nil {
					t.Error(err)
				}
			}
		}
	}
}

// translateCase reads one IR input and renders its translation, or its error.
func translateCase(t *testing.T, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var g ir.Gateway
	if err := yaml.Unmarshal(raw, &g); err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
	// Besides the gateway, an input may name the flavor ("flavor: higress") and binary
	// descriptor sets beside it ("descriptorFiles: {service: file}").
	var opts struct {
		Flavor          Flavor            `yaml:"flavor"`
		DescriptorFiles map[string]string `yaml:"descriptorFiles"`
	}
	if err := yaml.Unmarshal(raw, &opts); err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
	services := slices.Sorted(maps.Keys(opts.DescriptorFiles))
	for _, svc := range services {
		set, err := os.ReadFile(filepath.Join(filepath.Dir(path), opts.DescriptorFiles[svc]))
		if err != nil {
			t.Fatal(err)
		}
		g.ProtoDescriptors = append(g.ProtoDescriptors, ir.ProtoDescriptors{Service: svc, FileDescriptorSet: set})
	}
	res, err := Translate(g, Options{Flavor: opts.Flavor})
	if err != nil {
		return []byte("error: " + err.Error() + "\n")
	}
	out, err := Render(res, FormatYAML)
	if err != nil {
		t.Fatalf("rendering: %v", err)
	}
	if len(res.Diagnostics) > 0 {
		diags, err := yaml.Marshal(map[string]any{"diagnostics": res.Diagnostics})
		if err != nil {
			t.Fatal(err)
		}
		out = append(append(out, "---\n"...), diags...)
	}
	return out
}

// lineDiff is a small readable diff: the lines that differ, with their line numbers.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n  - " + wl + "\n  + " + gl + "\n")
		}
	}
	return b.String()
}

// TestRenderIsDeterministic translates and renders the same input twice, in both formats, and
// expects byte-identical output.
func TestRenderIsDeterministic(t *testing.T) {
	for _, format := range []string{FormatYAML, FormatJSON} {
		var outputs [][]byte
		for range 2 {
			raw, err := os.ReadFile(filepath.Join("testdata", "translate", "weighted-localities.in.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			var g ir.Gateway
			if err := yaml.Unmarshal(raw, &g); err != nil {
				t.Fatal(err)
			}
			res, err := Translate(g, Options{})
			if err != nil {
				t.Fatal(err)
			}
			out, err := Render(res, format)
			if err != nil {
				t.Fatal(err)
			}
			outputs = append(outputs, out)
		}
		if len(outputs[0]) == 0 || !bytes.Equal(outputs[0], outputs[1]) {
			t.Errorf("%s rendering differs between runs:\n%s", format, lineDiff(string(outputs[0]), string(outputs[1])))
		}
	}
}
