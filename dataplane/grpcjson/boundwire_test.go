package grpcjson_test

import (
	"context"
	_ "embed"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	grpcjsonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_json_transcoder/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/rpcbridge/rpcbridge/dataplane/grpcjson"
	protoidl "github.com/rpcbridge/rpcbridge/idl/proto"
)

//go:embed testdata/kinds.proto
var kindsSource []byte

// kinds is the kinds.proto transcoder pair: with the fast paths, and the dynamicpb reference.
type kinds struct {
	fast, slow *grpcjson.Transcoder
	types      *dynamicpb.Types
}

var kindsOnce = sync.OnceValues(func() (*kinds, error) {
	fds, err := protoidl.Compile(context.Background(), map[string][]byte{"kinds/v1/kinds.proto": kindsSource})
	if err != nil {
		return nil, err
	}
	files, err := protodesc.NewFiles(fds)
	if err != nil {
		return nil, err
	}
	bin, err := proto.Marshal(fds)
	if err != nil {
		return nil, err
	}
	cfg := &grpcjsonv3.GrpcJsonTranscoder{
		DescriptorSet: &grpcjsonv3.GrpcJsonTranscoder_ProtoDescriptorBin{ProtoDescriptorBin: bin},
		Services:      []string{"kinds.v1.Kindly"},
		PrintOptions:  &grpcjsonv3.GrpcJsonTranscoder_PrintOptions{},
		RequestValidationOptions: &grpcjsonv3.GrpcJsonTranscoder_RequestValidationOptions{
			RejectUnknownQueryParameters: true,
		},
	}
	k := &kinds{types: dynamicpb.NewTypes(files)}
	if k.fast, err = grpcjson.New(cfg); err != nil {
		return nil, err
	}
	if k.slow, err = grpcjson.NewWithoutFastPath(cfg); err != nil {
		return nil, err
	}
	return k, nil
})

