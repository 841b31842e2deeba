package admin

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/rpcbridge/rpcbridge/kvstore"
	"github.com/rpcbridge/rpcbridge/transcoding"
)

// MaxAPIKeysBytes bounds a key file sent to PUT /api/v1/apikeys/{name}.
const MaxAPIKeysBytes = 1 << 20

// APIKeysOptions turn on /api/v1/apikeys: the API key sets that policies read with
// keys: {store: NAME}, held hashed in the store.
type APIKeysOptions struct {
	// Store is the store the sets live in.
	Store kvstore.Store
	// Prefix is their keys' prefix (config.APIKeysPrefix); a set is at Prefix+name.
	Prefix string
}

// apiKeysAPI serves the key sets: GET /api/v1/apikeys lists them, GET /api/v1/apikeys/{name}
// shows one's clients and key counts (never a key or a digest), PUT stores a key file with every
// plaintext key hashed first (the store never holds a key in the clear), DELETE removes one.
// Writes are compare-and-set exactly as /api/v1/rules's (casEntry: ETag, If-Match,
// If-None-Match: *, 412, 409, 503).
type apiKeysAPI struct{ opts APIKeysOptions }

// registerAPIKeys adds the key set endpoints to mux.
func registerAPIKeys(mux *http.ServeMux, opts APIKeysOptions) {
	api := apiKeysAPI{opts: opts}
	mux.HandleFunc("GET /api/v1/apikeys", api.list)
	mux.HandleFunc("GET /api/v1/apikeys/{name}", api.get)
	mux.HandleFunc("PUT /api/v1/apikeys/{name}", api.put)
	mux.HandleFunc("DELETE /api/v1/apikeys/{name}", api.delete)
}

// apiKeySet is what the API shows of a set.
type apiKeySet struct {
	Name     string `json:"name"`
	Key      string `json:"key"`
	Revision int64  `json:"revision"`
	// Clients are the set's clients with their key counts; Keys is the total.
	Clients []transcoding.APIKeyClient `json:"clients,omitempty"`
	Keys    int                        `json:"keys"`
	// Problem says why a stored set is unusable (a hand edit in the store): its lines, never
	// its digests.
	Problem string `json:"problem,omitempty"`
}

// describeSet describes a stored set.
func describeSet(name string, e kvstore.Entry) apiKeySet {
	s := apiKeySet{Name: name, Key: e.Key, Revision: e.Revision}
	clients, err := transcoding.SummarizeStoredAPIKeys(string(e.Value))
	if err != nil {
		s.Problem = err.Error()
		return s
	}
	s.Clients = clients
	for _, c := range clients {
		s.Keys += c.Keys
	}
	return s
}

// entry is the store key of the set the request names, and the words of its answers; ok false
// means it answered already (a bad name: 400).
func (a apiKeysAPI) entry(w http.ResponseWriter, r *http.Request) (casEntry, string, bool) {
	name := r.PathValue("name")
	if err := transcoding.ValidAPIKeySetName(name); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error(), nil)
		return casEntry{}, "", false
	}
	key := a.opts.Prefix + name
	return casEntry{store: a.opts.Store, key: key, etagOf: "GET /api/v1/apikeys/" + name,
		absent:  fmt.Sprintf("no key set %q is stored at %s", name, key),
		notAt:   fmt.Sprintf("key set %q is not at the revision of If-Match / If-None-Match", name),
		changed: fmt.Sprintf("key set %q was changed meanwhile", name), again: "GET it again"}, name, true
}

func (a apiKeysAPI) list(w http.ResponseWriter, r *http.Request) {
	snap, err := a.opts.Store.List(r.Context(), a.opts.Prefix)
	if err != nil {
		casEntry{}.fail(w, err)
		return
	}
	sets := []apiKeySet{}
	for _, e := range snap.Entries {
		name := strings.TrimPrefix(e.Key, a.opts.Prefix)
		if transcoding.ValidAPIKeySetName(name) != nil {
			continue // not a set of ours (a key below a set name, a foreign key)
		}
		sets = append(sets, describeSet(name, e))
	}
	writeJSON(w, http.StatusOK, map[string]any{"sets": sets, "stale": snap.Stale})
}

func (a apiKeysAPI) get(w http.ResponseWriter, r *http.Request) {
	c, name, ok := a.entry(w, r)
	if !ok {
		return
	}
	e, err := a.opts.Store.Get(r.Context(), c.key)
	if err != nil {
		c.fail(w, err)
		return
	}
	w.Header().Set("ETag", etag(e.Revision))
	writeJSON(w, http.StatusOK, describeSet(name, e))
}

func (a apiKeysAPI) put(w http.ResponseWriter, r *http.Request) {
	c, name, ok := a.entry(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxAPIKeysBytes))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("a key file is at most %d bytes", MaxAPIKeysBytes), nil)
		return
	}
	hashed, err := transcoding.HashAPIKeys(string(body))
	if err != nil {
		// The problems name lines, never keys (parseAPIKeys).
		var problems []string
		for _, p := range unjoin(err) {
			problems = append(problems, p.Error())
		}
		writeError(w, http.StatusUnprocessableEntity, "invalid_apikeys", "the key file is not valid: "+strings.Join(problems, "; "), nil)
		return
	}
	next, ok := c.put(w, r, []byte(hashed))
	if !ok {
		return
	}
	s := describeSet(name, kvstore.Entry{Key: c.key, Value: []byte(hashed), Revision: next})
	writeJSON(w, http.StatusOK, s)
}

func (a apiKeysAPI) delete(w http.ResponseWriter, r *http.Request) {
	if c, _, ok := a.entry(w, r); ok {
		c.delete(w, r)
	}
}

// unjoin lists the errors of an errors.Join.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
