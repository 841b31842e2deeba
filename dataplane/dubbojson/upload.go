package dubbojson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dataplane/formdata"
	"github.com/rpcbridge/rpcbridge/javatype"
)

// Uploads. A route that takes a file (the contract's upload_limit, Metadata.UploadLimit)
// accepts, besides a JSON body (byte[] as base64):
//
//   - a multipart/form-data body, read part by part as it arrives within the upload limit:
//     each body argument (from body, key K) takes the part named K, a byte[] argument its
//     bytes, a scalar argument its text (converted as a query parameter is), any other
//     argument its text as JSON (an enum its constant's name); the whole-body argument takes the first file part;
//   - a raw body of any other content type (formdata.KindOf) into its one byte[] body
//     argument, when that is its only body argument.
//
// Higress's http_dubbo_transcoder reads JSON bodies only; the embedded gateway is the one
// that runs these (docs/protocols.md, "Files").

// rawBytes is a byte[] argument taken as it is from an upload, not from base64 text.
type rawBytes []byte

// rawParam is the index of the one byte[] argument a raw body fills: the route's only body
// argument, when it is byte[]; -1 when there is none.
func rawParam(params []ir.DubboParam, types []*javatype.Type) int {
	found := -1
	for i, p := range params {
		if p.From != ir.FromBody && p.From != ir.FromWholeBody {
			continue
		}
		if found >= 0 || types[i].Family() != javatype.Bytes {
			return -1
		}
		found = i
	}
	return found
}

// readUpload reads the body of a file route when it is multipart/form-data or raw into s and
// reports whether it did; a JSON body, or any body of a route without files, is left to
// readBody.
func (r *Route) readUpload(req *http.Request, s *sources) (bool, error) {
	if r.uploadLimit <= 0 || req.Body == nil || req.Body == http.NoBody {
		return false, nil
	}
	contentType := req.Header.Get("Content-Type")
	kind := formdata.KindOf(contentType)
	if kind == formdata.JSON {
		return false, nil
	}
	tooLarge := &RequestError{Status: http.StatusRequestEntityTooLarge,
		Message: fmt.Sprintf("request body is larger than %d bytes, the route's upload limit", r.uploadLimit)}
	if req.ContentLength > r.uploadLimit {
		return true, tooLarge
	}
	body := formdata.Limit(req.Body, r.uploadLimit)
	readErr := func(err error) error {
		switch {
		case errors.Is(err, formdata.ErrTooLarge):
			return tooLarge
		case errors.Is(err, formdata.ErrMalformed):
			return &RequestError{Status: http.StatusBadRequest, Message: err.Error()}
		}
		return &RequestError{Status: http.StatusBadRequest, Message: fmt.Sprintf("reading the body: %v", err)}
	}
	if kind == formdata.Multipart {
		parts, err := formdata.Read(body, contentType)
		if err != nil {
			return true, readErr(err)
		}
		s.form = make(map[string][]formdata.Part, len(parts))
		for _, p := range parts {
			s.form[p.Name] = append(s.form[p.Name], p)
			if p.Filename != "" && s.firstFile == nil {
				s.firstFile = &p
			}
		}
		return true, nil
	}
	if r.rawParam < 0 {
		return true, &RequestError{Status: http.StatusUnsupportedMediaType, Message: fmt.Sprintf(
			"a %s body goes into a byte[] argument, and %s takes more than one argument from the body: send JSON or multipart/form-data",
			contentType, r.Method())}
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		return true, readErr(err)
	}
	s.raw, s.rawName = append([]byte{}, raw...), r.dubbo.Params[r.rawParam].Name
	return true, nil
}

// uploaded is the value of body argument p of type t from a multipart form or a raw body;
// text turns form values into the argument's text form (as for query parameters).
func (s *sources) uploaded(p ir.DubboParam, t *javatype.Type, text func([]string) (any, error)) (any, error) {
	if s.raw != nil {
		if p.Name != s.rawName {
			return nil, errMissing
		}
		return rawBytes(s.raw), nil
	}
	parts := s.form[p.Key]
	if p.From == ir.FromWholeBody {
		if s.firstFile == nil {
			return nil, errMissing
		}
		parts = []formdata.Part{*s.firstFile}
	}
	if len(parts) == 0 {
		return nil, errMissing
	}
	if t.Family() == javatype.Bytes {
		return rawBytes(parts[0].Data), nil
	}
	values := make([]string, len(parts))
	for i, part := range parts {
		values[i] = string(part.Data)
	}
	if f := t.Family(); f.Scalar() || f == javatype.Array || f == javatype.Collection {
		return text(values)
	}
	// A DTO, map or other structured argument: the part holds its JSON.
	if err := checkText(parts[0].Data); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(parts[0].Data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return values[0], nil // an enum constant's name, or text the encoder refuses for its type
	}
	return v, nil
}