func kindsTranscoders(tb testing.TB) *kinds {
	tb.Helper()
	k, err := kindsOnce()
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func kindsRequest(method, target, body, contentType string) *http.Request {
	req := httptest.NewRequest(method, "/", strings.NewReader(body))
	req.URL = &url.URL{Path: target, RawPath: target}
	if path, query, ok := strings.Cut(target, "?"); ok {
		req.URL = &url.URL{Path: path, RawPath: path, RawQuery: query}
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

// compare prepares the request with both transcoders and fails unless they answer alike: the
// same error, or request messages that are equal (proto.Equal after decoding).
func (k *kinds) compare(tb testing.TB, method, target, body, contentType string) {
	tb.Helper()
	fastCall, fastErr := k.fast.Prepare(kindsRequest(method, target, body, contentType))
	slowCall, slowErr := k.slow.Prepare(kindsRequest(method, target, body, contentType))
	if fastErr != nil || slowErr != nil {
		var fe, se *grpcjson.RequestError
		switch {
		case errors.As(fastErr, &fe) && errors.As(slowErr, &se):
			if *fe != *se {
				tb.Errorf("%s %s %q: fast path refuses with %v, dynamicpb path with %v", method, target, body, fe, se)
			}
		case !errors.Is(fastErr, slowErr):
			tb.Errorf("%s %s %q: fast path error %v, dynamicpb path error %v", method, target, body, fastErr, slowErr)
		}
		return
	}
	if len(fastCall.Requests) != len(slowCall.Requests) {
		tb.Fatalf("%s %s: %d request messages, dynamicpb path %d", method, target, len(fastCall.Requests), len(slowCall.Requests))
	}
	in := fastCall.Binding.Method.Input()
	for i := range fastCall.Requests {
		got, want := k.decode(tb, in, fastCall.Requests[i]), k.decode(tb, in, slowCall.Requests[i])
		if !proto.Equal(got, want) {
			tb.Errorf("%s %s %q:\n fast path %s\n dynamicpb %s", method, target, body,
				protojson.Format(got), protojson.Format(want))
		}
	}
}

func (k *kinds) decode(tb testing.TB, md protoreflect.MessageDescriptor, raw []byte) *dynamicpb.Message {
	tb.Helper()
	m := dynamicpb.NewMessage(md)
	if err := (proto.UnmarshalOptions{Resolver: k.types}).Unmarshal(raw, m); err != nil {
		tb.Fatalf("decoding %x: %v", raw, err)
	}
	return m
}

// boundCases are requests with path variables and query parameters of every field kind, alone
// and merged with bodies; fast says whether the bound fast path takes them (else they fall back
// to the dynamicpb path, which must then answer).
var boundCases = []struct {
	method, target, body, contentType string
	fast                              bool
}{
	{"GET", "/v1/kinds/n1?b=true&i32=-7&i64=-9000000000&u32=4000000000&u64=18446744073709551615&s32=-3&s64=-4" +
		"&f32=7&f64=8&sf32=-9&sf64=-10&fl=1.5&db=-2.25&str=h%C3%A9&by=AQID&color=BLUE", "", "", true},
	{"GET", "/v1/kinds/n1?b=false&i32=0&i64=0&u32=0&fl=0&db=-0&str=&by=&color=COLOR_UNSPECIFIED&color=0", "", "", true},
	{"GET", "/v1/kinds/n1?rb=true&rb=false&ri32=1&ri32=-1&rs64=-5&rs64=5&rf32=0&rsf64=-1&rfl=0.5&rdb=NaN&rdb=-Inf" +
		"&rstr=a&rstr=&rby=-_8&rcolor=RED&rcolor=-1&ru64=0", "", "", true},
	{"GET", "/v1/kinds/n1?oi32=0&ostr=&odb=0&ocolor=0", "", "", true},
	{"GET", "/v1/kinds/n1?w32=0&wstr=&wb=false&rw=1&rw=0&wdb=1e300&wby=", "", "", true},
	{"GET", "/v1/kinds/n1?w32=5&wstr=x&wb=true&wby=AA", "", "", true},
	{"GET", "/v1/kinds/n1?i32=x&i32=3", "", "", true},    // a singular field takes the last value only
	{"GET", "/v1/kinds/n1?i32=3&i32=x", "", "", false},   // an invalid last value is refused
	{"GET", "/v1/kinds/n1?ri32=3&ri32=x", "", "", false}, // any invalid element is refused
	{"GET", "/v1/kinds/n1?u32=-1", "", "", false},
	{"GET", "/v1/kinds/n1?i32=2147483648", "", "", false},
	{"GET", "/v1/kinds/n1?str=%FF", "", "", false},
	{"GET", "/v1/kinds/n1?by=!!", "", "", false},
	{"GET", "/v1/kinds/n1?color=GREEN", "", "", false},
	{"GET", "/v1/kinds/n1?m=1", "", "", false},
	{"GET", "/v1/kinds/n1?ts=2020-01-02T03:04:05Z&mask=a,b.c", "", "", true},
	{"GET", "/v1/kinds/n1?ts=1970-01-01T00:00:00Z&max_wait=0s&update_mask=&rts=2020-01-02T03:04:05.5Z&rts=1999-12-31T23:59:59Z", "", "", true},
	{"GET", "/v1/kinds/n1?max_wait=-1.5s&mask=fooBar,x.yZ", "", "", true},
	{"GET", "/v1/kinds/n1?ts=2020-01-02", "", "", false},
	{"GET", "/v1/kinds/n1?mask=a_b", "", "", false},
	{"GET", "/v1/kinds/n1?mask=a%22b", "", "", false},
	{"GET", "/v1/kinds/n1?mask=a%5Cb", "", "", false},
	{"GET", "/v1/kinds/n1?ts=%E2%80%A8", "", "", false},
	{"GET", "/v1/kinds/n1?update_mask=a&updateMask=b", "", "", false}, // the second replaces the first
	{"GET", "/v1/kinds/n1?max_wait=1.5s&maxWait=2s", "", "", false},
	{"GET", "/v1/kinds/n1?update_mask=a&update_mask=b", "", "", true}, // one parameter: the last value
	{"GET", "/v1/kinds/n1?in_print=true&inPrint=false", "", "", true},
	{"GET", "/v1/kinds/n1?page_size=3&pageSize=0", "", "", true},
	{"POST", "/v1/kinds/n1?ts=2020-01-02T03:04:05.5Z&update_mask=a", `{"ts":"2021-01-01T00:00:00Z","updateMask":"b"}`, "application/json", true},
	{"GET", "/v1/kinds/n1?nope=1", "", "", false},
	{"GET", "/v1/kinds/n1?name=q", "", "", true}, // the path variable wins over the query
	{"GET", "/v1/kinds/%2F?name=q&name=r", "", "", true},
	{"GET", "/v1/inner/s1/42?inner.r=1&inner.r=2&inner.ob=false&inner.deeper.s=d&inner.deeper.deeper.i=0", "", "", true},
	{"GET", "/v1/inner/s1/0?inner.pi=3&inner.ps=x", "", "", true},
	{"GET", "/v1/inner/s1/0?inner.i=9", "", "", true},
	{"GET", "/v1/inner/s1/x", "", "", false},
	{"GET", "/v1/choice/5?cs=x", "", "", true}, // a later oneof member replaces an earlier one
	{"GET", "/v1/choice/0?cm.s=x&cs=y", "", "", true},
	{"GET", "/v1/choice/5?cm.i=0", "", "", true},
	{"GET", "/v1/kinds/" + strings.Repeat("long", 40) + "?inner.deeper.s=" + strings.Repeat("x", 300), "", "", true},
	{"POST", "/v1/kinds/n1?i32=1&ri32=1&inner.s=q", `{"i32":2,"ri32":[2,3],"inner":{"i":4},"name":"body"}`, "application/json", true},
	{"POST", "/v1/kinds/n1?i32=1", `{"i32":0,"str":"","inner":{}}`, "application/json", true},
	{"POST", "/v1/kinds/n1?inner.pi=1", `{"inner":{"ps":"p"}}`, "application/json", true},
	{"POST", "/v1/kinds/n1?ci=1", `{"cm":{"s":"m"}}`, "application/json", true},
	{"POST", "/v1/kinds/n1?cm.s=a", `{"cm":{"i":2}}`, "application/json", true},
	{"POST", "/v1/kinds/n1?m=1", `{"m":{"a":1}}`, "application/json", false},
	{"POST", "/v1/kinds/n1", `{"m":{"a":1,"b":2},"ts":"2021-01-01T00:00:00Z"}`, "application/json", true},
	{"POST", "/v1/kinds/n1", ``, "application/json", true},
	{"POST", "/v1/kinds/n1", `  `, "application/json", true},
	{"POST", "/v1/kinds/n1", `{"i32":"x"}`, "application/json", false},
	{"POST", "/v1/kinds/n1", `{"i32":1,"i32":2}`, "application/json", false},
	{"POST", "/v1/kinds/n1", `[1]`, "application/json", false},
	{"POST", "/v1/choice/c", `{"ci":"3"}`, "application/json", true},
	{"POST", "/v1/choice/c", `{"cs":"d"}`, "application/json", true},
	{"POST", "/v1/kinds/n1/inner?inner.s=q&inner.r=1", `{"s":"b","r":["2"],"deeper":{"i":1}}`, "application/json", true},
	{"POST", "/v1/kinds/n1/inner", `{}`, "application/json", true},
	{"POST", "/v1/kinds/n1/inner", ``, "application/json", true},
	{"POST", "/v1/kinds/n1/inner", `null`, "application/json", true},
	{"POST", "/v1/deep/n1", ` null `, "application/json", true},
	{"POST", "/v1/str/c1?str=q", `null`, "application/json", true},
	{"POST", "/v1/rstr/n1?rstr=q", `null`, "application/json", true},
	{"POST", "/v1/rstr/n1?rstr=q", `[]`, "application/json", true},
	{"POST", "/v1/map/n1", `null`, "application/json", true},
	{"POST", "/v1/cm/n1?cm.s=q", `null`, "application/json", true},
	{"POST", "/v1/kinds/n1/inner", `{"s":1}`, "application/json", false},
	{"POST", "/v1/kinds/n1/inner", `{"s":"a"}x`, "application/json", false},
	{"POST", "/v1/deep/n1?inner.s=q&inner.deeper.i=5", `{"s":"deep","i":0}`, "application/json", true},
	{"POST", "/v1/deep/n1", ``, "application/json", true},
	{"POST", "/v1/inners/n1?inners.s=x", `[{"s":"a"},{"i":2}]`, "application/json", false}, // inners is repeated: not bindable
	{"POST", "/v1/inners/n1", `[{"s":"a"},{"i":2}]`, "application/json", true},
	{"POST", "/v1/inners/n1", `[]`, "application/json", true},
	{"POST", "/v1/str/c1?str=q", `"body"`, "application/json", true},
	{"POST", "/v1/str/c1", `""`, "application/json", true},
	{"POST", "/v1/str/c1", `5`, "application/json", false},
	{"POST", "/v1/bytes/n1", `"AQID"`, "application/json", true},
	{"POST", "/v1/bytes/n1", "raw \x00 bytes", "application/octet-stream", false},
	{"POST", "/v1/rstr/n1?rstr=q", `["a","b"]`, "application/json", true},
	{"POST", "/v1/wrapped/n1?w32=3", `7`, "application/json", true},
	{"POST", "/v1/wrapped/n1?w32=3", `0`, "application/json", true},
	{"POST", "/v1/cm/n1?ci=4&cm.i=1", `{"s":"x"}`, "application/json", true},
	{"POST", "/v1/map/n1", `{"a":1}`, "application/json", true},
}

// TestBoundFastPathMatchesDynamicpb: requests with path variables, query parameters and bodies
// (whole and field) give the same request message, or the same refusal, through the bound fast
// path as through the dynamicpb path with proto.Merge; and the fast path takes the cases marked
// fast (so the comparison is not of the fallback with itself).
func TestBoundFastPathMatchesDynamicpb(t *testing.T) {
	k := kindsTranscoders(t)
	for _, tc := range boundCases {
		k.compare(t, tc.method, tc.target, tc.body, tc.contentType)
		if took := k.fast.TookBoundFastPath(kindsRequest(tc.method, tc.target, tc.body, tc.contentType)); took != tc.fast {
			t.Errorf("%s %s %q: bound fast path taken %v, want %v", tc.method, tc.target, tc.body, took, tc.fast)
		}
	}
}

// TestBoundFastPathOnBookstore runs the same comparison over the bookstore's binding tests.
func TestBoundFastPathOnBookstore(t *testing.T) {
	fast := newTranscoder(t)
	slow, err := grpcjson.NewWithoutFastPath(config(t))
	if err != nil {
		t.Fatal(err)
	}
	_, files := descriptors()
	k := &kinds{fast: fast, slow: slow, types: dynamicpb.NewTypes(files)}
	for _, tc := range []struct{ method, target, body string }{
		{"GET", "/v1/shelves/3/books?page_size=2&genre=HISTORY&tags=a&tags=b%20c&since=2020-01-02T03:04:05Z&max_read=1.5s" +
			"&in_print=true&mask=title,author.name&author.born=1970&ids=1&ids=-2&token=AQID&minRating=4.5", ""},
		{"GET", "/v1/shelves/3/books?genre=1&pageSize=7&token=-_8&in_print=false", ""},
		{"GET", "/v1/authors/Jane%20Doe/books?author.born=1900", ""},
		{"GET", "/v1/shelves/3/titles?page_size=1", ""},
		{"POST", "/v1/shelves/5/books?request_id=r1", `{"title":"T","pages":"12"}`},
		{"PATCH", "/v1/shelves/1/books/2?update_mask=title", `{"title":"x"}`},
		{"PUT", "/v1/shelves/4", `{"theme":"t"}`},
		{"PUT", "/v1/shelves/4", `{"theme":"t","id":"5"}`},
		{"POST", "/v1/shelves/1/books/2:publish", `{"notify":true}`},
		{"GET", "/v1/files/a/b/c.txt?version=2", ""},
		{"PURGE", "/v1/shelves/12/cache", ""},
		{"GET", "/v1/fail/x", ""},
	} {
		contentType := ""
		if tc.body != "" {
			contentType = "application/json"
		}
		k.compare(t, tc.method, tc.target, tc.body, contentType)
	}
}

// FuzzBoundFastPath compares the bound fast path with the dynamicpb path on arbitrary query
// strings, path segments and bodies over kinds.proto's bindings.
//
//	go test ./dataplane/grpcjson -run '^$' -fuzz FuzzBoundFastPath -fuzztime 60s
func FuzzBoundFastPath(f *testing.F) {
	for _, tc := range boundCases {
		f.Add(tc.method, tc.target, tc.body)
	}
	k := kindsTranscoders(f)
	f.Fuzz(func(t *testing.T, method, target, body string) {
		if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " #\x00\r\n") || method != "GET" && method != "POST" {
			return
		}
		k.compare(t, method, target, body, "application/json")
	})
}

// responseBodyPaths are kinds.proto's bindings with a response_body: singular message fields
// (the fast path), a oneof member and a repeated field (the dynamicpb path).
var responseBodyPaths = []string{"/v1/rb/inner/x", "/v1/rb/cm/x", "/v1/rb/ts/x", "/v1/rb/w32/x", "/v1/rb/rstr/x"}

// responseSamples are serialized Kinds responses: built from JSON, and crafted on the wire (a
// field given twice, which merges; a wrong wire type; truncated and malformed bytes).
func responseSamples(tb testing.TB, k *kinds) [][]byte {
	tb.Helper()
	md := k.fast.BindingsFor("GET", "/v1/kinds/x").Method.Input()
	var out [][]byte
	for _, text := range []string{`{}`, `{"inner":{}}`, `{"inner":{"s":"a","r":["1","2"],"deeper":{"i":3},"ob":false,"pi":4}}`,
		`{"cm":{"s":"m"}}`, `{"ts":"2020-01-02T03:04:05.5Z","w32":0,"rstr":["a","b"],"inner":{"ps":"p"}}`, `{"w32":7,"str":"s"}`} {
		m := dynamicpb.NewMessage(md)
		if err := (protojson.UnmarshalOptions{Resolver: k.types}).Unmarshal([]byte(text), m); err != nil {
			tb.Fatal(err)
		}
		raw, err := proto.Marshal(m)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, raw)
	}
	inner := func(payload ...byte) []byte { return append([]byte{0xe2, 0x03, byte(len(payload))}, payload...) } // field 60
	twice := append(inner(0x0a, 0x01, 'a', 0x18, 0x01), inner(0x10, 0x05, 0x18, 0x02)...)
	out = append(out, twice,
		append(twice, 0x70, 0x01),           // and a string field 14 as a varint
		[]byte{0xe0, 0x03, 0x05},            // field 60 as a varint
		inner(0x0a, 0x02, 'a'),              // truncated inner string
		inner(0x0a, 0x01, 0xff),             // invalid UTF-8 inside
		[]byte{0x72, 0x01, 0xff},            // invalid UTF-8 in another field
		[]byte{0xe2, 0x03, 0x7f},            // length beyond the end
		append(inner(), []byte{0x80}...),    // truncated tag
		append(inner(0x22, 0x00), twice...), // nested message, then merges
	)
	return out
}

// TestResponseBodyFastPathMatchesProtojson: a response_body message field renders the same
// JSON, or fails the same way, on the fast path as through dynamicpb and protojson.
func TestResponseBodyFastPathMatchesProtojson(t *testing.T) {
	k := kindsTranscoders(t)
	samples := responseSamples(t, k)
	for _, path := range responseBodyPaths {
		for _, raw := range samples {
			k.compareResponse(t, path, raw)
		}
	}
	// The fast path takes the well-formed responses of a singular message field, and leaves
	// a oneof member and a repeated field to protojson.
	for path, want := range map[string]bool{"/v1/rb/inner/x": true, "/v1/rb/ts/x": true, "/v1/rb/w32/x": true,
		"/v1/rb/cm/x": false, "/v1/rb/rstr/x": false} {
		b := k.fast.BindingsFor("GET", path)
		for _, raw := range samples[:6] {
			if took := grpcjson.TookResponseFastPath(b, raw); took != want {
				t.Errorf("%s %x: fast path taken %v, want %v", path, raw, took, want)
			}
		}
	}
}

// compareResponse renders raw through the binding of path with both transcoders.
func (k *kinds) compareResponse(tb testing.TB, path string, raw []byte) {
	tb.Helper()
	fastB, slowB := k.fast.BindingsFor("GET", path), k.slow.BindingsFor("GET", path)
	fast, fastErr := k.fast.RenderResponse(fastB, raw)
	slow, slowErr := k.slow.RenderResponse(slowB, raw)
	if string(fast) != string(slow) || (fastErr == nil) != (slowErr == nil) ||
		fastErr != nil && fastErr.Error() != slowErr.Error() {
		tb.Errorf("%s %x:\n fast path %s (%v)\n dynamicpb %s (%v)", path, raw, fast, fastErr, slow, slowErr)
	}
}

// FuzzResponseBody compares the response_body fast path with dynamicpb and protojson on
// arbitrary response bytes.
//
//	go test ./dataplane/grpcjson -run '^$' -fuzz FuzzResponseBody -fuzztime 60s
func FuzzResponseBody(f *testing.F) {
	k := kindsTranscoders(f)
	for _, raw := range responseSamples(f, k) {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, path := range responseBodyPaths {
			k.compareResponse(t, path, raw)
		}
	})
}
