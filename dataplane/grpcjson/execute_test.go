package grpcjson_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	grpcjsonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_json_transcoder/v3"
	"google.golang.org/grpc/codes"

	"github.com/rpcbridge/rpcbridge/dataplane/grpcjson"
	"github.com/rpcbridge/rpcbridge/dataplane/internal/bookstore"
)

// startBookstore runs the bookstore gRPC server and returns a connection to it.
func startBookstore(t *testing.T) *grpcConn {
	t.Helper()
	fds, _ := descriptors()
	return &grpcConn{dial(t, bookstore.Start(t, fds))}
}

// TestExecuteUnary calls the real server and checks the rendered responses, the request the
// server received, and the metadata that came back as headers.
func TestExecuteUnary(t *testing.T) {
	conn := startBookstore(t)
	tr := newTranscoder(t)

	req := request("GET", "/v1/shelves/1", "")
	req.Header.Set("X-Trace", "t-9")
	resp, body := serve(t, tr, conn, req)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GetShelf: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	jsonEqual(t, body, `{"name":"shelves/1","theme":"theme of shelves/1"}`)
	if body != `{"name":"shelves/1","theme":"theme of shelves/1"}` {
		t.Errorf("body is not compact JSON: %q", body)
	}
	checkMessage(t, "GetShelfRequest", sentRequest(t, resp), `{"name":"shelves/1"}`)
	for key, want := range map[string]string{"X-Trace-Echo": "t-9", "X-Served-By": "bookstore", "Grpc-Status": "0"} {
		if got := resp.Header.Get(key); got != want {
			t.Errorf("header %s = %q, want %q", key, got, want)
		}
	}

	cases := []struct{ name, method, target, body, want string }{
		{"int64 as string, enums by name", "GET", "/v1/shelves/2/books?page_size=1&tags=x", "",
			`{"books":[{"name":"shelves/2/books/0","pages":"1099511627776","tags":["x"],"genre":"FICTION"}],"nextPageToken":"next"}`},
		{"response_body of a repeated field", "GET", "/v1/shelves/2/titles?page_size=2", "",
			`[{"name":"shelves/2/books/0","pages":"1099511627776","genre":"FICTION"},{"name":"shelves/2/books/1","pages":"1099511627777","genre":"FICTION"}]`},
		{"empty response", "DELETE", "/v1/shelves/1/books/2", "", `{}`},
		{"body field", "POST", "/v1/shelves/4/books", `{"title":"T"}`, `{"name":"shelves/4/books/new","title":"T"}`},
		{"well-known types round trip", "POST", "/v1/echo",
			`{"published":"2021-01-01T00:00:00Z","readTime":"3600s","rating":5,"extra":{"k":[1,"x",null],"o":{"b":true}},
			  "note":{"@type":"type.googleapis.com/bookstore.v1.Author","name":"A","born":1},"mask":"title,author.name",
			  "labels":{"a":"b","c":"d"},"isbn":"18446744073709551615","pages":"-9007199254740993"}`,
			`{"published":"2021-01-01T00:00:00Z","readTime":"3600s","rating":5,"extra":{"k":[1,"x",null],"o":{"b":true}},
			  "note":{"@type":"type.googleapis.com/bookstore.v1.Author","name":"A","born":1},"mask":"title,author.name",
			  "labels":{"a":"b","c":"d"},"isbn":"18446744073709551615","pages":"-9007199254740993"}`},
		{"custom verb", "POST", "/v1/shelves/1/books/2:publish", `{}`, `{"name":"shelves/1/books/2","title":"published"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := serve(t, tr, conn, request(tc.method, tc.target, tc.body))
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			jsonEqual(t, body, tc.want)
		})
	}
}

// TestExecutePrintOptions checks each print option against the same response.
func TestExecutePrintOptions(t *testing.T) {
	conn := startBookstore(t)
	target := "/v1/shelves/2/books?page_size=1"
	cases := []struct {
		name string
		opt  func(*grpcjsonv3.GrpcJsonTranscoder_PrintOptions)
		want string
	}{
		{"preserve_proto_field_names", func(p *grpcjsonv3.GrpcJsonTranscoder_PrintOptions) { p.PreserveProtoFieldNames = true },
			`{"books":[{"name":"shelves/2/books/0","pages":"1099511627776","genre":"FICTION"}],"next_page_token":"next"}`},
		{"always_print_enums_as_ints", func(p *grpcjsonv3.GrpcJsonTranscoder_PrintOptions) { p.AlwaysPrintEnumsAsInts = true },
			`{"books":[{"name":"shelves/2/books/0","pages":"1099511627776","genre":1}],"nextPageToken":"next"}`},
		{"always_print_primitive_fields", func(p *grpcjsonv3.GrpcJsonTranscoder_PrintOptions) { p.AlwaysPrintPrimitiveFields = true },
			`{"books":[{"name":"shelves/2/books/0","title":"","pages":"1099511627776","genre":"FICTION","tags":[],"labels":{},"isbn":"0"}],"nextPageToken":"next"}`},
		{"add_whitespace", func(p *grpcjsonv3.GrpcJsonTranscoder_PrintOptions) { p.AddWhitespace = true },
			`{"books":[{"name":"shelves/2/books/0","pages":"1099511627776","genre":"FICTION"}],"nextPageToken":"next"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTranscoder(t, func(c *grpcjsonv3.GrpcJsonTranscoder) { tc.opt(c.PrintOptions) })
			resp, body := serve(t, tr, conn, request("GET", target, ""))
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			jsonEqual(t, body, tc.want)
			if multiline := strings.Contains(body, "\n"); multiline != (tc.name == "add_whitespace") {
				t.Errorf("multi-line output = %v: %q", multiline, body)
			}
		})
	}
}

