package admin

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"

	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/idl/store"
	"github.com/rpcbridge/rpcbridge/idl/summary"
)

// The history endpoints of /api/v1/idl/{name}: the kept versions, one version with the summary
// of what it declares, the diff between two versions, and rollback.

// versionDetail is one stored version with its summary.
type versionDetail struct {
	store.Entry
	Summary summary.Summary `json:"summary"`
}

func (a idlAPI) versions(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	entries, err := a.store.Versions(name)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": name, "current": entries[0].Version, "versions": entries})
}

func (a idlAPI) version(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	v, ok := versionParam(w, "version", r.PathValue("version"))
	if !ok {
		return
	}
	entry, schema, err := a.store.Version(name, v)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, versionDetail{Entry: entry, Summary: summary.Of(schema)})
}

// diff compares ?from= with ?to= (default: the current version).
func (a idlAPI) diff(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	from, ok := versionParam(w, "from", r.URL.Query().Get("from"))
	if !ok {
		return
	}
	to := int64(0)
	if raw := r.URL.Query().Get("to"); raw != "" {
		if to, ok = versionParam(w, "to", raw); !ok {
			return
		}
	} else if cur, err := a.store.Get(name); err == nil {
		to = cur.Version
	}
	var schemas [2]idl.Schema
	for i, v := range []int64{from, to} {
		_, s, err := a.store.Version(name, v)
		if err != nil {
			a.fail(w, err)
			return
		}
		schemas[i] = s
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"name": name, "from": from, "to": to, "diff": summary.Compare(summary.Of(schemas[0]), summary.Of(schemas[1])),
	})
}

// rollbackRequest is the body of POST /api/v1/idl/{name}/rollback. The request must be JSON,
// which a cross-site form cannot send without the browser asking first (CORS preflight).
type rollbackRequest struct {
	Version int64 `json:"version"`
}

func (a idlAPI) rollback(w http.ResponseWriter, r *http.Request) {
	if ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ctype != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", `the body must be application/json: {"version": N}`, nil)
		return
	}
	var req rollbackRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || req.Version <= 0 {
		writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf(`the body must be {"version": N} with N > 0 (%v)`, err), nil)
		return
	}
	name := r.PathValue("name")
	schema, err := a.store.Rollback(r.Context(), name, req.Version)
	if err != nil {
		a.fail(w, err)
		return
	}
	entry, _, err := a.store.Version(name, schema.Version)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, storedAnswer(entry.Kind, len(entry.Files), schema, entry.RestoredFrom))
}

// versionParam parses a version number, answering 400 when it is not one.
func versionParam(w http.ResponseWriter, what, raw string) (int64, bool) {
	v, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || v <= 0 {
		writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("%s must be a version number, got %q", what, raw), nil)
		return 0, false
	}
	return v, true
}
