package dataplane_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/controlplane"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dataplane"
	"github.com/rpcbridge/rpcbridge/dataplane/internal/bookstore"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
	"github.com/rpcbridge/rpcbridge/transcoding"
)

// mcpAPIKey is the key of the API-key protected tool route.
const mcpAPIKey = "mcp-secret-key"

// Tool names the control plane gives the test's routes (openapi.Tools): the gRPC method's full
// name; the Dubbo service and method, with _2 for the second route of an overloaded method.
const (
	toolGetShelf   = "bookstore.v1.Bookstore.GetShelf"
	toolListBooks  = "bookstore.v1.Bookstore.ListBooks"
	toolCreate     = "bookstore.v1.Bookstore.CreateShelf"
	toolHelloTimes = "org.rpcbridge.test.GreeterService_1.0.0.sayHello"
	toolEchoUser   = "org.rpcbridge.test.GreeterService_1.0.0.echoUser"
	toolSecret     = "org.rpcbridge.test.GreeterService_1.0.0.sayHello_2"
)

// mcpStack is a real dubbo-go provider (in ZooKeeper), the bookstore grpc-go server,
// rpcbridge's xDS server exposing their services as MCP tools, and the gateway serving /mcp.
type mcpStack struct {
	gw *dataplane.Gateway
}

func startMCPStack(t *testing.T) *mcpStack {
	t.Helper()
	zk := zookeeper.Start(t)
	provider := dubboprovider.Start(t, dubboprovider.Options{ZooKeeper: zk.Addr(), App: "mcp-greeter", Registry: "interface"})
	grpcAddr := bookstore.Start(t, bookstore.MustDescriptors(t))
	const grpcCluster = "grpc:" + bookstore.Service
	secret := greeterRoute("sayHello", "GET", "/secret/{name}", greeterCluster,
		ir.DubboParam{Name: "name", Type: "java.lang.String", From: ir.FromPath, Key: "name"})
	secret.Name = "secret"
	secret.Policy = &ir.EdgePolicy{Name: "agents", APIKey: &ir.APIKeyAuth{
		Sources: []ir.APIKeySource{{Header: "x-api-key"}}, Credentials: []ir.APIKeyCredential{{Client: "agent", Key: mcpAPIKey}}}}
	g := ir.Gateway{
		Clusters: []ir.Cluster{
			{Name: greeterCluster, Protocol: ir.UpstreamDubbo, ConnectTimeout: time.Second,
				Endpoints: []ir.Endpoint{{Address: "127.0.0.1", Port: uint32(provider.Port()), Weight: 100, Healthy: true}}},
			{Name: grpcCluster, Protocol: ir.UpstreamHTTP2, ConnectTimeout: time.Second, Endpoints: endpointsOf(t, grpcAddr)},
			{Name: "http:other", Protocol: ir.UpstreamHTTP1, ConnectTimeout: time.Second, Endpoints: endpointsOf(t, grpcAddr)},
		},
		Routes: []ir.Route{
			{Name: "shelf", Cluster: grpcCluster, Timeout: 10 * time.Second, Match: ir.Match{PathTemplate: "/v1/{name=shelves/*}", Methods: []string{"GET"}},
				GRPC: &ir.GRPCRoute{Service: bookstore.Service, Method: "GetShelf"}},
			{Name: "books", Cluster: grpcCluster, Timeout: 10 * time.Second, Match: ir.Match{PathTemplate: "/v1/shelves/{shelf}/books", Methods: []string{"GET"}},
				GRPC: &ir.GRPCRoute{Service: bookstore.Service, Method: "ListBooks"}},
			{Name: "create", Cluster: grpcCluster, Timeout: 10 * time.Second, Match: ir.Match{Path: "/v1/shelves", Methods: []string{"POST"}},
				GRPC: &ir.GRPCRoute{Service: bookstore.Service, Method: "CreateShelf", Body: "*"}},
			greeterRoute("sayHelloTimes", "GET", "/hello/{name}/times", greeterCluster,
				ir.DubboParam{Name: "name", Type: "java.lang.String", From: ir.FromPath, Key: "name"},
				ir.DubboParam{Name: "times", Type: "int", From: ir.FromQuery, Key: "n"}),
			greeterRoute("echoUser", "POST", "/users", greeterCluster,
				ir.DubboParam{Name: "user", Type: "org.rpcbridge.test.User", From: ir.FromWholeBody}),
			secret,
			{Name: "not-a-tool", Cluster: "http:other", Match: ir.Match{PathPrefix: "/other/"}},
		},
		ProtoDescriptors: []ir.ProtoDescriptors{{Service: bookstore.Service, FileDescriptorSet: descriptorBin(t)}},
		JavaClasses:      dubboprovider.JavaClasses(),
	}
	withPolicy(&g, transcoding.DefaultRPCPolicy())
	cp := controlplane.NewServer(controlplane.ServerOptions{Translate: controlplane.Options{
		MCPServices: []string{"grpc:bookstore.*", "dubbo:org.rpcbridge.test.*"}}})
	if err := cp.Update(g); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- cp.Serve(ctx, ln) }()
	s := &mcpStack{gw: dataplane.New(dataplane.Options{XDSAddress: ln.Addr().String(), NodeID: "mcp-test",
		NodeCluster: gatewayv1.EmbeddedNodeCluster, ListenAddress: "127.0.0.1:0", MCPPath: "/mcp"})}
	done := make(chan error, 1)
	go func() { done <- s.gw.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway Run: %v", err)
		}
		<-served
	})
	// The tools appear with the routes; their calls need the endpoints, which come over EDS
	// after them: wait until a REST request of each upstream goes through.
	for _, path := range []string{"/v1/shelves/warmup", "/hello/warmup/times?n=1"} {
		eventually(t, "REST "+path, func() error { return s.getOK(path) })
	}
	return s
}

