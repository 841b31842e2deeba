package dubbojson

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dataplane/formdata"
	"github.com/rpcbridge/rpcbridge/javatype"
)

// sources are the places of one request arguments come from.
type sources struct {
	req      *http.Request
	query    url.Values // the parsed query, once a query argument needs it
	pathVars map[string]string
	body     any
	hasBody  bool
	// json is the JSON body, tape its parse when the arguments are written from it
	// (stream.go); body is then nil until decode.
	json []byte
	tape *tape
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
			raw, err := readJSON(req, r.payloadLimit)
			if err != nil || raw == nil {
				return s, err
			}
			s.json = raw
			if tp, ok := parseTape(raw); ok && !r.decodedOnly {
				s.tape, s.hasBody = tp, tp.nodes[0].kind != 'n'
				return s, nil
			}
			return s, s.decode()
		}
	}
	return s, nil
}

// decode decodes the JSON body into body, leaving the tape.
func (s *sources) decode() error {
	s.release()
	if s.json == nil {
		return nil
	}
	body, err := decodeJSON(s.json)
	if err != nil {
		return err
	}
	s.body, s.hasBody = body, body != nil
	return nil
}

// release gives the tape back (see parseTape).
func (s *sources) release() {
	if s.tape != nil {
		s.tape.release()
		s.tape = nil
	}
}

// node returns the tape node of body argument p (ok false when p is not read from a tape);
// errMissing as value reports it.
func (s *sources) node(p ir.DubboParam) (idx int, ok bool, err error) {
	if s.tape == nil || (p.From != ir.FromWholeBody && p.From != ir.FromBody) {
		return 0, false, nil
	}
	if !s.hasBody {
		return 0, true, errMissing
	}
	if p.From == ir.FromWholeBody {
		return 0, true, nil
	}
	if s.tape.nodes[0].kind != '{' {
		return 0, true, errMissing
	}
	if idx = s.tape.member(0, p.Key); idx < 0 {
		return 0, true, errMissing
	}
	return idx, true, nil
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
		if s.query == nil {
			s.query = s.req.URL.Query() // parsed once for all query arguments
		}
		return strings(s.query[p.Key])
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
