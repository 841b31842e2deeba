package dataplane_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/bridge"
	"github.com/rpcbridge/rpcbridge/controlplane"
	"github.com/rpcbridge/rpcbridge/dataplane"
	"github.com/rpcbridge/rpcbridge/dataplane/internal/bookstore"
	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/idl/java"
	protoidl "github.com/rpcbridge/rpcbridge/idl/proto"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/transcoding"
)

// greeterAPI is the Java source of the dubbo-go provider's API, with its Javadoc.
const greeterAPI = "../examples/quickstart/dubbo-api"

// TestMCPToolsDescribedByIDLComments runs the whole pipeline from the IDL to the MCP client:
// bookstore.proto compiled as uploads are (its comments kept), the provider's Java API parsed
// from its sources (its Javadoc kept), transcoding.Build, the xDS server and the gateway; the MCP
// go-sdk's client then sees each tool described by its method's comment and its arguments by
// the comments of the request fields and the @param tags, and calls the tools against the
// grpc-go bookstore and a real dubbo-go provider.
func TestMCPToolsDescribedByIDLComments(t *testing.T) {
	ctx := context.Background()
	provider := dubboprovider.Start(t, dubboprovider.Options{Registry: "none", App: "mcp-docs"})
	grpcAddr := bookstore.Start(t, bookstore.MustDescriptors(t))

	fds, docs, err := protoidl.CompileWithDocs(ctx, bookstore.ProtoFiles())
	if err != nil {
		t.Fatal(err)
	}
	greeter, err := java.ParseSources(ctx, readTree(t, greeterAPI))
	if err != nil {
		t.Fatal(err)
	}
	greeter.Name = "greeter-api"
	schemas := []idl.Schema{{Name: "bookstore", Descriptors: fds, ProtoDocs: docs}, greeter}
	grpcHost, grpcPort := hostPort(t, grpcAddr)
	cat := bridge.Catalog{Services: []bridge.Service{
		{ID: "grpc:" + bookstore.Service, Name: bookstore.Service, Protocol: registries.ProtocolGRPC, Sources: []string{"static"},
			Endpoints: []bridge.Endpoint{{Endpoint: registries.Endpoint{Address: grpcHost, Port: grpcPort, Weight: 1, Healthy: true}, Source: "static"}}},
		{ID: greeterCluster, Name: dubboprovider.Interface, Protocol: registries.ProtocolDubbo, Interface: dubboprovider.Interface,
			Version: dubboprovider.Version, Sources: []string{"static"},
			Endpoints: []bridge.Endpoint{{Endpoint: registries.Endpoint{Address: "127.0.0.1", Port: uint32(provider.Port()), Weight: 100, Healthy: true}, Source: "static"}}},
	}}
	g, _ := transcoding.Build(cat, schemas, transcoding.Rules{})
	cp := controlplane.NewServer(controlplane.ServerOptions{Translate: controlplane.Options{
		MCPServices: []string{"grpc:bookstore.*", "dubbo:org.rpcbridge.test.*"}}})
	if err := cp.Update(g); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- cp.Serve(runCtx, ln) }()
	s := &mcpStack{gw: dataplane.New(dataplane.Options{XDSAddress: ln.Addr().String(), NodeID: "mcp-docs-test",
		NodeCluster: gatewayv1.EmbeddedNodeCluster, ListenAddress: "127.0.0.1:0", MCPPath: "/mcp"})}
	done := make(chan error, 1)
	go func() { done <- s.gw.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway Run: %v", err)
		}
		<-served
	})
	eventually(t, "the gateway's listener", func() error {
		if s.gw.Addr() == nil {
			return errNotListening
		}
		return nil
	})
	session := s.connect(t, nil)

	// The tools of the methods the test looks at: GetShelf, sayHello(String,int) (the first of
	// its routes), echoUser.
	var getShelf, sayHello, echoUser *mcp.Tool
	eventually(t, "the documented tools", func() error {
		list, err := session.ListTools(ctx, nil)
		if err != nil {
			return err
		}
		getShelf, sayHello, echoUser = nil, nil, nil
		for _, tool := range list.Tools {
			switch {
			case tool.Name == toolGetShelf:
				getShelf = tool
			case strings.HasPrefix(tool.Name, toolHelloTimes) && sayHello == nil && properties(t, tool)["times"] != nil:
				sayHello = tool
			case tool.Name == toolEchoUser:
				echoUser = tool
			}
		}
		if getShelf == nil || sayHello == nil || echoUser == nil {
			return errors.New("not listed yet")
		}
		return nil
	})

	// A protobuf method's comment and its request field's comment.
	if want := `Shelf{name, theme: "theme of <name>"}.`; getShelf.Description != want {
		t.Errorf("%s description %q, want the method's comment %q", getShelf.Name, getShelf.Description, want)
	}
	if got, _ := properties(t, getShelf)["name"]["description"].(string); !strings.HasPrefix(got, `The shelf's resource name, "shelves/<id>".`) {
		t.Errorf("%s argument name description %q, want the field's comment", getShelf.Name, got)
	}
	// A Java method's Javadoc, its @param tags and @return text, and a DTO's Javadoc.
	if want := "Greets name several times in one answer.\n\nReturns the greetings, separated by spaces"; sayHello.Description != want {
		t.Errorf("%s description %q, want the Javadoc %q", sayHello.Name, sayHello.Description, want)
	}
	props := properties(t, sayHello)
	if props["name"]["description"] != "who is greeted" || props["times"]["description"] != "how many greetings, one after the other" {
		t.Errorf("%s argument descriptions %v, want the @param texts", sayHello.Name, props)
	}
	if schema := mustJSON(t, echoUser.InputSchema); !strings.Contains(schema, `"description":"A user of the greeter."`) ||
		!strings.Contains(schema, `"description":"The user's display name."`) {
		t.Errorf("%s input schema lacks the User class's Javadoc: %s", echoUser.Name, schema)
	}

	// The documented tools call the real peers.
	eventually(t, "GetShelf through its tool", func() error {
		text, isErr, _ := call(t, session, getShelf.Name, map[string]any{"name": "fiction"})
		if isErr || !strings.Contains(text, `"theme":"theme of shelves/fiction"`) {
			return errors.New(text)
		}
		return nil
	})
	eventually(t, "sayHello through its tool", func() error {
		text, isErr, _ := call(t, session, sayHello.Name, map[string]any{"name": "Ada", "times": 2})
		if isErr || text != `"Hello, Ada Hello, Ada"` {
			return errors.New(text)
		}
		return nil
	})
}

// properties are the top-level properties of a tool's input schema.
func properties(t *testing.T, tool *mcp.Tool) map[string]map[string]any {
	t.Helper()
	var schema struct {
		Properties map[string]map[string]any `json:"properties"`
	}
	if err := json.Unmarshal([]byte(mustJSON(t, tool.InputSchema)), &schema); err != nil {
		t.Fatal(err)
	}
	return schema.Properties
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readTree reads the .java files under dir by their path below it.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".java") {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// hostPort splits a "host:port" address.
func hostPort(t *testing.T, addr string) (string, uint32) {
	t.Helper()
	eps := endpointsOf(t, addr)
	return eps[0].Address, eps[0].Port
}
