package config

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rpcbridge/rpcbridge/internal/configdoc"
)

var update = flag.Bool("update", false, "rewrite docs/configuration.md from the configuration types")

const (
	referencePath = "../docs/configuration.md"
	examplePath   = "testdata/example.yaml"
)

// referenceHeader opens docs/configuration.md.
const referenceHeader = `# Configuration reference

<!-- Generated from the Go types of the configuration; do not edit. Regenerate with
     go test ./config -run TestConfigurationReference -update   (or: make golden) -->

Every key of ` + "`rpcbridge.yaml`" + `, generated from the types that decode it (` + "`config.Config`" + ` and the
registry adapters' and route rules' types it embeds): the type, the default the code applies
when the key is left out (— when there is none: the key is optional and empty, or required), an
example, and the field's doc comment. A ` + "`[]`" + ` in a key stands for any element of a list. The
examples come from [config/testdata/example.yaml](../config/testdata/example.yaml), a complete
configuration that the test checks is valid.

The file is decoded strictly: an unknown key, a wrong type, a bad duration or an invalid value is
reported as ` + "`file:line: key: message`" + `, every problem at once, and ` + "`rpcbridge check`" + ` reports
them without starting anything. Durations are Go durations (` + "`250ms`, `5s`, `1m30s`" + `).

To add a key: give its field a ` + "`yaml`" + ` tag and a doc comment, apply its default in the
` + "`Defaults()`" + ` method of its struct (or of the struct that holds it), add a value to the example
file, and regenerate. The test fails when the checked-in reference differs from the code, or
when a key has no doc comment or no example.`

// TestConfigurationReference generates docs/configuration.md from the configuration types and
// fails when the checked-in file differs (run with -update to rewrite it). The example document
// it takes the examples from must be a valid configuration.
func TestConfigurationReference(t *testing.T) {
	example, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(examplePath, example); err != nil {
		t.Fatalf("the example configuration is invalid:\n%v", err)
	}
	got, err := configdoc.Render(configdoc.Options{
		Root:      reflect.TypeFor[Config](),
		Header:    referenceHeader,
		Example:   example,
		SourceDir: moduleSourceDir(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(referencePath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(referencePath)
	if err != nil {
		t.Fatalf("%v (run go test ./config -run TestConfigurationReference -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("docs/configuration.md is stale: run go test ./config -run TestConfigurationReference -update and review the diff\n%s",
			firstDifference(string(want), string(got)))
	}
}

// moduleSourceDir maps the import paths of this module to their directories, from this
// package's own import path and directory.
func moduleSourceDir(t *testing.T) func(string) (string, error) {
	self := reflect.TypeFor[Config]().PkgPath()
	module := strings.TrimSuffix(self, "/config")
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return func(pkg string) (string, error) {
		rel, ok := strings.CutPrefix(pkg, module)
		if !ok {
			return "", fmt.Errorf("package %s is outside module %s", pkg, module)
		}
		return filepath.Join(root, filepath.FromSlash(rel)), nil
	}
}

// firstDifference shows the first line where two texts differ.
func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\n  checked in: %s\n  generated:  %s", i+1, wl, gl)
		}
	}
	return ""
}