// TestExecuteStreaming checks the three framings of a server stream, an empty stream, and an
// error after the first message (reported in trailers).
func TestExecuteStreaming(t *testing.T) {
	conn := startBookstore(t)
	book := func(i int) string {
		return fmt.Sprintf(`{"name":"shelves/3/books/%d","genre":"FICTION","pages":"%d"}`, i, int64(1)<<40+int64(i))
	}
	cases := []struct {
		name   string
		opt    func(*grpcjsonv3.GrpcJsonTranscoder_PrintOptions)
		query  string
		want   string
		status string
	}{
		{"array", nil, "page_size=3", "[" + book(0) + "," + book(1) + "," + book(2) + "]", "0"},
		{"empty array", nil, "page_size=0", "[]", "0"},
		{"newline delimited", func(p *grpcjsonv3.GrpcJsonTranscoder_PrintOptions) { p.StreamNewlineDelimited = true },
			"page_size=2", book(0) + "\n" + book(1) + "\n", "0"},
		{"server-sent events", func(p *grpcjsonv3.GrpcJsonTranscoder_PrintOptions) { p.StreamSseStyleDelimited = true },
			"page_size=2", "data: " + book(0) + "\n\ndata: " + book(1) + "\n\n", "0"},
		{"error after the first message", nil, "page_size=3&genre=HISTORY",
			"[" + book(0) + "]", strconv.Itoa(int(codes.Aborted))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTranscoder(t, func(c *grpcjsonv3.GrpcJsonTranscoder) {
				if tc.opt != nil {
					tc.opt(c.PrintOptions)
				}
			})
			resp, body := serve(t, tr, conn, request("GET", "/v1/shelves/3/books:stream?"+tc.query, ""))
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if body != tc.want {
				t.Errorf("body:\n got  %q\n want %q", body, tc.want)
			}
			if got := resp.Trailer.Get("Grpc-Status"); got != tc.status {
				t.Errorf("trailer grpc-status = %q, want %q", got, tc.status)
			}
			if got := resp.Trailer.Get("X-Served-By"); got != "bookstore" {
				t.Errorf("trailer x-served-by = %q", got)
			}
		})
	}
}

