package transcoding

import (
	"flag"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/rpcbridge/rpcbridge/bridge"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/internal/golden"
)

var update = flag.Bool("update", false, "rewrite testdata/*.out.yaml from the current output")

// buildCase is the format of testdata/*.in.yaml; the output is buildResult.
type buildCase struct {
	Catalog bridge.Catalog `yaml:"catalog"`
	Rules   Rules          `yaml:"rules"`
}

type buildResult struct {
	Gateway     ir.Gateway        `yaml:"gateway"`
	Diagnostics []diag.Diagnostic `yaml:"diagnostics,omitempty"`
}

func TestBuildGolden(t *testing.T) {
	golden.Run(t, "testdata", *update, func(t *testing.T, in []byte) []byte {
		var c buildCase
		if err := yaml.Unmarshal(in, &c); err != nil {
			t.Fatal(err)
		}
		g, ds := Build(c.Catalog, nil, c.Rules)
		out, err := yaml.Marshal(buildResult{Gateway: g, Diagnostics: ds})
		if err != nil {
			t.Fatal(err)
		}
		return out
	})
}
