package mcptools

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// recorder is the http.ResponseWriter a call's REST request is served into: it keeps the
// status, the headers and up to limit bytes of the body.
type recorder struct {
	header   http.Header
	status   int
	body     bytes.Buffer
	limit    int
	overflow bool
}

func newRecorder(limit int) *recorder { return &recorder{header: http.Header{}, limit: limit} }

// Header implements http.ResponseWriter.
func (r *recorder) Header() http.Header { return r.header }

// WriteHeader implements http.ResponseWriter; the first status counts.
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

// Write implements http.ResponseWriter, dropping what goes beyond the limit.
func (r *recorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	if room := r.limit - r.body.Len(); len(p) > room {
		r.overflow = true
		p = p[:max(room, 0)]
	}
	r.body.Write(p)
	return len(p), nil
}

// Flush implements http.Flusher: the answer is complete only at the end.
func (r *recorder) Flush() {}

// result is the recorded answer as the call's result.
func (r *recorder) result(name string) *mcp.CallToolResult {
	status := r.status
	if status == 0 {
		status = http.StatusOK
	}
	if r.overflow {
		return toolError(fmt.Sprintf("tool %s: the answer is larger than %d bytes", name, r.limit))
	}
	text := strings.TrimRight(r.body.String(), "\r\n")
	if status < 200 || status > 299 {
		return toolError(fmt.Sprintf("tool %s: HTTP %d %s: %s", name, status, http.StatusText(status), text))
	}
	res := &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}
	if trimmed := bytes.TrimSpace(r.body.Bytes()); len(trimmed) > 0 && trimmed[0] == '{' && json.Valid(trimmed) {
		res.StructuredContent = json.RawMessage(trimmed)
	}
	return res
}