// getOK is nil when GET path answers 200.
func (s *mcpStack) getOK(path string) error {
	if s.gw.Addr() == nil {
		return errNotListening
	}
	resp, err := http.Get("http://" + s.gw.Addr().String() + path)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &statusError{path: path, status: resp.StatusCode}
	}
	return nil
}

type statusError struct {
	path   string
	status int
}

func (e *statusError) Error() string { return e.path + ": " + http.StatusText(e.status) }

var errNotListening = &statusError{path: "gateway", status: http.StatusServiceUnavailable}

// headerTransport adds headers to every request of the MCP client.
type headerTransport struct{ header http.Header }

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, vs := range h.header {
		r.Header[k] = vs
	}
	return http.DefaultTransport.RoundTrip(r)
}

// connect opens an MCP session of the go-sdk's own client with the gateway's /mcp, its HTTP
// requests carrying header.
func (s *mcpStack) connect(t *testing.T, header http.Header) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "rpcbridge-test", Version: "1"}, nil)
	transport := &mcp.StreamableClientTransport{Endpoint: "http://" + s.gw.Addr().String() + "/mcp",
		HTTPClient: &http.Client{Transport: headerTransport{header}}, DisableStandaloneSSE: true, MaxRetries: -1}
	session, err := client.Connect(context.Background(), transport, nil)
	if err != nil {
		t.Fatalf("MCP connect: %v", err)
	}
	t.Cleanup(func() { _ = session.Close() })
	return session
}

// call calls a tool and returns its text and whether it is a tool error.
func call(t *testing.T, session *mcp.ClientSession, name string, args any) (string, bool, any) {
	t.Helper()
	res, err := session.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("call %s: %v", name, err)
	}
	var text []string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			text = append(text, tc.Text)
		}
	}
	return strings.Join(text, "\n"), res.IsError, res.StructuredContent
}

