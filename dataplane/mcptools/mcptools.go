// Package mcptools serves the gateway's tool routes to AI agents as Model Context Protocol
// tools, over the MCP go-sdk's streamable HTTP transport (stateless: every POST is complete in
// itself, so the gateway holds no session state for clients).
//
// The tools are what the routing table holds (routetable.Table.Tools): the control plane's
// gatewayv1.MCPTool messages, whose input schemas are the routes' OpenAPI operations folded
// into one arguments object (package openapi owns that mapping). The list follows the table:
// each request to the MCP path first brings the server's tools in line with the table in
// effect.
//
// A call is the REST request of its route. Its arguments are validated against the tool's
// schema first (a call that does not fit is a tool error naming what is wrong, and never
// reaches the route); they then fill the request's path, query, headers and body as the
// tool's arguments say, the MCP request's own headers (Authorization, API keys, ...) are
// added, and the request goes through the gateway's own handler: routing, the route's edge
// policies (JWT, API keys, CORS, rate limits), transcoding. So no policy of the REST route is
// bypassed. A 2xx answer is the tool's result (its JSON as text, and as structured content
// when it is an object); any other status is a tool error with the gateway's JSON error.
package mcptools

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/protobuf/proto"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
)

// DefaultMaxResultBytes bounds the REST answer one call returns unless Options say otherwise.
const DefaultMaxResultBytes = 4 << 20

// Peer headers: how ServeHTTP hands the MCP request's connection facts to the tool call, which
// the SDK gives only the request's headers. ServeHTTP removes any a client sent.
const (
	peerAddrHeader  = "X-Rpcbridge-Mcp-Peer"
	peerHostHeader  = "X-Rpcbridge-Mcp-Host"
	peerTLSHeader   = "X-Rpcbridge-Mcp-Tls"
	implementation  = "rpcbridge"
	instructionText = "Each tool calls one RPC method of a service behind the rpcbridge gateway, " +
		"with the same authentication and limits as its REST route."
)

// Options configure a Handler.
type Options struct {
	// Table returns the routing table in effect; nil (or a table that is not ready) offers no
	// tools.
	Table func() *routetable.Table
	// REST serves one REST request exactly as the gateway serves its listener's requests.
	REST http.Handler
	// Logger receives the handler's logs; nil discards them.
	Logger *slog.Logger
	// MaxResultBytes bounds the REST answer of one call (default DefaultMaxResultBytes); a
	// larger one is a tool error.
	MaxResultBytes int
	// Version is the server version the MCP handshake announces.
	Version string
}

// Handler is the MCP endpoint. It is safe for concurrent use.
type Handler struct {
	opts   Options
	log    *slog.Logger
	server *mcp.Server
	http   *mcp.StreamableHTTPHandler

	mu     sync.Mutex
	synced *routetable.Table
	tools  map[string]*tool
}

// tool is one offered tool: its contract message and its resolved input schema.
type tool struct {
	def    *gatewayv1.MCPTool
	schema *jsonschema.Resolved
}

// New returns the MCP endpoint of opts.
func New(opts Options) *Handler {
	if opts.MaxResultBytes <= 0 {
		opts.MaxResultBytes = DefaultMaxResultBytes
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "mcp")
	h := &Handler{opts: opts, log: log, tools: map[string]*tool{}}
	h.server = mcp.NewServer(&mcp.Implementation{Name: implementation, Version: opts.Version}, &mcp.ServerOptions{
		Instructions: instructionText,
		// Tools come and go with the routing table; announce the capability from the start.
		Capabilities: &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{ListChanged: true}},
	})
	h.http = mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return h.server },
		&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
	return h
}

// ServeHTTP serves the MCP streamable HTTP transport.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.sync()
	r = r.Clone(r.Context())
	r.Header.Del(peerAddrHeader)
	r.Header.Del(peerHostHeader)
	r.Header.Del(peerTLSHeader)
	r.Header.Set(peerAddrHeader, r.RemoteAddr)
	r.Header.Set(peerHostHeader, r.Host)
	if r.TLS != nil {
		r.Header.Set(peerTLSHeader, "1")
	}
	h.http.ServeHTTP(w, r)
}

// sync brings the server's tools in line with the table in effect.
func (h *Handler) sync() {
	table := h.opts.Table()
	h.mu.Lock()
	defer h.mu.Unlock()
	if table == h.synced {
		return
	}
	var previous *routetable.Table
	previous, h.synced = h.synced, table
	want := map[string]*gatewayv1.MCPTool{}
	if table != nil {
		for _, def := range table.Tools() {
			want[def.GetName()] = def
		}
		h.logOmitted(previous, table)
	}
	var gone []string
	for name, t := range h.tools {
		if def, ok := want[name]; !ok || !proto.Equal(def, t.def) {
			gone = append(gone, name)
			delete(h.tools, name)
		}
	}
	if len(gone) > 0 {
		h.server.RemoveTools(gone...)
	}
	for name, def := range want {
		if _, ok := h.tools[name]; ok {
			continue
		}
		t, err := newTool(def)
		if err != nil {
			h.log.Warn("MCP tool not offered", "tool", name, "error", err)
			continue
		}
		h.tools[name] = t
		h.server.AddTool(t.mcp(), h.call(t))
	}
}

// logOmitted logs each route whose tool the new table does not offer, once.
func (h *Handler) logOmitted(previous, table *routetable.Table) {
	seen := map[routetable.OmittedTool]bool{}
	if previous != nil {
		for _, o := range previous.OmittedTools() {
			seen[o] = true
		}
	}
	for _, o := range table.OmittedTools() {
		if !seen[o] {
			h.log.Warn("MCP tool not offered", "route", o.Route, "error", o.Reason)
		}
	}
}

// newTool resolves def's input schema (Validate checked that it is an object schema).
func newTool(def *gatewayv1.MCPTool) (*tool, error) {
	var schema jsonschema.Schema
	if err := json.Unmarshal([]byte(def.GetInputSchema()), &schema); err != nil {
		return nil, fmt.Errorf("input schema: %w", err)
	}
	resolved, err := schema.Resolve(nil)
	if err != nil {
		return nil, fmt.Errorf("input schema: %w", err)
	}
	return &tool{def: def, schema: resolved}, nil
}

// mcp is the tool as the SDK lists it.
func (t *tool) mcp() *mcp.Tool {
	return &mcp.Tool{Name: t.def.GetName(), Description: t.def.GetDescription(),
		InputSchema: json.RawMessage(t.def.GetInputSchema())}
}

// call is the SDK handler of t: validate, run the REST request, return its answer.
func (h *Handler) call(t *tool) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args, err := arguments(req.Params.Arguments, t.schema)
		if err != nil {
			return toolError(fmt.Sprintf("invalid arguments for tool %s: %v", t.def.GetName(), err)), nil
		}
		rest, err := restRequest(ctx, t.def, args, req.Extra)
		if err != nil {
			return toolError(fmt.Sprintf("invalid arguments for tool %s: %v", t.def.GetName(), err)), nil
		}
		rec := newRecorder(h.opts.MaxResultBytes)
		h.opts.REST.ServeHTTP(rec, rest)
		return rec.result(t.def.GetName()), nil
	}
}

// toolError is a call's failure as the model sees it (isError with the message).
func toolError(msg string) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: msg}}}
}
