package grpcjson_test

import (
	"errors"
	"strings"
	"testing"

	grpcjsonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_json_transcoder/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/rpcbridge/rpcbridge/dataplane/grpcjson"
)

// TestPrepareBuildsRequest checks the request message built from path variables, query
// parameters (nested, repeated, enums, well-known types, bytes) and bodies ("*", a field,
// HttpBody), against the message decoded from what Prepare produced.
func TestPrepareBuildsRequest(t *testing.T) {
	cases := []struct {
		name, method, target, body string
		contentType                string
		input, want                string // request type and its expected JSON
	}{
		{"path and query", "GET",
			"/v1/shelves/3/books?page_size=2&genre=HISTORY&tags=a&tags=b%20c&since=2020-01-02T03:04:05Z&max_read=1.5s" +
				"&in_print=true&mask=title,author.name&author.born=1970&ids=1&ids=-2&token=AQID&minRating=4.5",
			"", "", "ListBooksRequest",
			`{"shelf":"3","pageSize":2,"genre":"HISTORY","tags":["a","b c"],"since":"2020-01-02T03:04:05Z","maxRead":"1.5s",
			 "inPrint":true,"mask":"title,author.name","author":{"born":1970},"ids":["1","-2"],"token":"AQID","minRating":4.5}`},
		{"enum by number, json name, url-safe bytes", "GET", "/v1/shelves/3/books?genre=1&pageSize=7&token=-_8", "", "", "ListBooksRequest",
			`{"shelf":"3","genre":"FICTION","pageSize":7,"token":"-_8="}`},
		{"nested path variable", "GET", "/v1/authors/Jane%20Doe/books?author.born=1900", "", "", "ListBooksRequest",
			`{"author":{"name":"Jane Doe","born":1900}}`},
		{"body field plus path and query", "POST", "/v1/shelves/5/books?request_id=r1",
			`{"title":"T","pages":"12","published":"2021-01-01T00:00:00Z","readTime":"3600s","rating":5,
			  "extra":{"k":[1,"x",null]},"note":{"@type":"type.googleapis.com/bookstore.v1.Author","name":"A"},
			  "labels":{"a":"b"},"genre":"HISTORY","isbn":"18446744073709551615","mask":"a.b,c"}`, "", "CreateBookRequest",
			`{"shelf":"5","requestId":"r1","book":{"title":"T","pages":"12","published":"2021-01-01T00:00:00Z","readTime":"3600s",
			  "rating":5,"extra":{"k":[1,"x",null]},"note":{"@type":"type.googleapis.com/bookstore.v1.Author","name":"A"},
			  "labels":{"a":"b"},"genre":"HISTORY","isbn":"18446744073709551615","mask":"a.b,c"}}`},
		{"body field merged with a nested path variable", "PATCH", "/v1/shelves/1/books/2?update_mask=title",
			`{"title":"x"}`, "", "UpdateBookRequest",
			`{"book":{"name":"shelves/1/books/2","title":"x"},"updateMask":"title"}`},
		{"body star", "POST", "/v1/shelves", `{"name":"s","theme":"t","id":"9"}`, "", "Shelf",
			`{"name":"s","theme":"t","id":"9"}`},
		{"body star with path variable", "PUT", "/v1/shelves/4", `{"theme":"t"}`, "", "Shelf", `{"id":"4","theme":"t"}`},
		{"body star and verb", "POST", "/v1/shelves/1/books/2:publish", `{"notify":true}`, "", "PublishRequest",
			`{"name":"shelves/1/books/2","notify":true}`},
		{"empty body", "POST", "/v1/shelves", "", "", "Shelf", `{}`},
		{"double star variable", "GET", "/v1/files/a/b/c.txt?version=2", "", "", "FileRequest", `{"path":"a/b/c.txt","version":"2"}`},
		{"custom method", "PURGE", "/v1/shelves/12/cache", "", "", "PurgeRequest", `{"shelf":"12"}`},
	}
	tr := newTranscoder(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := request(tc.method, tc.target, tc.body)
			call, err := tr.Prepare(req)
			if err != nil {
				t.Fatalf("Prepare: %v", err)
			}
			if len(call.Requests) != 1 {
				t.Fatalf("%d request messages, want 1", len(call.Requests))
			}
			checkMessage(t, tc.input, call.Requests[0], tc.want)
		})
	}
}

