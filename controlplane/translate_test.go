package controlplane

import (
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/internal/golden"
)

var update = flag.Bool("update", false, "rewrite the golden .out.yaml files from the current output and prune stale ones")

// TestTranslateGolden translates each testdata/translate/<case>.in.yaml and compares the rendered
// resources (or "error: ..." for a failing translation) with <case>.out.yaml.
func TestTranslateGolden(t *testing.T) {
	dir := filepath.Join("testdata", "translate")
	golden.Run(t, dir, *update, func(t *testing.T, in []byte) []byte { return translateCase(t, dir, in) })
}

// translateInput is the format of testdata/translate/*.in.yaml: the gateway, and optionally
// the flavor ("flavor: higress"), the resources for rpcbridge's gateways ("rpcbridgeGateway:
// true"), binary descriptor sets beside the file ("descriptorFiles: {service: file}") and the
// downstream limits ("downstream: {...}") and the rpcbridge gateways of stock Envoy's Dubbo routes
// ("dubboGateways: {...}").
type translateInput struct {
	ir.Gateway       `yaml:",inline"`
	Flavor           Flavor            `yaml:"flavor"`
	RPCBridgeGateway bool              `yaml:"rpcbridgeGateway"`
	DubboGateways    *DubboGateways    `yaml:"dubboGateways"`
	DescriptorFiles  map[string]string `yaml:"descriptorFiles"`
	Downstream       *downstreamInput  `yaml:"downstream"`
}

// downstreamInput is DownstreamLimits in a golden input.
type downstreamInput struct {
	IdleTimeout                 time.Duration `yaml:"idleTimeout"`
	StreamIdleTimeout           time.Duration `yaml:"streamIdleTimeout"`
	RequestTimeout              time.Duration `yaml:"requestTimeout"`
	RequestHeadersTimeout       time.Duration `yaml:"requestHeadersTimeout"`
	BufferLimitBytes            uint32        `yaml:"bufferLimitBytes"`
	UploadLimitBytes            uint32        `yaml:"uploadLimitBytes"`
	MaxConcurrentStreams        uint32        `yaml:"maxConcurrentStreams"`
	InitialStreamWindowSize     uint32        `yaml:"initialStreamWindowSize"`
	InitialConnectionWindowSize uint32        `yaml:"initialConnectionWindowSize"`
}

// options are the translation options of an input.
func (in translateInput) options() Options {
	opts := Options{Flavor: in.Flavor, RPCBridgeGateway: in.RPCBridgeGateway, DubboGateways: in.DubboGateways}
	if d := in.Downstream; d != nil {
		opts.Downstream = &DownstreamLimits{
			IdleTimeout: d.IdleTimeout, StreamIdleTimeout: d.StreamIdleTimeout, RequestTimeout: d.RequestTimeout,
			RequestHeadersTimeout: d.RequestHeadersTimeout, BufferLimitBytes: d.BufferLimitBytes, UploadLimitBytes: d.UploadLimitBytes,
			MaxConcurrentStreams: d.MaxConcurrentStreams, InitialStreamWindowSize: d.InitialStreamWindowSize,
			InitialConnectionWindowSize: d.InitialConnectionWindowSize,
		}
	}
	return opts
}

// readTranslateInput decodes testdata/translate/<name>.in.yaml strictly.
func readTranslateInput(t *testing.T, name string) translateInput {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "translate", name+".in.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var in translateInput
	golden.DecodeStrict(t, raw, &in)
	return in
}

// translateCase renders the translation of one IR input (whose descriptor files are in dir), or
// its error.
func translateCase(t *testing.T, dir string, raw []byte) []byte {
	t.Helper()
	var in translateInput
	golden.DecodeStrict(t, raw, &in)
	g := in.Gateway
	services := slices.Sorted(maps.Keys(in.DescriptorFiles))
	for _, svc := range services {
		set, err := os.ReadFile(filepath.Join(dir, in.DescriptorFiles[svc]))
		if err != nil {
			t.Fatal(err)
		}
		g.ProtoDescriptors = append(g.ProtoDescriptors, ir.ProtoDescriptors{Service: svc, FileDescriptorSet: set})
	}
	res, err := Translate(g, in.options())
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

// TestRenderIsDeterministic translates and renders the same input twice, in both formats, and
// expects byte-identical output.
func TestRenderIsDeterministic(t *testing.T) {
	for _, format := range []string{FormatYAML, FormatJSON} {
		var outputs [][]byte
		for range 2 {
			in := readTranslateInput(t, "weighted-localities")
			res, err := Translate(in.Gateway, Options{Flavor: in.Flavor})
			if err != nil {
				t.Fatal(err)
			}
			out, err := Render(res, format)
			if err != nil {
				t.Fatal(err)
			}
			outputs = append(outputs, out)
		}
		if len(outputs[0]) == 0 {
			t.Errorf("%s rendering is empty", format)
		}
		if diff := cmp.Diff(strings.Split(string(outputs[0]), "\n"), strings.Split(string(outputs[1]), "\n")); diff != "" {
			t.Errorf("%s rendering differs between runs (-first +second):\n%s", format, diff)
		}
	}
}
