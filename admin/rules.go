package admin

import (
	"fmt"
	"io"
	"net/http"

	"github.com/rpcbridge/rpcbridge/kvstore"
)

// MaxRulesBytes bounds a rules document sent to PUT /api/v1/rules.
const MaxRulesBytes = 4 << 20

// RulesOptions turn on /api/v1/rules: the route rules kept in the store (store.rules).
type RulesOptions struct {
	// Store is the store the rules live in.
	Store kvstore.Store
	// Key is their key (config.RulesKey).
	Key string
	// Validate checks a document strictly and returns the problems with their lines
	// (config.ParseRules); nothing invalid is stored.
	Validate func(data []byte) error
}

// rulesAPI serves GET, PUT and DELETE /api/v1/rules, with compare-and-set writes (casEntry).
type rulesAPI struct{ opts RulesOptions }

// registerRules adds the rules endpoints to mux.
func registerRules(mux *http.ServeMux, opts RulesOptions) {
	api := rulesAPI{opts: opts}
	mux.HandleFunc("GET /api/v1/rules", api.get)
	mux.HandleFunc("PUT /api/v1/rules", api.put)
	mux.HandleFunc("DELETE /api/v1/rules", api.delete)
}

// entry is the rules' store key and the words of its answers.
func (a rulesAPI) entry() casEntry {
	return casEntry{store: a.opts.Store, key: a.opts.Key, etagOf: "GET /api/v1/rules",
		absent:  "no rules are stored at " + a.opts.Key,
		notAt:   "the rules are not at the revision of If-Match / If-None-Match",
		changed: "the rules were changed meanwhile", again: "GET them again"}
}

func (a rulesAPI) get(w http.ResponseWriter, r *http.Request) {
	e, err := a.opts.Store.Get(r.Context(), a.opts.Key)
	if err != nil {
		a.entry().fail(w, err)
		return
	}
	w.Header().Set("ETag", etag(e.Revision))
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(e.Value)
}

func (a rulesAPI) put(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRulesBytes))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("a rules document is at most %d bytes: %v", MaxRulesBytes, err), nil)
		return
	}
	if err := a.opts.Validate(body); err != nil {
		writeError(w, http.StatusUnprocessableEntity, "invalid_rules", err.Error(), nil)
		return
	}
	next, ok := a.entry().put(w, r, body)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"key": a.opts.Key, "revision": next})
}

func (a rulesAPI) delete(w http.ResponseWriter, r *http.Request) { a.entry().delete(w, r) }
