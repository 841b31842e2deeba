package admin

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/rpcbridge/rpcbridge/openapi"
)

// The OpenAPI endpoints: GET /openapi.json is the document of every route, and
// /openapi.json?service=ID the one of the routes that call one service; GET /api/v1/openapi
// lists the documents there are (what Swagger UI's document selector offers) and, when the admin
// address forwards to the embedded gateway, the path of that forward (gatewayPath), which a
// browser page can use as a same-origin server for the documents' operations.

// openAPIDocument is one entry of GET /api/v1/openapi.
type openAPIDocument struct {
	// Service is the service ID, "" for the document of every route.
	Service string `json:"service"`
	// URL is the document's address on the admin API.
	URL string `json:"url"`
}

func (h handler) openAPI(w http.ResponseWriter, r *http.Request) {
	g := h.opts.State().Gateway
	service := r.URL.Query().Get("service")
	if service != "" {
		part, ok := openapi.ForService(g, service)
		if !ok {
			writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no route calls service %q", service), nil)
			return
		}
		g = part
	}
	doc, err := h.opts.OpenAPI(g, service)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "openapi_failed", err.Error(), nil)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(doc)
}

func (h handler) openAPIDocuments(w http.ResponseWriter, _ *http.Request) {
	docs := []openAPIDocument{{Service: "", URL: "/openapi.json"}}
	for _, svc := range openapi.Services(h.opts.State().Gateway) {
		docs = append(docs, openAPIDocument{Service: svc, URL: "/openapi.json?service=" + url.QueryEscape(svc)})
	}
	out := map[string]any{"documents": docs}
	if h.opts.Gateway != nil {
		out["gatewayPath"] = GatewayPath
	}
	writeJSON(w, http.StatusOK, out)
}