// TestPrepareHTTPBody checks that a google.api.HttpBody request takes the raw body and type.
func TestPrepareHTTPBody(t *testing.T) {
	tr := newTranscoder(t)
	req := request("POST", "/v1/covers", "raw \x00 bytes")
	req.Header.Set("Content-Type", "image/png")
	call, err := tr.Prepare(req)
	if err != nil {
		t.Fatal(err)
	}
	checkHTTPBody(t, call.Requests[0], "image/png", "raw \x00 bytes")
}

// TestPrepareMetadata checks that headers become metadata, minus the ones the gRPC request
// replaces and grpc- ones; the forwarding headers go as the connection manager left them
// (hop-by-hop headers are the connection manager's, package hcm, and never reach Prepare).
func TestPrepareMetadata(t *testing.T) {
	tr := newTranscoder(t)
	req := request("GET", "/v1/shelves/1", "")
	req.Header.Set("X-Trace", "t-1")
	req.Header.Set("Authorization", "Bearer x")
	req.Header.Set("Grpc-Timeout", "1S")
	req.Header.Set("Te", "trailers")
	req.Header.Set("Trace-Bin", "AAEC")
	req.Header.Set("X-Forwarded-For", "203.0.113.1,192.0.2.1")
	req.Header.Set("X-Request-Id", "id-1")
	call, err := tr.Prepare(req)
	if err != nil {
		t.Fatal(err)
	}
	md := call.Metadata
	for key, want := range map[string]string{"x-trace": "t-1", "authorization": "Bearer x", "trace-bin": "\x00\x01\x02",
		"x-forwarded-for": "203.0.113.1,192.0.2.1", "x-request-id": "id-1"} {
		if got := md.Get(key); len(got) != 1 || got[0] != want {
			t.Errorf("metadata %s = %q, want %q", key, got, want)
		}
	}
	for _, key := range []string{"grpc-timeout", "te", "content-type", "host", "x-forwarded-proto"} {
		if got := md.Get(key); len(got) > 0 {
			t.Errorf("metadata %s = %q, want it dropped", key, got)
		}
	}
}

// TestPrepareRejects covers malformed requests (400 naming the field), the size limit and
// Envoy's pass-through and rejection rules for unknown methods and query parameters.
func TestPrepareRejects(t *testing.T) {
	cases := []struct {
		name, method, target, body string
		opts                       []func(*grpcjsonv3.GrpcJsonTranscoder)
		status                     int // 0 = ErrNotTranscoded
		mention                    string
	}{
		{"malformed JSON", "POST", "/v1/shelves", `{"id":`, nil, 400, "body"},
		{"wrong JSON type", "POST", "/v1/shelves", `{"id":"x"}`, nil, 400, "id"},
		{"unknown body field", "POST", "/v1/shelves", `{"nope":1}`, nil, 400, "nope"},
		{"bad body field value", "POST", "/v1/shelves/1/books", `{"pages":true}`, nil, 400, "pages"},
		{"bad integer", "GET", "/v1/shelves/1/books?page_size=abc", "", nil, 400, "page_size"},
		{"bad path integer", "GET", "/v1/shelves/x/books", "", nil, 400, "shelf"},
		{"unknown enum", "GET", "/v1/shelves/1/books?genre=WAR", "", nil, 400, "genre"},
		{"bad timestamp", "GET", "/v1/shelves/1/books?since=yesterday", "", nil, 400, "since"},
		{"message from text", "GET", "/v1/shelves/1/books?author=x", "", nil, 400, "author"},
		{"bad escape", "GET", "/v1/shelves/1/books?tags=%zz", "", nil, 400, "tags"},
		{"invalid UTF-8 in a string", "GET", "/v1/shelves/1/books?tags=a%FFb", "", nil, 400, "tags"},
		{"body too large", "POST", "/v1/shelves", `{"name":"long"}`,
			[]func(*grpcjsonv3.GrpcJsonTranscoder){func(c *grpcjsonv3.GrpcJsonTranscoder) { c.MaxRequestBodySize = wrapperspb.UInt32(4) }},
			413, "4 bytes"},
		{"unknown query parameter passes through", "GET", "/v1/shelves/1/books?foo=bar", "", nil, 0, ""},
		{"unknown query parameter rejected", "GET", "/v1/shelves/1/books?foo=bar", "",
			[]func(*grpcjsonv3.GrpcJsonTranscoder){func(c *grpcjsonv3.GrpcJsonTranscoder) {
				c.RequestValidationOptions = &grpcjsonv3.GrpcJsonTranscoder_RequestValidationOptions{RejectUnknownQueryParameters: true}
			}}, 400, "foo"},
		{"unknown method passes through", "GET", "/v2/unknown", "", nil, 0, ""},
		{"unknown method rejected", "GET", "/v2/unknown", "",
			[]func(*grpcjsonv3.GrpcJsonTranscoder){func(c *grpcjsonv3.GrpcJsonTranscoder) {
				c.RequestValidationOptions = &grpcjsonv3.GrpcJsonTranscoder_RequestValidationOptions{RejectUnknownMethod: true}
			}}, 404, "/v2/unknown"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTranscoder(t, tc.opts...)
			_, err := tr.Prepare(request(tc.method, tc.target, tc.body))
			if tc.status == 0 {
				if !errors.Is(err, grpcjson.ErrNotTranscoded) {
					t.Fatalf("got %v, want ErrNotTranscoded", err)
				}
				return
			}
			requestError(t, err, tc.status, tc.mention)
		})
	}
}

