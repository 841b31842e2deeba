package admin

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"

	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/idl/java/source"
	"github.com/rpcbridge/rpcbridge/idl/proto"
	"github.com/rpcbridge/rpcbridge/idl/store"
	"github.com/rpcbridge/rpcbridge/idl/upload"
)

// idlAPI serves /api/v1/idl (the history endpoints are in idlversions.go): uploads are validated
// before they replace anything, so a bad upload is rejected with its problems and the previous
// version keeps serving.
type idlAPI struct {
	store  *store.Store
	limits upload.Limits
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
	if err := a.store.Delete(name); err != nil {
		a.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// put stores an upload: ?kind= names its form (default: from the file names, store.KindOf); the
// body is a zip or jar (Content-Type application/zip or application/java-archive), a multipart
// form of files (each part's file name is its path), or one raw file named by ?filename=.
func (a idlAPI) put(w http.ResponseWriter, r *http.Request) {
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
		return a.unpackMultipart(multipart.NewReader(body, params["boundary"]))
	default:
		filename := r.URL.Query().Get("filename")
		if filename == "" {
			return nil, &upload.FormatError{Err: errors.New("a single-file upload needs ?filename=")}
		}
		return upload.Unpack(body, upload.File(filename), a.limits)
	}
}

// unpackMultipart reads every file part, with the same path rules and limits as a zip; a
// part's file name is its path ("greet/v1/greeter.proto").
func (a idlAPI) unpackMultipart(mr *multipart.Reader) (map[string][]byte, error) {
	files := map[string][]byte{}
	var total int64
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, &upload.FormatError{Err: err}
		}
		// Part.FileName keeps only the base name; the path is what the upload is about.
		_, disposition, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
		if disposition["filename"] == "" {
			continue
		}
		path, err := upload.CleanPath(disposition["filename"])
		if err != nil {
			return nil, err
		}
		if len(files) >= a.limits.MaxFiles {
			return nil, &upload.LimitError{Limit: "files", Max: int64(a.limits.MaxFiles), Entry: path}
		}
		data, err := io.ReadAll(io.LimitReader(part, a.limits.MaxTotalBytes-total+1))
		if err != nil {
			return nil, err
		}
		total += int64(len(data))
		if total > a.limits.MaxTotalBytes {
			return nil, &upload.LimitError{Limit: "total bytes", Max: a.limits.MaxTotalBytes, Entry: path}
		}
		files[path] = data
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
	)
	switch {
	case errors.As(err, &limit), errors.As(err, &maxBytes):
		writeError(w, http.StatusRequestEntityTooLarge, "upload_too_large", err.Error(), nil)
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
	default:
		writeError(w, http.StatusInternalServerError, "internal", err.Error(), nil)
	}
}
