package admin

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"slices"

	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/idl/java/source"
	"github.com/rpcbridge/rpcbridge/idl/proto"
	"github.com/rpcbridge/rpcbridge/idl/store"
	"github.com/rpcbridge/rpcbridge/idl/upload"
	"github.com/rpcbridge/rpcbridge/kvstore"
)

// DefaultMaxConcurrentUploads is how many IDL uploads the admin API unpacks and validates at once
// when Options.MaxConcurrentUploads is zero. Each may hold up to upload.Limits.MaxTotalBytes
// unpacked plus what validating it takes (a large proto set compiles to several times its size).
const DefaultMaxConcurrentUploads = 2

// uploadRetryAfter is the Retry-After of a 429 for an upload beyond the concurrency limit, in
// seconds, as kube-apiserver's max-in-flight filter sends it.
const uploadRetryAfter = "1"

// idlAPI serves /api/v1/idl (the history endpoints are in idlversions.go): uploads are validated
// before they replace anything, so a bad upload is rejected with its problems and the previous
// version keeps serving.
type idlAPI struct {
	store  *store.Store
	limits upload.Limits
	// uploads holds one token per upload in progress; its capacity is the concurrency limit.
	uploads chan struct{}
}

// newIDLAPI applies the defaults of the upload limits and the concurrency limit.
func newIDLAPI(st *store.Store, limits upload.Limits, maxConcurrent int) idlAPI {
	if maxConcurrent <= 0 {
		maxConcurrent = DefaultMaxConcurrentUploads
	}
	return idlAPI{store: st, limits: limits.WithDefaults(), uploads: make(chan struct{}, maxConcurrent)}
}

func (a idlAPI) list(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"schemas": a.store.List()})
}

func (a idlAPI) get(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	for _, e := range a.store.List() {
		if e.Name == name {
			writeJSON(w, http.StatusOK, e)
			return
		}
	}
	writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no IDL named %q", name), nil)
}

func (a idlAPI) delete(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := a.store.DeleteContext(r.Context(), name); err != nil {
		a.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// put stores an upload: ?kind= names its form (default: from the file names, store.KindOf); the
// body is a zip or jar (Content-Type application/zip or application/java-archive), a multipart
// form of files (each part's file name is its path), or one raw file named by ?filename=.
//
// At most cap(a.uploads) uploads are read, unpacked and validated at once; one more is answered
// at once with 429 and Retry-After, as kube-apiserver's max-in-flight filter answers requests
// beyond --max-mutating-requests-inflight (k8s.io/apiserver/pkg/server/filters/maxinflight.go),
// rather than queued while its connection and body wait. 429 rather than Envoy's 503 overflow
// answer: the limit is the API's admission policy for this client's requests, and 429 tells
// clients and proxies to back off and retry the same request, where a 503 reads as the
// server failing.
func (a idlAPI) put(w http.ResponseWriter, r *http.Request) {
	select {
	case a.uploads <- struct{}{}:
		defer func() { <-a.uploads }()
	default:
		w.Header().Set("Retry-After", uploadRetryAfter)
		writeError(w, http.StatusTooManyRequests, "too_many_uploads",
			fmt.Sprintf("%d IDL uploads are already in progress; retry later", cap(a.uploads)), nil)
		return
	}
	name := r.PathValue("name")
	kind := store.Kind(r.URL.Query().Get("kind"))
	body := http.MaxBytesReader(w, r.Body, a.limits.MaxUploadBytes)
	files, err := a.unpack(r, body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, "upload_too_large", fmt.Sprintf("the upload exceeds %d bytes", a.limits.MaxUploadBytes), nil)
			return
		}
		a.fail(w, err)
		return
	}
	if kind == "" {
		if kind, err = store.KindOf(slices.Collect(maps.Keys(files))); err != nil {
			writeError(w, http.StatusBadRequest, "missing_kind", err.Error()+"; pass ?kind=", nil)
			return
		}
	}
	schema, err := a.store.Put(r.Context(), name, kind, files)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, storedAnswer(kind, len(files), schema, 0))
}

// storedAnswer describes a version that an upload or a rollback stored.
func storedAnswer(kind store.Kind, files int, schema idl.Schema, restoredFrom int64) map[string]any {
	out := map[string]any{
		"name": schema.Name, "kind": kind, "version": schema.Version, "files": files,
		"interfaces": len(schema.Interfaces), "protoFiles": len(schema.Descriptors.GetFile()),
	}
	if restoredFrom != 0 {
		out["restoredFrom"] = restoredFrom
	}
	return out
}

func (a idlAPI) unpack(r *http.Request, body io.Reader) (map[string][]byte, error) {
	ctype, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ctype {
	case "application/zip", "application/java-archive", "application/x-zip-compressed":
		return upload.Unpack(body, upload.Zip(), a.limits)
	case "multipart/form-data":
		return upload.Unpack(body, upload.Multipart(params["boundary"]), a.limits)
	default:
		filename := r.URL.Query().Get("filename")
		if filename == "" {
			return nil, &upload.FormatError{Err: errors.New("a single-file upload needs ?filename=")}
		}
		return upload.Unpack(body, upload.File(filename), a.limits)
	}
}

// fail maps store and upload errors to HTTP answers.
func (a idlAPI) fail(w http.ResponseWriter, err error) {
	var (
		limit    *upload.LimitError
		compile  *proto.CompileError
		javaErr  *source.Error
		invalid  *store.ValidationError
		badName  *store.InvalidNameError
		badKind  *store.UnknownKindError
		maxBytes *http.MaxBytesError
		quota    *store.QuotaError
		conflict *store.ConflictError
	)
	switch {
	case errors.As(err, &limit), errors.As(err, &maxBytes):
		writeError(w, http.StatusRequestEntityTooLarge, "upload_too_large", err.Error(), nil)
	case errors.As(err, &quota):
		// 403 as Kubernetes answers a create beyond a ResourceQuota and S3 stores (Ceph RGW)
		// answer QuotaExceeded: the request is understood but refused by a policy until room
		// is made. Not 413, which says this request is too large and is the answer to the
		// per-upload limits, and not 507, a WebDAV 5xx that clients and proxies retry.
		writeError(w, http.StatusForbidden, "quota_exceeded", err.Error(), nil)
	case errors.As(err, &compile):
		writeError(w, http.StatusUnprocessableEntity, "invalid_idl", err.Error(), compile.Problems)
	case errors.As(err, &javaErr):
		writeError(w, http.StatusUnprocessableEntity, "invalid_idl", err.Error(),
			[]proto.Problem{{File: javaErr.File, Line: javaErr.Pos.Line, Column: javaErr.Pos.Col, Message: javaErr.Msg}})
	case errors.As(err, &invalid):
		writeError(w, http.StatusUnprocessableEntity, "invalid_idl", err.Error(), nil)
	case errors.As(err, &badName), errors.As(err, &badKind), upload.IsClientError(err):
		writeError(w, http.StatusBadRequest, "bad_request", err.Error(), nil)
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", err.Error(), nil)
	case errors.Is(err, store.ErrCurrent):
		writeError(w, http.StatusConflict, "conflict", err.Error(), nil)
	case errors.As(err, &conflict), errors.Is(err, kvstore.ErrConflict):
		// Another replica kept winning the compare-and-set of the same name's pointer.
		writeError(w, http.StatusConflict, "conflict", err.Error(), nil)
	case errors.Is(err, kvstore.ErrUnavailable):
		// The shared store is down: what is served stays, writes wait for the store.
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "store_unavailable", err.Error(), nil)
	default:
		writeError(w, http.StatusInternalServerError, "internal", err.Error(), nil)
	}
}
