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
	// Limits bound IDL uploads.
	Limits upload.Limits
	// OpenAPI renders the OpenAPI document of a gateway; nil disables /openapi.json.
	OpenAPI func(ir.Gateway) ([]byte, error)
}

// Handler returns the API.
func Handler(opts Options) http.Handler {
	mux := http.NewServeMux()
	Probes(mux, opts.Ready, opts.Metrics)
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
		api := idlAPI{store: opts.Store, limits: opts.Limits}
		mux.HandleFunc("GET /api/v1/idl", api.list)
		mux.HandleFunc("GET /api/v1/idl/{name}", api.get)
		mux.HandleFunc("PUT /api/v1/idl/{name}", api.put)
		mux.HandleFunc("DELETE /api/v1/idl/{name}", api.delete)
	}
	return mux
}

// Probes registers on mux what every rpcbridge process serves on its admin address, `serve`
// (through Handler) and `rpcbridge gateway` alike: GET /healthz, GET /readyz (200 or 503 with
// ready's reason) and, when metrics is not nil, GET /metrics.
func Probes(mux *http.ServeMux, ready func() (bool, string), metrics http.Handler) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		ok, why := ready()
		code := http.StatusOK
		if !ok {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, map[string]any{"ready": ok, "reason": why})
	})
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
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
