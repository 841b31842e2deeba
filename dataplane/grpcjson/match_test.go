package grpcjson_test

import (
	"context"
	"maps"
	"testing"

	grpcjsonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_json_transcoder/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/rpcbridge/rpcbridge/dataplane/grpcjson"
	protoidl "github.com/rpcbridge/rpcbridge/idl/proto"
)

// TestMatch covers every template form of the bookstore: literals, {var}, {var=a/*}, nested
// field paths, '**', custom verbs, custom HTTP methods and additional bindings.
func TestMatch(t *testing.T) {
	tr := newTranscoder(t)
	cases := []struct {
		method, path string
		want         string // gRPC method path; "" = no match
		vars         map[string]string
	}{
		{"GET", "/v1/shelves/1", "/bookstore.v1.Bookstore/GetShelf", map[string]string{"name": "shelves/1"}},
		{"POST", "/v1/shelves", "/bookstore.v1.Bookstore/CreateShelf", nil},
		{"PUT", "/v1/shelves/7", "/bookstore.v1.Bookstore/CreateShelf", map[string]string{"id": "7"}},
		{"GET", "/v1/shelves/3/books", "/bookstore.v1.Bookstore/ListBooks", map[string]string{"shelf": "3"}},
		{"GET", "/v1/shelves/3/titles", "/bookstore.v1.Bookstore/ListBooks", map[string]string{"shelf": "3"}},
		{"GET", "/v1/authors/Jane%20Doe/books", "/bookstore.v1.Bookstore/ListBooks", map[string]string{"author.name": "Jane Doe"}},
		{"POST", "/v1/shelves/3/books", "/bookstore.v1.Bookstore/CreateBook", map[string]string{"shelf": "3"}},
		{"PATCH", "/v1/shelves/1/books/2", "/bookstore.v1.Bookstore/UpdateBook", map[string]string{"book.name": "shelves/1/books/2"}},
		{"DELETE", "/v1/shelves/1/books/2", "/bookstore.v1.Bookstore/DeleteBook", map[string]string{"shelf": "1", "book": "2"}},
		{"POST", "/v1/shelves/1/books/2:publish", "/bookstore.v1.Bookstore/PublishBook", map[string]string{"name": "shelves/1/books/2"}},
		{"PURGE", "/v1/shelves/4/cache", "/bookstore.v1.Bookstore/PurgeShelf", map[string]string{"shelf": "4"}},
		{"GET", "/v1/shelves/3/books:stream", "/bookstore.v1.Bookstore/StreamBooks", map[string]string{"shelf": "3"}},
		{"GET", "/v1/shelves/9/cover", "/bookstore.v1.Bookstore/GetCover", map[string]string{"name": "shelves/9"}},
		{"GET", "/v1/files/a/b%2Fc/d%20e", "/bookstore.v1.Bookstore/GetFile", map[string]string{"path": "a/b%2Fc/d e"}},
		{"GET", "/v1/files", "/bookstore.v1.Bookstore/GetFile", map[string]string{"path": ""}},
		// A one-segment variable is fully decoded, a longer one keeps reserved characters.
		{"GET", "/v1/shelves/1%2F2%3A", "/bookstore.v1.Bookstore/GetShelf", map[string]string{"name": "shelves/1%2F2%3A"}},
		{"DELETE", "/v1/shelves/a%2Fb/books/c%3Ad", "/bookstore.v1.Bookstore/DeleteBook", map[string]string{"shelf": "a/b", "book": "c:d"}},
		// An unregistered verb stays part of the last segment.
		{"GET", "/v1/shelves/1:archive", "/bookstore.v1.Bookstore/GetShelf", map[string]string{"name": "shelves/1:archive"}},
		{"POST", "/v1/shelves/1/books/2:unpublish", "", nil},
		{"POST", "/v1/shelves/1", "", nil},
		{"GET", "/v1/nothing/here", "", nil},
		{"GET", "/v1/shelves/1/books/2/3", "", nil},
		{"POST", "/bookstore.v1.Bookstore/Unannotated", "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			b, vars, ok := tr.Match(tc.method, tc.path)
			if tc.want == "" {
				if ok {
					t.Fatalf("matched %s, want no match", b.FullMethod)
				}
				return
			}
			if !ok {
				t.Fatalf("no match, want %s", tc.want)
			}
			if b.FullMethod != tc.want {
				t.Errorf("matched %s (%s %s), want %s", b.FullMethod, b.HTTPMethod, b.Pattern, tc.want)
			}
			if len(vars) != 0 || len(tc.vars) != 0 {
				if !maps.Equal(vars, tc.vars) {
					t.Errorf("variables %v, want %v", vars, tc.vars)
				}
			}
		})
	}
}

