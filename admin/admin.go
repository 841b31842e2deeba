// Package admin is rpcbridge's admin HTTP API: health and readiness, metrics, the read-only view
// of what the pipeline computed (catalog, routes, diagnostics, OpenAPI), and the IDL store
// (upload, list, download, delete). It holds no state of its own; the server hands it functions
// that read the current values.
package admin

import (
	"encoding/json"
	"net/http"

	"github.com/rpcbridge/rpcbridge/bridge"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/idl/store"
	"github.com/rpcbridge/rpcbridge/idl/upload"
)

// State is what the pipeline computed last.
type State struct {
	Catalog     bridge.Catalog
	Gateway     ir.Gateway
	Diagnostics []diag.Diagnostic
}

// Options are the API's sources of truth.
type Options struct {
	// State returns the latest pipeline state.
	State func() State
	// Ready reports readiness and why not.
	Ready func() (bool, string)
	// Metrics serves /metrics.
	Metrics http.Handler
	// Store is the IDL store; nil disables the IDL endpoints.
	Store *store.Store
	// Limits bound IDL uploads; zero fields take upload.DefaultLimits.
	Limits upload.Limits
	// MaxConcurrentUploads bounds the IDL uploads handled at once (default
	// DefaultMaxConcurrentUploads); more are answered 429 with Retry-After.
	MaxConcurrentUploads int
	// OpenAPI renders the OpenAPI document of a gateway; nil disables /openapi.json.
	OpenAPI func(ir.Gateway) ([]byte, error)
}

// Handler returns the API.
func Handler(opts Options) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		ok, why := opts.Ready()
		code := http.StatusOK
		if !ok {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, map[string]any{"ready": ok, "reason": why})
	})
	if opts.Metrics != nil {
		mux.Handle("GET /metrics", opts.Metrics)
	}
	mux.HandleFunc("GET /api/v1/catalog", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, opts.State().Catalog)
	})
	mux.HandleFunc("GET /api/v1/routes", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, opts.State().Gateway)
	})
	mux.HandleFunc("GET /api/v1/diagnostics", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"diagnostics": opts.State().Diagnostics})
	})
	if opts.OpenAPI != nil {
		mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
			doc, err := opts.OpenAPI(opts.State().Gateway)
			if err != nil {
				writeError(w, http.StatusInternalServerError, "openapi_failed", err.Error(), nil)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(doc)
		})
	}
	if opts.Store != nil {
		api := newIDLAPI(opts.Store, opts.Limits, opts.MaxConcurrentUploads)
		mux.HandleFunc("GET /api/v1/idl", api.list)
		mux.HandleFunc("GET /api/v1/idl/{name}", api.get)
		mux.HandleFunc("PUT /api/v1/idl/{name}", api.put)
		mux.HandleFunc("DELETE /api/v1/idl/{name}", api.delete)
	}
	return mux
}

// errorBody is the JSON shape of every error answer.
type errorBody struct {
	Error struct {
		Code     int    `json:"code"`
		Status   string `json:"status"`
		Message  string `json:"message"`
		Problems any    `json:"problems,omitempty"`
	} `json:"error"`
}

// WriteError answers with the API's JSON error body ({"error":{"code","status","message"}}), for
// what answers in front of the API: its listener's timeouts.
func WriteError(w http.ResponseWriter, code int, status, message string) {
	writeError(w, code, status, message, nil)
}

func writeError(w http.ResponseWriter, code int, status, msg string, problems any) {
	var b errorBody
	b.Error.Code, b.Error.Status, b.Error.Message, b.Error.Problems = code, status, msg, problems
	writeJSON(w, code, b)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
