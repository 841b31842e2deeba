package dubboprovider_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rpcbridge/rpcbridge/bridge"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/idl/java"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/transcoding"
)

// TestJavaClassesMatchTheJavaAPI: the classes the tests hand-write for the provider are the
// ones rpcbridge derives from the provider's Java API source (the quickstart's dubbo-api), so
// the two cannot drift apart.
func TestJavaClassesMatchTheJavaAPI(t *testing.T) {
	const dir = "../../../examples/quickstart/dubbo-api"
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".java") {
			return err
		}
		b, err := os.ReadFile(path)
		files[strings.TrimPrefix(path, dir+"/")] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	schema, err := java.ParseSources(context.Background(), files)
	if err != nil {
		t.Fatal(err)
	}
	schema.Name = "greeter-api"
	cat := bridge.Catalog{Services: []bridge.Service{{
		ID: bridge.ServiceID(registries.Service{Protocol: registries.ProtocolDubbo,
			Interface: dubboprovider.Interface, Version: dubboprovider.Version}),
		Name: dubboprovider.Interface, Protocol: registries.ProtocolDubbo,
		Interface: dubboprovider.Interface, Version: dubboprovider.Version,
	}}}
	gw, diags := transcoding.Build(cat, []idl.Schema{schema}, transcoding.Rules{})
	byName := func(a, b ir.JavaClass) int { return strings.Compare(a.Name, b.Name) }
	want := dubboprovider.JavaClasses()
	slices.SortFunc(want, byName)
	got := slices.Clone(gw.JavaClasses)
	slices.SortFunc(got, byName)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dubboprovider.JavaClasses() differs from the classes of the Java API (-hand-written +derived):\n%s\ndiagnostics: %v", diff, diags)
	}
}
