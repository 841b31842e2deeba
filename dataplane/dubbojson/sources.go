package dubbojson

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dataplane/formdata"
	"github.com/rpcbridge/rpcbridge/javatype"
)

// sources are the places of one request arguments come from.
type sources struct {
	req      *http.Request
	pathVars map[string]string
	body     any
	hasBody  bool
	// form holds the parts of a multipart/form-data body by form name, raw a raw body
	// (upload.go); with either, body is nil.
	form map[string][]formdata.Part
	raw  []byte
	// firstFile is the form's first file part; rawName the argument the raw body fills.
	firstFile *formdata.Part
	rawName   string
}

// errMissing is an argument absent from the request.
var errMissing = errors.New("missing")

func (r *Route) sources(req *http.Request) (*sources, error) {
	s := &sources{req: req}
	if r.template != nil {
		vars, ok := r.template.bind(req.URL.EscapedPath())
		if !ok {
			return nil, &RequestError{Status: http.StatusNotFound, Message: fmt.Sprintf("path %s does not match the route's template", req.URL.Path)}
		}
		s.pathVars = vars
	}
	for _, p := range r.dubbo.Params {
		if p.From == ir.FromBody || p.From == ir.FromWholeBody {
			if done, err := r.readUpload(req, s); done || err != nil {
				return s, err
			}
			body, err := readBody(req, r.payloadLimit)
			if err != nil {
				return nil, err
			}
			s.body, s.hasBody = body, body != nil
			break
		}
	}
	return s, nil
}

// value returns the JSON value of argument p: decoded JSON for body sources, strings (a list
// of them for arrays and collections) for query parameters, headers and path variables, which
// must be UTF-8 (checkString).
func (s *sources) value(p ir.DubboParam, t *javatype.Type) (any, error) {
	multi := t.Family() == javatype.Array || t.Family() == javatype.Collection
	strings := func(values []string) (any, error) {
		if len(values) == 0 {
			return nil, errMissing
		}
		if !multi {
			return values[0], checkString(values[0])
		}
		out := make([]any, len(values))
		for i, v := range values {
			if err := checkString(v); err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = v
		}
		return out, nil
	}
	switch p.From {
	case ir.FromQuery:
		return strings(s.req.URL.Query()[p.Key])
	case ir.FromHeader:
		return strings(s.req.Header.Values(p.Key))
	case ir.FromPath:
		v, ok := s.pathVars[p.Key]
		if !ok {
			return nil, errMissing
		}
		return strings([]string{v})
	case ir.FromWholeBody, ir.FromBody:
		if s.form != nil || s.raw != nil {
			return s.uploaded(p, t, strings)
		}
	}
	switch p.From {
	case ir.FromWholeBody:
		if !s.hasBody {
			return nil, errMissing
		}
		return s.body, nil
	case ir.FromBody:
		obj, ok := s.body.(map[string]any)
		if !ok {
			return nil, errMissing
		}
		v, ok := obj[p.Key]
		if !ok {
			return nil, errMissing
		}
		return v, nil
	}
	return nil, fmt.Errorf("unknown source %q", p.From)
}
