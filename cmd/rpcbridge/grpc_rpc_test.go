package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	protoidl "github.com/rpcbridge/rpcbridge/idl/proto"
	consulpeer "github.com/rpcbridge/rpcbridge/internal/testpeers/consul"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dynamicgrpc"
)

// shelfProto uses every form of google.api.http binding: a path variable, a variable with a
// pattern, body "*", body "field", response_body, additional_bindings, a custom verb, patch,
// delete, query parameters and a server stream.
const shelfProto = `syntax = "proto3";
package shelf.v1;
import "google/api/annotations.proto";
import "google/protobuf/empty.proto";

message Shelf { string name = 1; string theme = 2; int64 id = 3; }
message Book { string name = 1; string title = 2; int64 pages = 3; repeated string tags = 4; }
message GetShelfRequest { string name = 1; }
message ListBooksRequest { int64 shelf = 1; int32 page_size = 2; repeated string tags = 3; }
message ListBooksResponse { repeated Book books = 1; string next_page_token = 2; }
message CreateBookRequest { int64 shelf = 1; Book book = 2; }
message UpdateBookRequest { Book book = 1; }
message DeleteBookRequest { int64 shelf = 1; int64 book = 2; }
message PublishRequest { string name = 1; bool notify = 2; }
message FailRequest { int32 code = 1; string message = 2; }

service Shelves {
  rpc GetShelf(GetShelfRequest) returns (Shelf) {
    option (google.api.http) = {get: "/v1/{name=shelves/*}"};
  }
  rpc CreateShelf(Shelf) returns (Shelf) {
    option (google.api.http) = {
      post: "/v1/shelves" body: "*"
      additional_bindings {put: "/v1/shelves/{id}" body: "*"}
    };
  }
  rpc ListBooks(ListBooksRequest) returns (ListBooksResponse) {
    option (google.api.http) = {
      get: "/v1/shelves/{shelf}/books"
      additional_bindings {get: "/v1/shelves/{shelf}/titles" response_body: "books"}
    };
  }
  rpc CreateBook(CreateBookRequest) returns (Book) {
    option (google.api.http) = {post: "/v1/shelves/{shelf}/books" body: "book"};
  }
  rpc UpdateBook(UpdateBookRequest) returns (Book) {
    option (google.api.http) = {patch: "/v1/{book.name=shelves/*/books/*}" body: "book"};
  }
  rpc DeleteBook(DeleteBookRequest) returns (google.protobuf.Empty) {
    option (google.api.http) = {delete: "/v1/shelves/{shelf}/books/{book}"};
  }
  rpc PublishBook(PublishRequest) returns (Book) {
    option (google.api.http) = {post: "/v1/{name=shelves/*/books/*}:publish" body: "*"};
  }
  rpc StreamBooks(ListBooksRequest) returns (stream Book) {
    option (google.api.http) = {get: "/v1/shelves/{shelf}/books:stream"};
  }
  rpc Fail(FailRequest) returns (Shelf) {
    option (google.api.http) = {get: "/v1/fail/{code}"};
  }
}
`

const shelfService = "shelf.v1.Shelves"

// startShelfServer compiles shelfProto and serves it with a real grpc-go server on a free
// loopback port until the test ends. The server answers over dynamic messages: every answer is
// built from the request, so that a test sees what the transcoder sent.
func startShelfServer(t *testing.T) (host string, port string) {
	t.Helper()
	fds, err := protoidl.Compile(context.Background(), map[string][]byte{"shelf/v1/shelf.proto": []byte(shelfProto)})
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ = net.SplitHostPort(dynamicgrpc.Serve(t, fds, shelfService, handleShelfCall))
	return host, port
}