// TestPrepareQueryOptions covers ignored_query_parameters, ignore_unknown_query_parameters,
// query_param_unescape_plus, case_insensitive_enum_parsing and gRPC pass-through.
func TestPrepareQueryOptions(t *testing.T) {
	target := "/v1/shelves/1/books?tags=a+b&foo=1&genre=history"
	if _, err := newTranscoder(t).Prepare(request("GET", target, "")); !errors.Is(err, grpcjson.ErrNotTranscoded) {
		t.Errorf("unknown foo: got %v, want ErrNotTranscoded", err)
	}
	ignoreFoo := func(c *grpcjsonv3.GrpcJsonTranscoder) { c.IgnoredQueryParameters = []string{"foo"} }
	foldEnums := func(c *grpcjsonv3.GrpcJsonTranscoder) { c.CaseInsensitiveEnumParsing = true }
	if _, err := newTranscoder(t, ignoreFoo).Prepare(request("GET", target, "")); err == nil || !strings.Contains(err.Error(), "genre") {
		t.Errorf("lower-case enum without case_insensitive_enum_parsing: got %v, want an error about genre", err)
	}
	call, err := newTranscoder(t, ignoreFoo, foldEnums).Prepare(request("GET", target, ""))
	if err != nil {
		t.Fatal(err)
	}
	checkMessage(t, "ListBooksRequest", call.Requests[0], `{"shelf":"1","tags":["a+b"],"genre":"HISTORY"}`)

	plus := func(c *grpcjsonv3.GrpcJsonTranscoder) { c.QueryParamUnescapePlus = true }
	ignoreAll := func(c *grpcjsonv3.GrpcJsonTranscoder) { c.IgnoreUnknownQueryParameters = true }
	call, err = newTranscoder(t, ignoreAll, foldEnums, plus).Prepare(request("GET", target+"&tags=%2B", ""))
	if err != nil {
		t.Fatal(err)
	}
	checkMessage(t, "ListBooksRequest", call.Requests[0], `{"shelf":"1","tags":["a b","+"],"genre":"HISTORY"}`)

	grpcReq := request("POST", "/v1/shelves", "")
	grpcReq.Header.Set("Content-Type", "application/grpc")
	if _, err := newTranscoder(t).Prepare(grpcReq); !errors.Is(err, grpcjson.ErrNotTranscoded) {
		t.Errorf("gRPC request: got %v, want ErrNotTranscoded", err)
	}
}
