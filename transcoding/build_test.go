package transcoding

import (
	"archive/zip"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"gopkg.in/yaml.v3"

	"github.com/rpcbridge/rpcbridge/bridge"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/idl/java"
	protoidl "github.com/rpcbridge/rpcbridge/idl/proto"
	"github.com/rpcbridge/rpcbridge/internal/golden"
)

var update = flag.Bool("update", false, "rewrite testdata/*.out.yaml from the current output")

// buildCase is the format of testdata/*.in.yaml; the output is buildResult.
type buildCase struct {
	Catalog bridge.Catalog `yaml:"catalog"`
	Schemas []schemaCase   `yaml:"schemas"`
	Rules   Rules          `yaml:"rules"`
	// KeySets are the JWKS stage's key sets (Rules.KeySets), by source key.
	KeySets map[string]KeySet `yaml:"keySets"`
}

// schemaCase is one IDL upload in a golden input, in exactly one of its forms.
type schemaCase struct {
	Name string `yaml:"name"`
	// Proto holds .proto sources by import path, compiled with idl/proto.CompileWithDocs as
	// uploads are.
	Proto map[string]string `yaml:"proto"`
	// JavaSources holds .java files by path; JavaDeclarative holds declarative YAML files;
	// JavaMetadata holds metadata-center service definitions (JSON); JavaJar names an API jar
	// under testdata.
	JavaSources     map[string]string `yaml:"javaSources"`
	JavaDeclarative map[string]string `yaml:"javaDeclarative"`
	JavaMetadata    []string          `yaml:"javaMetadata"`
	JavaJar         string            `yaml:"javaJar"`
}

type buildResult struct {
	Gateway     renderedGateway   `yaml:"gateway"`
	Diagnostics []diag.Diagnostic `yaml:"diagnostics,omitempty"`
}

// renderedGateway is ir.Gateway with each descriptor set shown as the names of its files.
type renderedGateway struct {
	Clusters         []ir.Cluster          `yaml:"clusters,omitempty"`
	Routes           []ir.Route            `yaml:"routes,omitempty"`
	GRPCServices     []ir.GRPCService      `yaml:"grpcServices,omitempty"`
	ProtoDescriptors []renderedDescriptors `yaml:"protoDescriptors,omitempty"`
	JavaClasses      []ir.JavaClass        `yaml:"javaClasses,omitempty"`
	DubboValues      *ir.DubboValueLimits  `yaml:"dubboValues,omitempty"`
}

type renderedDescriptors struct {
	Service string            `yaml:"service"`
	Files   []string          `yaml:"files"`
	Docs    map[string]string `yaml:"docs,omitempty"`
}

func TestBuildGolden(t *testing.T) {
	golden.Run(t, "testdata", *update, func(t *testing.T, in []byte) []byte {
		var c buildCase
		golden.DecodeStrict(t, in, &c)
		// Origins are set by whoever reads rules (config.Parse in rpcbridge); here, by index.
		for i := range c.Rules.HTTP {
			c.Rules.HTTP[i].Origin = fmt.Sprintf("routes[%d]", i)
		}
		for i := range c.Rules.RPC {
			c.Rules.RPC[i].Origin = fmt.Sprintf("rpc[%d]", i)
		}
		c.Rules.KeySets = c.KeySets
		schemas := loadSchemas(t, c.Schemas)
		g, ds := Build(c.Catalog, schemas, c.Rules)
		again, _ := Build(c.Catalog, schemas, c.Rules)
		if !reflect.DeepEqual(g, again) {
			t.Error("Build is not deterministic: two calls on the same input differ")
		}
		rendered := renderedGateway{Clusters: g.Clusters, Routes: g.Routes, GRPCServices: g.GRPCServices, JavaClasses: g.JavaClasses, DubboValues: g.DubboValues}
		for _, pd := range g.ProtoDescriptors {
			rendered.ProtoDescriptors = append(rendered.ProtoDescriptors, renderedDescriptors{
				Service: pd.Service, Files: checkDescriptorSet(t, pd), Docs: pd.Docs})
		}
		out, err := yaml.Marshal(buildResult{Gateway: rendered, Diagnostics: ds})
		if err != nil {
			t.Fatal(err)
		}
		return out
	})
}

// checkDescriptorSet decodes a descriptor set, checks that it links on its own, holds the
// service, lists dependencies first and is encoded deterministically, and returns its file
// names.
func checkDescriptorSet(t *testing.T, pd ir.ProtoDescriptors) []string {
	t.Helper()
	var fds descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(pd.FileDescriptorSet, &fds); err != nil {
		t.Fatalf("descriptors of %s: %v", pd.Service, err)
	}
	files, err := protodesc.NewFiles(&fds)
	if err != nil {
		t.Fatalf("descriptors of %s do not link on their own: %v", pd.Service, err)
	}
	if _, err := files.FindDescriptorByName(protoreflect.FullName(pd.Service)); err != nil {
		t.Errorf("descriptors of %s do not hold the service: %v", pd.Service, err)
	}
	var names []string
	seen := map[string]bool{}
	for _, f := range fds.GetFile() {
		for _, dep := range f.GetDependency() {
			if !seen[dep] {
				t.Errorf("descriptors of %s: %s comes before its import %s", pd.Service, f.GetName(), dep)
			}
		}
		seen[f.GetName()] = true
		names = append(names, f.GetName())
	}
	again, err := proto.MarshalOptions{Deterministic: true}.Marshal(&fds)
	if err != nil || !bytes.Equal(again, pd.FileDescriptorSet) {
		t.Errorf("descriptors of %s are not the deterministic encoding (%v)", pd.Service, err)
	}
	return names
}

// loadSchemas turns the golden inputs into schemas, through the same parsers uploads use.
func loadSchemas(t *testing.T, cases []schemaCase) []idl.Schema {
	t.Helper()
	ctx := context.Background()
	var out []idl.Schema
	for _, c := range cases {
		var s idl.Schema
		var err error
		switch {
		case c.Proto != nil:
			s.Descriptors, s.ProtoDocs, err = protoidl.CompileWithDocs(ctx, bytesMap(c.Proto))
		case c.JavaSources != nil:
			s, err = java.ParseSources(ctx, bytesMap(c.JavaSources))
		case c.JavaDeclarative != nil:
			s, err = java.ParseDeclarative(ctx, bytesMap(c.JavaDeclarative))
		case c.JavaMetadata != nil:
			docs := make([][]byte, len(c.JavaMetadata))
			for i, d := range c.JavaMetadata {
				docs[i] = []byte(d)
			}
			s, err = java.ParseServiceDefinitions(ctx, docs)
		case c.JavaJar != "":
			s, err = java.ParseJar(ctx, unzip(t, filepath.Join("testdata", c.JavaJar)))
		default:
			t.Fatalf("schema %q has no IDL", c.Name)
		}
		if err != nil {
			t.Fatalf("schema %q: %v", c.Name, err)
		}
		s.Name, s.Version = c.Name, 1
		out = append(out, s)
	}
	return out
}

func bytesMap(m map[string]string) map[string][]byte {
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = []byte(v)
	}
	return out
}

func unzip(t *testing.T, path string) map[string][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = b
	}
	return out
}