// handleShelfCall answers one call of shelf.v1.Shelves.
func handleShelfCall(c *dynamicgrpc.Call) error {
	name, field, reply := string(c.Method.Name()), c.Field, c.SendJSON
	switch name {
	case "GetShelf":
		return reply(map[string]any{"name": field("name").String(), "theme": "theme of " + field("name").String()})
	case "CreateShelf":
		return c.SendRaw(c.Raw)
	case "ListBooks", "StreamBooks":
		var books []map[string]any
		tags := field("tags").List()
		for i := range int(field("page_size").Int()) {
			var tagList []string
			for j := range tags.Len() {
				tagList = append(tagList, tags.Get(j).String())
			}
			books = append(books, map[string]any{"name": fmt.Sprintf("shelves/%d/books/%d", field("shelf").Int(), i), "tags": tagList})
		}
		if name == "ListBooks" {
			return reply(map[string]any{"books": books, "nextPageToken": "next"})
		}
		for _, b := range books {
			if err := reply(b); err != nil {
				return err
			}
		}
		return nil
	case "CreateBook", "UpdateBook":
		book := proto.Clone(field("book").Message().Interface()).(*dynamicpb.Message)
		if name == "CreateBook" {
			book.Set(book.Descriptor().Fields().ByName("name"), protoreflect.ValueOfString(fmt.Sprintf("shelves/%d/books/new", field("shelf").Int())))
		}
		return c.SendMessage(book)
	case "DeleteBook":
		if field("shelf").Int() != 7 || field("book").Int() != 9 {
			return status.Errorf(codes.NotFound, "no book %d on shelf %d", field("book").Int(), field("shelf").Int())
		}
		return reply(map[string]any{})
	case "PublishBook":
		return reply(map[string]any{"name": field("name").String(), "title": fmt.Sprintf("published notify=%v", field("notify").Bool())})
	case "Fail":
		return status.Error(codes.Code(field("code").Int()), field("message").String())
	}
	return status.Errorf(codes.Unimplemented, "method %s has no behaviour", name)
}

// registerInConsul registers a gRPC service the way Consul users do: protocol and the gRPC
// service name in Meta.
func registerInConsul(t *testing.T, agent, host, port string) {
	t.Helper()
	reg := fmt.Sprintf(`{"Name": "shelves", "ID": "shelves-1", "Address": %q, "Port": %s,
		"Meta": {"protocol": "grpc", "grpc-service": %q}}`, host, port, shelfService)
	req, err := http.NewRequest(http.MethodPut, "http://"+agent+"/v1/agent/service/register", strings.NewReader(reg))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("consul register: %s", resp.Status)
	}
}

// shelfCall is one HTTP request through the gateway and what its answer must be.
type shelfCall struct {
	name, method, path, body string
	status                   int
	// want is JSON the answer must contain: every member of its objects with an equal value
	// (the gateway also emits fields at their defaults), arrays element by element.
	want string
}

