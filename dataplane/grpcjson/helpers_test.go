package grpcjson_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	grpcjsonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_json_transcoder/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/rpcbridge/rpcbridge/dataplane/grpcjson"
	"github.com/rpcbridge/rpcbridge/dataplane/internal/bookstore"
)

// descriptors compiles bookstore.proto once for the whole test binary.
var descriptors = sync.OnceValues(func() (*descriptorpb.FileDescriptorSet, *protoregistry.Files) {
	fds, err := bookstore.Descriptors(context.Background())
	if err != nil {
		panic(err)
	}
	files, err := protodesc.NewFiles(fds)
	if err != nil {
		panic(err)
	}
	return fds, files
})

// config is the GrpcJsonTranscoder the control plane emits for the bookstore, adjusted by opts.
func config(t testing.TB, opts ...func(*grpcjsonv3.GrpcJsonTranscoder)) *grpcjsonv3.GrpcJsonTranscoder {
	t.Helper()
	fds, _ := descriptors()
	bin, err := proto.Marshal(fds)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &grpcjsonv3.GrpcJsonTranscoder{
		DescriptorSet:             &grpcjsonv3.GrpcJsonTranscoder_ProtoDescriptorBin{ProtoDescriptorBin: bin},
		Services:                  []string{bookstore.Service},
		PrintOptions:              &grpcjsonv3.GrpcJsonTranscoder_PrintOptions{},
		MatchIncomingRequestRoute: true,
		ConvertGrpcStatus:         true,
	}
	for _, o := range opts {
		o(cfg)
	}
	return cfg
}

// newTranscoder builds a transcoder of the bookstore config.
func newTranscoder(t testing.TB, opts ...func(*grpcjsonv3.GrpcJsonTranscoder)) *grpcjson.Transcoder {
	t.Helper()
	tr, err := grpcjson.New(config(t, opts...))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return tr
}

// message returns a new dynamic message of a bookstore type.
func message(t testing.TB, name string) *dynamicpb.Message {
	t.Helper()
	_, files := descriptors()
	d, err := files.FindDescriptorByName(protoreflect.FullName("bookstore.v1." + name))
	if err != nil {
		t.Fatal(err)
	}
	return dynamicpb.NewMessage(d.(protoreflect.MessageDescriptor))
}

// fromJSON builds a bookstore message from its JSON form.
func fromJSON(t testing.TB, name, text string) *dynamicpb.Message {
	t.Helper()
	m := message(t, name)
	_, files := descriptors()
	if err := (protojson.UnmarshalOptions{Resolver: dynamicpb.NewTypes(files)}).Unmarshal([]byte(text), m); err != nil {
		t.Fatalf("expected %s %s: %v", name, text, err)
	}
	return m
}

// checkMessage decodes raw as the named type and compares it with the JSON-described value.
func checkMessage(t testing.TB, name string, raw []byte, want string) {
	t.Helper()
	got := message(t, name)
	_, files := descriptors()
	if err := (proto.UnmarshalOptions{Resolver: dynamicpb.NewTypes(files)}).Unmarshal(raw, got); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	if exp := fromJSON(t, name, want); !proto.Equal(got, exp) {
		t.Errorf("request message:\n got  %v\n want %v", protojson.Format(got), protojson.Format(exp))
	}
}

// request builds an HTTP request with an optional body.
func request(method, target, body string) *http.Request {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// dial connects to a gRPC server without TLS.
func dial(t testing.TB, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// serve runs one request through Prepare and Execute and returns the recorded response.
func serve(t testing.TB, tr *grpcjson.Transcoder, conn grpc.ClientConnInterface, req *http.Request) (*http.Response, string) {
	t.Helper()
	call, err := tr.Prepare(req)
	if err != nil {
		t.Fatalf("Prepare %s %s: %v", req.Method, req.URL, err)
	}
	rec := httptest.NewRecorder()
	_ = tr.Execute(req.Context(), rec, call, conn)
	resp := rec.Result()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// sentRequest is the serialized request the bookstore received, from its x-request-bin header.
func sentRequest(t testing.TB, resp *http.Response) []byte {
	t.Helper()
	raw, err := base64.RawStdEncoding.DecodeString(resp.Header.Get("X-Request-Bin"))
	if err != nil {
		t.Fatalf("x-request-bin: %v", err)
	}
	return raw
}

// jsonEqual compares two JSON documents semantically.
func jsonEqual(t testing.TB, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("expected value is not JSON: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("JSON differs:\n got  %s\n want %s", got, want)
	}
}

// requestError asserts that err is a *RequestError with the status and a message mentioning want.
func requestError(t testing.TB, err error, status int, want string) {
	t.Helper()
	var re *grpcjson.RequestError
	if !errors.As(err, &re) {
		t.Fatalf("got %v, want a RequestError %d", err, status)
	}
	if re.Status != status || !strings.Contains(re.Message, want) {
		t.Errorf("got %d %q, want %d mentioning %q", re.Status, re.Message, status, want)
	}
}

// checkHTTPBody decodes a google.api.HttpBody and checks its content type and data.
func checkHTTPBody(t testing.TB, raw []byte, contentType, data string) {
	t.Helper()
	_, files := descriptors()
	d, err := files.FindDescriptorByName("google.api.HttpBody")
	if err != nil {
		t.Fatal(err)
	}
	m := dynamicpb.NewMessage(d.(protoreflect.MessageDescriptor))
	if err := proto.Unmarshal(raw, m); err != nil {
		t.Fatal(err)
	}
	fields := m.Descriptor().Fields()
	if got := m.Get(fields.ByName("content_type")).String(); got != contentType {
		t.Errorf("content_type = %q, want %q", got, contentType)
	}
	if got := string(m.Get(fields.ByName("data")).Bytes()); got != data {
		t.Errorf("data = %q, want %q", got, data)
	}
}

// grpcConn is the connection tests hand to Execute.
type grpcConn struct{ *grpc.ClientConn }
