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

	"gopkg.in/yaml.v3"

	"github.com/rpcbridge/rpcbridge/internal/configdoc"
	"github.com/rpcbridge/rpcbridge/kvstore/backends"
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
	example = withStoreExamples(t, example)
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

// withStoreExamples adds the store blocks of testdata/example-store.yaml (which one valid
// document cannot hold beside its own type's block) to the example document's store section,
// after validating each block alone.
func withStoreExamples(t *testing.T, example []byte) []byte {
	t.Helper()
	extra, err := os.ReadFile("testdata/example-store.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var blocks struct {
		Store backends.Config `yaml:"store"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(extra))
	dec.KnownFields(true)
	if err := dec.Decode(&blocks); err != nil {
		t.Fatalf("example-store.yaml: %v", err)
	}
	for typ, c := range map[string]backends.Config{
		"local": {Type: "local", Local: blocks.Store.Local}, "consul": {Type: "consul", Consul: blocks.Store.Consul},
		"nacos": {Type: "nacos", Nacos: blocks.Store.Nacos},
	} {
		if c.Consul != nil { // the file gives both forms of each secret, as examples
			c.Consul.Token.Env = ""
		}
		if c.Nacos != nil {
			c.Nacos.Username.Env, c.Nacos.Password.Env = "", ""
		}
		if err := c.Validate(); err != nil {
			t.Errorf("example-store.yaml: the %s block is invalid: %v", typ, err)
		}
	}
	var doc, add yaml.Node
	if err := yaml.Unmarshal(example, &doc); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(extra, &add); err != nil {
		t.Fatal(err)
	}
	store := mappingValue(doc.Content[0], "store")
	more := mappingValue(add.Content[0], "store")
	if store == nil || more == nil {
		t.Fatal("no store section in the example documents")
	}
	for i := 0; i+1 < len(more.Content); i += 2 {
		if have := mappingValue(store, more.Content[i].Value); have != nil {
			have.Content = append(have.Content, more.Content[i+1].Content...) // keys the first lacks
			continue
		}
		store.Content = append(store.Content, more.Content[i], more.Content[i+1])
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// mappingValue returns the value of key in mapping node m, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}
