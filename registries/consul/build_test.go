package consul

import (
	"flag"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"
	"gopkg.in/yaml.v3"

	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/internal/golden"
	"github.com/rpcbridge/rpcbridge/registries"
)

var update = flag.Bool("update", false, "rewrite testdata/*.out.yaml")

// buildCase is a golden input: health entries in the JSON shape of /v1/health/service/<name>.
type buildCase struct {
	Name    string              `json:"name"`
	Config  Config              `json:"config"`
	Entries []*api.ServiceEntry `json:"entries"`
}

type buildResult struct {
	Service     *registries.Service `yaml:"service,omitempty"`
	Diagnostics []diag.Diagnostic   `yaml:"diagnostics,omitempty"`
}

func TestBuildServiceGolden(t *testing.T) {
	golden.Run(t, "testdata", *update, func(t *testing.T, in []byte) []byte {
		var c buildCase
		golden.DecodeStrictJSON(t, in, &c)
		src, err := New("c1", c.Config, nil)
		if err != nil {
			t.Fatal(err)
		}
		svc, diags, ok := src.builder.service(c.Name, c.Entries)
		var res buildResult
		if ok {
			res.Service = &svc
		}
		res.Diagnostics = diags
		out, err := yaml.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		return out
	})
}

func TestOversizedMetadataSkipsOnlyThatInstance(t *testing.T) {
	src, err := New("c1", Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	node := &api.Node{Node: "n1", Address: "10.0.0.1", Datacenter: "dc1"}
	entries := []*api.ServiceEntry{
		{Node: node, Service: &api.AgentService{ID: "a", Service: "web", Port: 80,
			Meta: map[string]string{"blob": strings.Repeat("x", maxValueSize+1)}}},
		{Node: node, Service: &api.AgentService{ID: "b", Service: "web", Port: 81}},
	}
	svc, diags, ok := src.builder.service("web", entries)
	if !ok || len(svc.Endpoints) != 1 || svc.Endpoints[0].Port != 81 {
		t.Fatalf("service = %+v, %v; want only the instance on port 81", svc, ok)
	}
	if len(diags) != 1 || diags[0].Subject != "web/a@n1" || diags[0].Stage != "registry/c1" ||
		!strings.Contains(diags[0].Message, `"blob"`) {
		t.Fatalf("diagnostics = %v; want one about web/a's blob", diags)
	}
}