// TestMatchOptions covers url_unescape_spec, match_unregistered_custom_verb and auto_mapping.
func TestMatchOptions(t *testing.T) {
	for spec, want := range map[grpcjsonv3.GrpcJsonTranscoder_UrlUnescapeSpec]string{
		grpcjsonv3.GrpcJsonTranscoder_ALL_CHARACTERS_EXCEPT_RESERVED: "%2f%23/ %23",
		grpcjsonv3.GrpcJsonTranscoder_ALL_CHARACTERS_EXCEPT_SLASH:    "%2f#/ %23",
		grpcjsonv3.GrpcJsonTranscoder_ALL_CHARACTERS:                 "/#/ %23",
	} {
		tr := newTranscoder(t, func(c *grpcjsonv3.GrpcJsonTranscoder) { c.UrlUnescapeSpec = spec })
		_, vars, ok := tr.Match("GET", "/v1/files/%2f%23/%20%2523")
		if !ok || vars["path"] != want {
			t.Errorf("%s: path = %q (matched %v), want %q", spec, vars["path"], ok, want)
		}
	}

	strict := newTranscoder(t, func(c *grpcjsonv3.GrpcJsonTranscoder) { c.MatchUnregisteredCustomVerb = true })
	if b, _, ok := strict.Match("GET", "/v1/shelves/1:archive"); ok {
		t.Errorf("with match_unregistered_custom_verb, /v1/shelves/1:archive matched %s", b.FullMethod)
	}

	auto := newTranscoder(t, func(c *grpcjsonv3.GrpcJsonTranscoder) { c.AutoMapping = true })
	b, _, ok := auto.Match("POST", "/bookstore.v1.Bookstore/Unannotated")
	if !ok || b.Body != "*" || b.Method.Name() != "Unannotated" {
		t.Errorf("auto_mapping: got %v %v, want Unannotated with body *", ok, b)
	}
	if _, _, ok := auto.Match("POST", "/bookstore.v1.Bookstore/GetShelf"); ok {
		t.Errorf("auto_mapping must not add a default binding to annotated methods")
	}
}

// TestNewRejectsBadConfig covers the configs Envoy refuses to load.
func TestNewRejectsBadConfig(t *testing.T) {
	cases := map[string]func(*grpcjsonv3.GrpcJsonTranscoder){
		"garbage descriptor": func(c *grpcjsonv3.GrpcJsonTranscoder) {
			c.DescriptorSet = &grpcjsonv3.GrpcJsonTranscoder_ProtoDescriptorBin{ProtoDescriptorBin: []byte{0xff, 0x01}}
		},
		"empty descriptor": func(c *grpcjsonv3.GrpcJsonTranscoder) {
			c.DescriptorSet = &grpcjsonv3.GrpcJsonTranscoder_ProtoDescriptorBin{}
		},
		"descriptor file": func(c *grpcjsonv3.GrpcJsonTranscoder) {
			c.DescriptorSet = &grpcjsonv3.GrpcJsonTranscoder_ProtoDescriptor{ProtoDescriptor: "/etc/proto.pb"}
		},
		"missing import": func(c *grpcjsonv3.GrpcJsonTranscoder) {
			fds, _ := descriptors()
			trimmed := &descriptorpb.FileDescriptorSet{File: fds.GetFile()[len(fds.GetFile())-1:]}
			bin, _ := proto.Marshal(trimmed)
			c.DescriptorSet = &grpcjsonv3.GrpcJsonTranscoder_ProtoDescriptorBin{ProtoDescriptorBin: bin}
		},
		"unknown service": func(c *grpcjsonv3.GrpcJsonTranscoder) { c.Services = []string{"bookstore.v1.Nope"} },
		"not a service":   func(c *grpcjsonv3.GrpcJsonTranscoder) { c.Services = []string{"bookstore.v1.Book"} },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := grpcjson.New(config(t, mutate)); err == nil {
				t.Fatal("New accepted the config")
			}
		})
	}
}

// TestNewRejectsBadBindings covers bindings that cannot work: a malformed template, and a
// variable, body or response_body naming no field.
func TestNewRejectsBadBindings(t *testing.T) {
	cases := map[string]string{
		"double star not last":      `get: "/v1/{name=**}/x"`,
		"unknown variable":          `get: "/v1/{nope}"`,
		"unclosed variable":         `get: "/v1/{name"`,
		"unknown body":              `post: "/v1/x" body: "nope"`,
		"unknown response":          `get: "/v1/x" response_body: "nope"`,
		"variable through a scalar": `get: "/v1/{name.first}"`,
	}
	for name, rule := range cases {
		t.Run(name, func(t *testing.T) {
			src := `syntax = "proto3"; package bad; import "google/api/annotations.proto";
message M { string name = 1; }
service S { rpc Do(M) returns (M) { option (google.api.http) = {` + rule + `}; } }`
			fds, err := protoidl.Compile(context.Background(), map[string][]byte{"bad.proto": []byte(src)})
			if err != nil {
				t.Fatal(err)
			}
			bin, _ := proto.Marshal(fds)
			_, err = grpcjson.New(&grpcjsonv3.GrpcJsonTranscoder{
				DescriptorSet: &grpcjsonv3.GrpcJsonTranscoder_ProtoDescriptorBin{ProtoDescriptorBin: bin},
				Services:      []string{"bad.S"},
			})
			if err == nil {
				t.Fatalf("New accepted %s", rule)
			}
			t.Log(err)
		})
	}
}
