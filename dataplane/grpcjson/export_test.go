package grpcjson

import (
	"net/http"

	grpcjsonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_json_transcoder/v3"
)

// NewWithoutFastPath builds a transcoder that never takes a protojsonwire or bound fast path:
// the dynamicpb reference of the differential tests.
func NewWithoutFastPath(cfg *grpcjsonv3.GrpcJsonTranscoder) (*Transcoder, error) {
	t, err := New(cfg)
	if err != nil {
		return nil, err
	}
	t.codecs.enabled = false
	for _, bs := range t.bindings {
		for _, b := range bs {
			b.reqCodec, b.respCodec, b.bodyCodec, b.respCheck = nil, nil, nil, nil
		}
	}
	return t, nil
}

// TookBoundFastPath reports whether the bound fast path takes r (a request that matches a
// binding with path variables or query parameters), so that a differential test can show that
// it compared the fast path and not the fallback with itself.
func (t *Transcoder) TookBoundFastPath(r *http.Request) bool {
	b, vars, ok := t.Match(r.Method, r.URL.EscapedPath())
	if !ok {
		return false
	}
	params, err := t.bindQuery(b, r.URL.RawQuery)
	if err != nil {
		return false
	}
	body, err := t.readBody(r)
	if err != nil {
		return false
	}
	_, took := t.fastBound(b, vars, params, body, r.Header.Get("Content-Type"))
	return took
}

// BindingsFor is the binding a request matches (nil if none), for tests of rendering.
func (t *Transcoder) BindingsFor(method, path string) *Binding {
	b, _, _ := t.Match(method, path)
	return b
}

// TookResponseFastPath reports whether the fast path renders raw for b.
func TookResponseFastPath(b *Binding, raw []byte) bool {
	_, ok := fastRender(nil, b, raw)
	return ok
}