// TestGRPCFromConsulThroughServe: a real grpc-go server registered in a real Consul agent, its
// proto (every google.api.http form) uploaded with `rpcbridge idl push`; the embedded gateway
// transcodes a REST call of each binding form.
func TestGRPCFromConsulThroughServe(t *testing.T) {
	agent := consulpeer.Start(t)
	host, port := startShelfServer(t)
	registerInConsul(t, agent.Addr(), host, port)
	srv := startServe(t, fmt.Sprintf(`registries:
  - name: consul
    type: consul
    consul: {address: %q}
`, agent.Addr()))

	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "shelf", "v1"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "shelf", "v1"), "shelf.proto", shelfProto)
	if code, out, stderr := runCLI(t, context.Background(), "idl", "push", "shelves", dir, "--kind", "proto", "--admin", "http://"+srv.admin); code != exitOK {
		t.Fatalf("idl push: exit %d %s %s", code, out, stderr)
	}

	calls := []shelfCall{
		{"path variable with a pattern", "GET", "/v1/shelves/s1", "", 200, `{"name":"shelves/s1","theme":"theme of shelves/s1"}`},
		{"body *", "POST", "/v1/shelves", `{"name":"n","theme":"t","id":"5"}`, 200, `{"name":"n","theme":"t","id":"5"}`},
		{"additional binding, path variable merged with body *", "PUT", "/v1/shelves/42", `{"theme":"t"}`, 200, `{"theme":"t","id":"42"}`},
		{"query parameters to fields", "GET", "/v1/shelves/3/books?pageSize=2&tags=a&tags=b", "", 200,
			`{"books":[{"name":"shelves/3/books/0","tags":["a","b"]},{"name":"shelves/3/books/1","tags":["a","b"]}],"nextPageToken":"next"}`},
		{"response_body", "GET", "/v1/shelves/3/titles?page_size=1", "", 200, `[{"name":"shelves/3/books/0"}]`},
		{"body field", "POST", "/v1/shelves/8/books", `{"title":"T","pages":"12"}`, 200, `{"name":"shelves/8/books/new","title":"T","pages":"12"}`},
		{"patch with a nested path variable", "PATCH", "/v1/shelves/2/books/4", `{"title":"U"}`, 200, `{"name":"shelves/2/books/4","title":"U"}`},
		{"delete", "DELETE", "/v1/shelves/7/books/9", "", 200, `{}`},
		{"custom verb", "POST", "/v1/shelves/1/books/2:publish", `{"notify":true}`, 200, `{"name":"shelves/1/books/2","title":"published notify=true"}`},
		{"server stream as a JSON array", "GET", "/v1/shelves/5/books:stream?page_size=2", "", 200, `[{"name":"shelves/5/books/0"},{"name":"shelves/5/books/1"}]`},
	}
	// The route appears once the catalog (Consul) and the IDL (push) have both been applied.
	waitFor(t, "the first transcoded call", func() error { return checkShelfCall(srv.gateway, calls[0]) })
	for _, c := range calls {
		if err := checkShelfCall(srv.gateway, c); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}

	// gRPC errors become their HTTP status with a google.rpc.Status body.
	for _, c := range []struct {
		path   string
		status int
		code   int
	}{
		{"/v1/fail/5?message=gone", http.StatusNotFound, 5},
		{"/v1/fail/7?message=gone", http.StatusForbidden, 7},
		{"/v1/fail/14?message=gone", http.StatusServiceUnavailable, 14},
	} {
		code, body, err := get("http://" + srv.gateway + c.path)
		var st struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		if err == nil {
			err = json.Unmarshal([]byte(body), &st)
		}
		if err != nil || code != c.status || st.Code != c.code || st.Message != "gone" {
			t.Errorf("GET %s = %d %s (%v); want %d with google.rpc.Status{code: %d, message: gone}", c.path, code, body, err, c.status, c.code)
		}
	}
}

// checkShelfCall makes the call and compares the answer's status and JSON.
func checkShelfCall(gateway string, c shelfCall) error {
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, "http://"+gateway+c.path, body)
	if err != nil {
		return err
	}
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != c.status {
		return fmt.Errorf("%s %s = %d %s; want %d", c.method, c.path, resp.StatusCode, got, c.status)
	}
	var gotV, wantV any
	if err := json.Unmarshal(got, &gotV); err != nil {
		return fmt.Errorf("%s %s: answer is not JSON: %w: %s", c.method, c.path, err, got)
	}
	if err := json.Unmarshal([]byte(c.want), &wantV); err != nil {
		return err
	}
	if !containsJSON(gotV, wantV) {
		return fmt.Errorf("%s %s = %s; want it to contain %s", c.method, c.path, got, c.want)
	}
	return nil
}

// containsJSON reports whether got holds every member of want's objects with an equal value;
// arrays must have the same length and contain element by element.
func containsJSON(got, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok || !containsJSON(gv, wv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !containsJSON(g[i], w[i]) {
				return false
			}
		}
		return true
	default:
		return got == want
	}
}
