// Package admin is rpcbridge's admin HTTP API: health and readiness, metrics and the live figures
// drawn from them, the read-only view of what the pipeline computed (catalog, routes,
// diagnostics, OpenAPI, whole or per service), the IDL store (upload, list, versions, diff,
// rollback, delete), the route rules and API key sets kept in the store, a same-origin forward
// to the embedded gateway (tryit.go), and the web console (package console) at /, which uses
// nothing but this API. It holds no state of its own; the server hands it functions that read
// the current values.
package admin

import (
	"crypto/tls"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/rpcbridge/rpcbridge/admin/console"
	"github.com/rpcbridge/rpcbridge/admin/livestats"
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
	// OpenAPI renders the OpenAPI document of a gateway, or of the part of it that concerns
	// one service (service is then its ID, else ""); nil disables the OpenAPI endpoints.
	OpenAPI func(g ir.Gateway, service string) ([]byte, error)
	// Stats gives the live figures of /api/v1/stats; nil disables the endpoint.
	Stats *livestats.Sampler
	// Gateway returns the embedded gateway's listen address ("" while it does not listen);
	// nil disables the forward at GatewayPath.
	Gateway func() string
	// GatewayTLS, when the embedded gateway serves TLS (gateway.tls), is the client
	// configuration the forward connects to it with; nil connects in plaintext.
	GatewayTLS *tls.Config
	// Rules turns on /api/v1/rules (rules.go); nil leaves it off.
	Rules *RulesOptions
	// APIKeys turns on /api/v1/apikeys (apikeys.go); nil leaves it off.
	APIKeys *APIKeysOptions
	// StoreStatus reports the store's state at GET /api/v1/store; nil leaves it off.
	StoreStatus func() store.Status
	// Logger receives the API's events; nil discards them.
	Logger *slog.Logger
}

// handler holds the options the endpoints read.
type handler struct{ opts Options }

// Handler returns the API.
func Handler(opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	console.Register(mux)
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
	h := handler{opts: opts}
	if opts.OpenAPI != nil {
		mux.HandleFunc("GET /openapi.json", h.openAPI)
		mux.HandleFunc("GET /api/v1/openapi", h.openAPIDocuments)
	}
	if opts.Stats != nil {
		mux.HandleFunc("GET /api/v1/stats", func(w http.ResponseWriter, _ *http.Request) {
			s, err := opts.Stats.Summary()
			if err != nil {
				writeError(w, http.StatusInternalServerError, "internal", err.Error(), nil)
				return
			}
			writeJSON(w, http.StatusOK, s)
		})
	}
	if opts.Gateway != nil {
		mux.Handle(GatewayPath, gatewayProxy(opts.Gateway, opts.GatewayTLS, opts.Logger))
	}
	if opts.Store != nil {
		api := newIDLAPI(opts.Store, opts.Limits, opts.MaxConcurrentUploads)
		mux.HandleFunc("GET /api/v1/idl", api.list)
		mux.HandleFunc("GET /api/v1/idl/{name}", api.get)
		mux.HandleFunc("PUT /api/v1/idl/{name}", api.put)
		mux.HandleFunc("DELETE /api/v1/idl/{name}", api.delete)
		mux.HandleFunc("GET /api/v1/idl/{name}/versions", api.versions)
		mux.HandleFunc("GET /api/v1/idl/{name}/versions/{version}", api.version)
		mux.HandleFunc("GET /api/v1/idl/{name}/diff", api.diff)
		mux.HandleFunc("POST /api/v1/idl/{name}/rollback", api.rollback)
	}
	if opts.Rules != nil {
		registerRules(mux, *opts.Rules)
	}
	if opts.APIKeys != nil {
		registerAPIKeys(mux, *opts.APIKeys)
	}
	if opts.StoreStatus != nil {
		mux.HandleFunc("GET /api/v1/store", func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusOK, opts.StoreStatus())
		})
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
