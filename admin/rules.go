package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

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

// rulesAPI serves GET, PUT and DELETE /api/v1/rules. Writes are compare-and-set: the ETag of
// GET is the stored revision; a PUT or DELETE with If-Match of another revision (or a PUT with
// If-None-Match: * while rules exist) answers 412 and changes nothing; one without a
// precondition writes over the revision it read and answers 409 when another writer came in
// between. A store that cannot be reached answers 503.
type rulesAPI struct{ opts RulesOptions }

// registerRules adds the rules endpoints to mux.
func registerRules(mux *http.ServeMux, opts RulesOptions) {
	api := rulesAPI{opts: opts}
	mux.HandleFunc("GET /api/v1/rules", api.get)
	mux.HandleFunc("PUT /api/v1/rules", api.put)
	mux.HandleFunc("DELETE /api/v1/rules", api.delete)
}

func etag(rev int64) string { return `"` + strconv.FormatInt(rev, 10) + `"` }

func (a rulesAPI) get(w http.ResponseWriter, r *http.Request) {
	e, err := a.opts.Store.Get(r.Context(), a.opts.Key)
	if err != nil {
		a.fail(w, err)
		return
	}
	w.Header().Set("ETag", etag(e.Revision))
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(e.Value)
}

// precondition returns the revision a write must find: from If-Match, 0 for If-None-Match: *,
// else the current one (read now). ok false means it answered already.
func (a rulesAPI) precondition(w http.ResponseWriter, r *http.Request) (rev int64, explicit, ok bool) {
	if m := strings.TrimSpace(r.Header.Get("If-Match")); m != "" {
		n, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(m, "W/"), `"`), 10, 64)
		if err != nil || n <= 0 {
			writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("If-Match %q is not an ETag of GET /api/v1/rules", m), nil)
			return 0, false, false
		}
		return n, true, true
	}
	if strings.TrimSpace(r.Header.Get("If-None-Match")) == "*" {
		return 0, true, true
	}
	e, err := a.opts.Store.Get(r.Context(), a.opts.Key)
	switch {
	case errors.Is(err, kvstore.ErrNotFound):
		return 0, false, true
	case err != nil:
		a.fail(w, err)
		return 0, false, false
	}
	return e.Revision, false, true
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
	rev, explicit, ok := a.precondition(w, r)
	if !ok {
		return
	}
	next, err := a.opts.Store.Put(r.Context(), a.opts.Key, body, rev)
	if err != nil {
		a.failWrite(w, err, explicit)
		return
	}
	w.Header().Set("ETag", etag(next))
	writeJSON(w, http.StatusOK, map[string]any{"key": a.opts.Key, "revision": next})
}

func (a rulesAPI) delete(w http.ResponseWriter, r *http.Request) {
	rev, explicit, ok := a.precondition(w, r)
	if !ok {
		return
	}
	if rev == 0 {
		writeError(w, http.StatusNotFound, "not_found", "no rules are stored at "+a.opts.Key, nil)
		return
	}
	if err := a.opts.Store.Delete(r.Context(), a.opts.Key, rev); err != nil {
		a.failWrite(w, err, explicit)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// failWrite answers a lost compare-and-set: 412 when the client named the revision, 409 when
// another writer came in between our read and our write.
func (a rulesAPI) failWrite(w http.ResponseWriter, err error, explicit bool) {
	if errors.Is(err, kvstore.ErrConflict) {
		if explicit {
			writeError(w, http.StatusPreconditionFailed, "precondition_failed",
				"the rules are not at the revision of If-Match / If-None-Match: "+err.Error()+"; GET them again", nil)
			return
		}
		writeError(w, http.StatusConflict, "conflict", "the rules were changed meanwhile: "+err.Error()+"; try again", nil)
		return
	}
	a.fail(w, err)
}

func (a rulesAPI) fail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, kvstore.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no rules are stored at "+a.opts.Key, nil)
	case errors.Is(err, kvstore.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "store_unavailable", err.Error(), nil)
	case errors.Is(err, kvstore.ErrInvalid):
		writeError(w, http.StatusBadRequest, "bad_request", err.Error(), nil)
	default:
		writeError(w, http.StatusInternalServerError, "internal", err.Error(), nil)
	}
}