// TestMCPTools lists and calls the gateway's MCP tools with the MCP go-sdk's client: gRPC
// routes to the grpc-go bookstore and Dubbo routes to a real dubbo-go provider, through the
// gateway's handler (an API-key policy applies to a tool call as to its REST route).
func TestMCPTools(t *testing.T) {
	s := startMCPStack(t)
	session := s.connect(t, nil)

	var list *mcp.ListToolsResult
	eventually(t, "the tools", func() error {
		var err error
		list, err = session.ListTools(context.Background(), nil)
		if err == nil && len(list.Tools) != 6 {
			return &statusError{path: "tools/list", status: len(list.Tools)}
		}
		return err
	})
	tools := map[string]*mcp.Tool{}
	for _, tool := range list.Tools {
		tools[tool.Name] = tool
	}
	for _, name := range []string{toolGetShelf, toolListBooks, toolCreate, toolHelloTimes, toolEchoUser, toolSecret} {
		if tools[name] == nil {
			t.Fatalf("tools/list has no %s: %v", name, slices.Collect(func(yield func(string) bool) {
				for n := range tools {
					if !yield(n) {
						return
					}
				}
			}))
		}
	}
	schema := func(name string) map[string]any {
		raw, err := json.Marshal(tools[name].InputSchema)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if got := schema(toolGetShelf); !slices.Contains(asStrings(got["required"]), "name") || got["type"] != "object" {
		t.Errorf("%s input schema %v: want an object requiring name", toolGetShelf, got)
	}
	if props, _ := schema(toolListBooks)["properties"].(map[string]any); props["page_size"] == nil || props["tags"] == nil || props["author.name"] == nil {
		t.Errorf("%s input schema properties %v: want the query fields page_size, tags, author.name", toolListBooks, props)
	}
	if defs, _ := schema(toolEchoUser)["$defs"].(map[string]any); defs["org.rpcbridge.test.User"] == nil || defs["org.rpcbridge.test.Address"] == nil {
		t.Errorf("%s input schema $defs %v: want the User class and the classes it reaches", toolEchoUser, defs)
	}
	if d := tools[toolGetShelf].Description; !strings.Contains(d, "bookstore.v1.Bookstore/GetShelf") || !strings.Contains(d, "GET /v1/shelves/{name}") {
		t.Errorf("%s description %q", toolGetShelf, d)
	}

	text, isErr, structured := call(t, session, toolGetShelf, map[string]any{"name": "fiction"})
	if isErr || !strings.Contains(text, `"theme":"theme of shelves/fiction"`) {
		t.Errorf("GetShelf: error %v, %s", isErr, text)
	}
	if m, _ := structured.(map[string]any); m["name"] != "shelves/fiction" {
		t.Errorf("GetShelf structured content %v", structured)
	}
	text, isErr, _ = call(t, session, toolListBooks, map[string]any{"shelf": "7", "page_size": 2, "tags": []string{"a", "b"}})
	if isErr || strings.Count(text, `"tags":["a","b"]`) != 2 || !strings.Contains(text, `"pages":"1099511627777"`) {
		t.Errorf("ListBooks: error %v, %s", isErr, text)
	}
	text, isErr, _ = call(t, session, toolCreate, map[string]any{"body": map[string]any{"name": "shelves/new", "theme": "poetry", "id": "9007199254740993"}})
	if isErr || !strings.Contains(text, `"id":"9007199254740993"`) || !strings.Contains(text, `"theme":"poetry"`) {
		t.Errorf("CreateShelf: error %v, %s", isErr, text)
	}
	text, isErr, _ = call(t, session, toolHelloTimes, map[string]any{"name": "Jürgen/x", "n": 2})
	if isErr || text != `"Hello, Jürgen/x Hello, Jürgen/x"` {
		t.Errorf("sayHello(String,int): error %v, %s", isErr, text)
	}
	text, isErr, _ = call(t, session, toolEchoUser, map[string]any{"body": map[string]any{"name": "Ada", "level": "GOLD"}})
	if isErr || !strings.Contains(text, `"name":"Ada"`) || !strings.Contains(text, `"level":"GOLD"`) {
		t.Errorf("echoUser: error %v, %s", isErr, text)
	}

	// Arguments that do not fit the schema are refused before any call, with what is wrong.
	bad := []struct {
		tool string
		args any
		want string
	}{
		{toolGetShelf, map[string]any{}, "name"},
		{toolListBooks, map[string]any{"shelf": "7", "page_size": "many"}, "page_size"},
		{toolHelloTimes, map[string]any{"name": "Bob", "n": 2, "extra": true}, "extra"},
		{toolEchoUser, map[string]any{"body": map[string]any{"level": "BRONZE"}}, "BRONZE"},
		{toolGetShelf, []int{1, 2}, "object"},
	}
	for _, b := range bad {
		text, isErr, _ := call(t, session, b.tool, b.args)
		if !isErr || !strings.Contains(text, "invalid arguments for tool "+b.tool) || !strings.Contains(text, b.want) {
			t.Errorf("%s %v: error %v, %q; want a tool error naming %q", b.tool, b.args, isErr, text, b.want)
		}
	}
	// A value the schema accepts but the method does not is the gateway's own 400.
	text, isErr, _ = call(t, session, toolHelloTimes, map[string]any{"name": "Bob", "n": 3000000000})
	if !isErr || !strings.Contains(text, "3000000000") {
		t.Errorf("int out of range: error %v, %q; want a tool error", isErr, text)
	}

	// The API-key policy of the route applies to its tool: refused without the key, called
	// with it (the MCP request's header goes to the REST request).
	text, isErr, _ = call(t, session, toolSecret, map[string]any{"name": "Eve"})
	if !isErr || !strings.Contains(text, "HTTP 401") {
		t.Errorf("protected tool without a key: error %v, %q; want HTTP 401", isErr, text)
	}
	keyed := s.connect(t, http.Header{"X-Api-Key": {mcpAPIKey}})
	text, isErr, _ = call(t, keyed, toolSecret, map[string]any{"name": "Ada"})
	if isErr || text != `"Hello, Ada"` {
		t.Errorf("protected tool with the key: error %v, %q", isErr, text)
	}

	// The gateway is still serving.
	if err := s.getOK("/v1/shelves/after"); err != nil {
		t.Errorf("REST after the tool calls: %v", err)
	}
}

// asStrings is a JSON array of strings.
func asStrings(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