// TestExecuteHTTPBody checks google.api.HttpBody responses and requests.
func TestExecuteHTTPBody(t *testing.T) {
	conn := startBookstore(t)
	tr := newTranscoder(t)
	resp, body := serve(t, tr, conn, request("GET", "/v1/shelves/7/cover", ""))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || body != "cover of shelves/7" {
		t.Errorf("GetCover: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	req := request("POST", "/v1/covers", "<svg/>")
	req.Header.Set("Content-Type", "image/svg+xml")
	resp, body = serve(t, tr, conn, req)
	if resp.StatusCode != 200 {
		t.Fatalf("UploadCover: %d %s", resp.StatusCode, body)
	}
	jsonEqual(t, body, `{"name":"image/svg+xml","theme":"<svg/>"}`)
}

// TestExecuteStatusMapping makes the server fail with every gRPC code and checks the HTTP
// status and the google.rpc.Status body, with and without details and convert_grpc_status.
func TestExecuteStatusMapping(t *testing.T) {
	conn := startBookstore(t)
	tr := newTranscoder(t)
	want := map[codes.Code]int{
		codes.Canceled: 499, codes.Unknown: 500, codes.InvalidArgument: 400, codes.DeadlineExceeded: 504,
		codes.NotFound: 404, codes.AlreadyExists: 409, codes.PermissionDenied: 403, codes.ResourceExhausted: 429,
		codes.FailedPrecondition: 400, codes.Aborted: 409, codes.OutOfRange: 400, codes.Unimplemented: 501,
		codes.Internal: 500, codes.Unavailable: 503, codes.DataLoss: 500, codes.Unauthenticated: 401,
	}
	for code, httpStatus := range want {
		t.Run(code.String(), func(t *testing.T) {
			if got := grpcjson.HTTPStatus(code); got != httpStatus {
				t.Errorf("HTTPStatus(%s) = %d, want %d", code, got, httpStatus)
			}
			resp, body := serve(t, tr, conn, request("GET", fmt.Sprintf("/v1/fail/%d?message=it%%20failed", code), ""))
			if resp.StatusCode != httpStatus || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("got %d %q, want %d JSON", resp.StatusCode, resp.Header.Get("Content-Type"), httpStatus)
			}
			jsonEqual(t, body, fmt.Sprintf(`{"code":%d,"message":"it failed"}`, code))
		})
	}

	resp, body := serve(t, tr, conn, request("GET", "/v1/fail/5?message=gone&with_details=true", ""))
	if resp.StatusCode != 404 {
		t.Fatalf("with details: %d %s", resp.StatusCode, body)
	}
	jsonEqual(t, body, `{"code":5,"message":"gone","details":[{"@type":"type.googleapis.com/google.rpc.RequestInfo","requestId":"r-1","servingData":"bookstore"}]}`)

	plain := newTranscoder(t, func(c *grpcjsonv3.GrpcJsonTranscoder) { c.ConvertGrpcStatus = false })
	resp, body = serve(t, plain, conn, request("GET", "/v1/fail/7?message=no%20way", ""))
	if resp.StatusCode != 403 || body != "" || resp.Header.Get("Grpc-Status") != "7" || resp.Header.Get("Grpc-Message") != "no way" {
		t.Errorf("without convert_grpc_status: %d %q grpc-status %q grpc-message %q", resp.StatusCode, body,
			resp.Header.Get("Grpc-Status"), resp.Header.Get("Grpc-Message"))
	}
}

// TestExecuteUnavailable checks the answer when the server cannot be reached.
func TestExecuteUnavailable(t *testing.T) {
	conn := &grpcConn{dial(t, "127.0.0.1:1")}
	resp, body := serve(t, newTranscoder(t), conn, request("GET", "/v1/shelves/1", ""))
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, `"code":14`) {
		t.Errorf("got %d %s, want 503 with code 14", resp.StatusCode, body)
	}
}
