// Package bookstore is the gRPC test peer of the gateway's REST-to-gRPC transcoding: a proto
// (bookstore.proto) that uses every form of google.api.http binding, compiled at run time with
// rpcbridge's own compiler, and a real grpc-go server that implements it generically over
// dynamic messages (grpc.UnknownServiceHandler), as each method's comment in the proto says.
//
// Every response carries the request it answered as the "x-request-bin" header (the serialized
// request message) so that tests can check exactly what the transcoder sent, echoes the
// "x-trace" request metadata as "x-trace-echo", reports every (non-binary) request metadata
// entry as the JSON object "x-incoming-metadata", and ends with the trailer "x-served-by".
package bookstore

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	protoidl "github.com/rpcbridge/rpcbridge/idl/proto"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dynamicgrpc"
)

// Service is the fully qualified name of the test service.
const Service = "bookstore.v1.Bookstore"

//go:embed bookstore.proto
var source []byte

// ProtoFiles is bookstore.proto by its import path, as a user uploads it.
func ProtoFiles() map[string][]byte {
	return map[string][]byte{"bookstore/v1/bookstore.proto": source}
}

// Descriptors compiles bookstore.proto with its imports into a FileDescriptorSet.
func Descriptors(ctx context.Context) (*descriptorpb.FileDescriptorSet, error) {
	fds, err := protoidl.Compile(ctx, ProtoFiles())
	if err != nil {
		return nil, fmt.Errorf("compile bookstore.proto: %w", err)
	}
	return fds, nil
}

// MustDescriptors is Descriptors for tests: it fails the test on error.
func MustDescriptors(tb testing.TB) *descriptorpb.FileDescriptorSet {
	tb.Helper()
	fds, err := Descriptors(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return fds
}

// Start serves the bookstore on a free loopback port until the test ends and returns its
// address.
func Start(tb testing.TB, fds *descriptorpb.FileDescriptorSet) string {
	tb.Helper()
	return dynamicgrpc.Serve(tb, fds, Service, handle)
}

// handle answers one call, as the method's comment in bookstore.proto says.
func handle(c *dynamicgrpc.Call) error {
	stream, md, raw, req := c.Stream, c.Method, c.Raw, c.Request
	name := string(md.Name())
	header := metadata.Pairs("x-request-bin", string(raw))
	in, _ := metadata.FromIncomingContext(stream.Context())
	if len(in.Get("x-trace")) > 0 {
		header.Set("x-trace-echo", in.Get("x-trace")...)
	}
	incoming := map[string][]string{}
	for k, v := range in {
		if !strings.HasSuffix(k, "-bin") {
			incoming[k] = v
		}
	}
	if report, err := json.Marshal(incoming); err == nil {
		header.Set("x-incoming-metadata", string(report))
	}
	if err := stream.SetHeader(header); err != nil {
		return err
	}
	stream.SetTrailer(metadata.Pairs("x-served-by", "bookstore"))
	get := c.Field
	send := c.SendJSON
	switch name {
	case "GetShelf":
		n := get("name").String()
		return send(map[string]any{"name": n, "theme": "theme of " + n})
	case "CreateShelf", "Echo", "GetFile", "Unannotated":
		return stream.SendMsg(raw)
	case "UpdateBook":
		out, err := proto.Marshal(get("book").Message().Interface())
		if err != nil {
			return err
		}
		return stream.SendMsg(out)
	case "ListBooks":
		return send(map[string]any{"books": books(req, md.Input()), "nextPageToken": "next"})
	case "StreamBooks":
		for i, b := range books(req, md.Input()) {
			if i == 1 && get("genre").Enum() == 2 {
				return status.Error(codes.Aborted, "history is aborted")
			}
			if err := send(b); err != nil {
				return err
			}
		}
		return nil
	case "CreateBook":
		book, err := protojson.Marshal(get("book").Message().Interface())
		if err != nil {
			return err
		}
		var v map[string]any
		if err := json.Unmarshal(book, &v); err != nil {
			return err
		}
		v["name"] = fmt.Sprintf("shelves/%d/books/new", get("shelf").Int())
		return send(v)
	case "DeleteBook", "PurgeShelf":
		return send(map[string]any{})
	case "PublishBook":
		return send(map[string]any{"name": get("name").String(), "title": "published"})
	case "Fail":
		st := status.New(codes.Code(get("code").Int()), get("message").String())
		if get("with_details").Bool() {
			var err error
			if st, err = st.WithDetails(&errdetails.RequestInfo{RequestId: "r-1", ServingData: "bookstore"}); err != nil {
				return err
			}
		}
		return st.Err()
	case "GetCover":
		return send(map[string]any{"contentType": "image/png", "data": []byte("cover of " + get("name").String())})
	case "UploadCover":
		return send(map[string]any{"name": get("content_type").String(), "theme": string(get("data").Bytes())})
	}
	return status.Errorf(codes.Unimplemented, "method %s has no behaviour", name)
}

// books lists page_size books of the requested shelf with the requested tags.
func books(req *dynamicpb.Message, in protoreflect.MessageDescriptor) []map[string]any {
	fields := in.Fields()
	var tags []string
	list := req.Get(fields.ByName("tags")).List()
	for i := 0; i < list.Len(); i++ {
		tags = append(tags, list.Get(i).String())
	}
	var out []map[string]any
	for i := 0; i < int(req.Get(fields.ByName("page_size")).Int()); i++ {
		out = append(out, map[string]any{
			"name":  fmt.Sprintf("shelves/%d/books/%d", req.Get(fields.ByName("shelf")).Int(), i),
			"pages": fmt.Sprint(int64(1)<<40 + int64(i)),
			"tags":  tags,
			"genre": "FICTION",
		})
	}
	return out
}
