package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/rpcbridge/rpcbridge/kvstore"
)

// casEntry is one store key that an endpoint writes with compare-and-set (the route rules, an
// API key set), and the words its answers use. The ETag of a GET is the stored revision; a
// write with If-Match of another revision (or a PUT with If-None-Match: * over an existing
// entry) answers 412 and changes nothing; one without a precondition writes over the revision
// it read and answers 409 when another writer came in between. A store that cannot be reached
// answers 503 with Retry-After.
type casEntry struct {
	store kvstore.Store
	key   string
	// etagOf is the request whose ETag If-Match takes ("GET /api/v1/rules").
	etagOf string
	// absent, notAt and changed are the messages of 404, 412 and 409 ("no rules are stored
	// at rules/current", "the rules are not at the revision of If-Match / If-None-Match",
	// "the rules were changed meanwhile"); again says how to recover from a 412 ("GET them
	// again").
	absent, notAt, changed, again string
}

func etag(rev int64) string { return `"` + strconv.FormatInt(rev, 10) + `"` }

// precondition returns the revision a write must find: from If-Match, 0 for If-None-Match: *,
// else the current one (read now). ok false means it answered already.
func (c casEntry) precondition(w http.ResponseWriter, r *http.Request) (rev int64, explicit, ok bool) {
	if m := strings.TrimSpace(r.Header.Get("If-Match")); m != "" {
		n, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(m, "W/"), `"`), 10, 64)
		if err != nil || n <= 0 {
			writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("If-Match %q is not an ETag of %s", m, c.etagOf), nil)
			return 0, false, false
		}
		return n, true, true
	}
	if strings.TrimSpace(r.Header.Get("If-None-Match")) == "*" {
		return 0, true, true
	}
	e, err := c.store.Get(r.Context(), c.key)
	switch {
	case errors.Is(err, kvstore.ErrNotFound):
		return 0, false, true
	case errors.Is(err, kvstore.ErrCorrupt):
		// A damaged entry is repaired by a write at its revision (kvstore.CorruptError).
		var ce *kvstore.CorruptError
		if errors.As(err, &ce) && ce.Revision > 0 {
			return ce.Revision, false, true
		}
		c.fail(w, err)
		return 0, false, false
	case err != nil:
		c.fail(w, err)
		return 0, false, false
	}
	return e.Revision, false, true
}

// put writes value at the precondition's revision and returns the new one; ok false means it
// answered already.
func (c casEntry) put(w http.ResponseWriter, r *http.Request, value []byte) (rev int64, ok bool) {
	rev, explicit, ok := c.precondition(w, r)
	if !ok {
		return 0, false
	}
	next, err := c.store.Put(r.Context(), c.key, value, rev)
	if err != nil {
		c.failWrite(w, err, explicit)
		return 0, false
	}
	w.Header().Set("ETag", etag(next))
	return next, true
}

// delete removes the entry at the precondition's revision, answering 204.
func (c casEntry) delete(w http.ResponseWriter, r *http.Request) {
	rev, explicit, ok := c.precondition(w, r)
	if !ok {
		return
	}
	if rev == 0 {
		writeError(w, http.StatusNotFound, "not_found", c.absent, nil)
		return
	}
	if err := c.store.Delete(r.Context(), c.key, rev); err != nil {
		c.failWrite(w, err, explicit)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// failWrite answers a lost compare-and-set: 412 when the client named the revision, 409 when
// another writer came in between our read and our write.
func (c casEntry) failWrite(w http.ResponseWriter, err error, explicit bool) {
	if errors.Is(err, kvstore.ErrConflict) {
		if explicit {
			writeError(w, http.StatusPreconditionFailed, "precondition_failed", c.notAt+": "+err.Error()+"; "+c.again, nil)
			return
		}
		writeError(w, http.StatusConflict, "conflict", c.changed+": "+err.Error()+"; try again", nil)
		return
	}
	c.fail(w, err)
}

// fail answers a store error by its kind (docs/store.md's table).
func (c casEntry) fail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, kvstore.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", c.absent, nil)
	case errors.Is(err, kvstore.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "store_unavailable", err.Error(), nil)
	case errors.Is(err, kvstore.ErrInvalid):
		writeError(w, http.StatusBadRequest, "bad_request", err.Error(), nil)
	default:
		writeError(w, http.StatusInternalServerError, "internal", err.Error(), nil)
	}
}
