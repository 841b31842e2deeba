package grpcgateway_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"

	grpcjsonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_json_transcoder/v3"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/grpc-ecosystem/grpc-gateway/v2/utilities"
	"google.golang.org/protobuf/proto"

	"github.com/rpcbridge/rpcbridge/dataplane/grpcjson"
	protoidl "github.com/rpcbridge/rpcbridge/idl/proto"
	"github.com/rpcbridge/rpcbridge/internal/bench/grpcgateway/echopb"
)

// echoTranscoder is rpcbridge's transcoder for echo.proto, as the embedded gateway builds it.
func echoTranscoder(tb testing.TB) *grpcjson.Transcoder {
	tb.Helper()
	text, err := os.ReadFile("echopb/echo.proto")
	if err != nil {
		tb.Fatal(err)
	}
	fds, err := protoidl.Compile(context.Background(), map[string][]byte{"echo/v1/echo.proto": text})
	if err != nil {
		tb.Fatal(err)
	}
	bin, err := proto.Marshal(fds)
	if err != nil {
		tb.Fatal(err)
	}
	tr, err := grpcjson.New(&grpcjsonv3.GrpcJsonTranscoder{
		DescriptorSet: &grpcjsonv3.GrpcJsonTranscoder_ProtoDescriptorBin{ProtoDescriptorBin: bin},
		Services:      []string{service},
		PrintOptions:  &grpcjsonv3.GrpcJsonTranscoder_PrintOptions{},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return tr
}

// BenchmarkTranscodeGET measures building the request bytes of the load's GET (a path
// variable and three query parameters, one of them nested), without HTTP or gRPC:
//   - grpcgateway: what its generated handler does, runtime.Int64 for the path variable,
//     ParseForm and runtime.PopulateQueryParameters into the generated type, proto.Marshal;
//   - rpcbridge: grpcjson's Prepare (it matches the path template too, and builds the gRPC
//     metadata from the headers, which grpc-gateway does elsewhere), the bound fields
//     written straight to the wire.
//
// Each checks that its request bytes decode to the same message first.
//
//	go test ./internal/bench/grpcgateway -run '^$' -bench TranscodeGET -benchmem
func BenchmarkTranscodeGET(b *testing.B) {
	path, rawQuery, _ := bytes.Cut([]byte(getPath), []byte("?"))
	filter := &utilities.DoubleArray{Encoding: map[string]int{"id": 0}, Base: []int{1, 1, 0}, Check: []int{0, 1, 2}}
	viaGateway := func() ([]byte, error) {
		var req echopb.EchoRequest
		var err error
		if req.Id, err = runtime.Int64(string(path[len("/v1/echo/"):])); err != nil {
			return nil, err
		}
		form, err := url.ParseQuery(string(rawQuery))
		if err != nil {
			return nil, err
		}
		if err := runtime.PopulateQueryParameters(&req, form, filter); err != nil {
			return nil, err
		}
		return proto.Marshal(&req)
	}
	tr := echoTranscoder(b)
	httpReq := httptest.NewRequest(http.MethodGet, getPath, nil)
	viaRPCBridge := func() ([]byte, error) {
		call, err := tr.Prepare(httpReq)
		if err != nil {
			return nil, err
		}
		return call.Requests[0], nil
	}
	want, err := viaGateway()
	if err != nil {
		b.Fatal(err)
	}
	got, err := viaRPCBridge()
	if err != nil {
		b.Fatal(err)
	}
	var w, g echopb.EchoRequest
	if proto.Unmarshal(want, &w) != nil || proto.Unmarshal(got, &g) != nil || !proto.Equal(&w, &g) || w.GetMeta().GetAt() != 42 {
		b.Fatalf("rpcbridge sends %v, grpc-gateway %v", &g, &w)
	}
	for _, way := range []struct {
		name string
		run  func() ([]byte, error)
	}{{"grpcgateway", viaGateway}, {"rpcbridge", viaRPCBridge}} {
		b.Run(way.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if _, err := way.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
