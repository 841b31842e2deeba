package grpcgateway_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/rpcbridge/rpcbridge/dataplane/protojsonwire"
	"github.com/rpcbridge/rpcbridge/internal/bench/grpcgateway/echopb"
)

// BenchmarkTranscode measures the transcoding itself, without HTTP or gRPC, of the load's POST
// (the JSON body to the request's wire bytes, the response's wire bytes to JSON), three ways:
//   - grpcgateway: what grpc-gateway's generated handler does, runtime.JSONPb (protojson) into
//     the generated echopb types and proto for the wire;
//   - dynamicpb: rpcbridge's previous path, protojson into a dynamicpb message and back;
//   - protojsonwire: rpcbridge's fast path, straight from the descriptors.
//
// Each checks its output against the others' once first.
//
//	go test ./internal/bench/grpcgateway -run '^$' -bench Transcode -benchmem
func BenchmarkTranscode(b *testing.B) {
	reqDesc := (&echopb.EchoRequest{}).ProtoReflect().Descriptor()
	respDesc := (&echopb.EchoResponse{}).ProtoReflect().Descriptor()
	body := []byte(postBody)
	wire, err := proto.Marshal(&echopb.EchoResponse{Id: 1234567890123, Text: "hello world", Meta: &echopb.Meta{Trace: "t-1", At: 42}})
	if err != nil {
		b.Fatal(err)
	}
	jsonpb := &runtime.JSONPb{}
	viaGateway := func() ([]byte, []byte, error) {
		var req echopb.EchoRequest
		if err := jsonpb.Unmarshal(body, &req); err != nil {
			return nil, nil, err
		}
		reqWire, err := proto.Marshal(&req)
		if err != nil {
			return nil, nil, err
		}
		var resp echopb.EchoResponse
		if err := proto.Unmarshal(wire, &resp); err != nil {
			return nil, nil, err
		}
		out, err := jsonpb.Marshal(&resp)
		return reqWire, out, err
	}
	viaDynamic := func() ([]byte, []byte, error) {
		req := dynamicpb.NewMessage(reqDesc)
		if err := protojson.Unmarshal(body, req); err != nil {
			return nil, nil, err
		}
		reqWire, err := proto.Marshal(req)
		if err != nil {
			return nil, nil, err
		}
		resp := dynamicpb.NewMessage(respDesc)
		if err := proto.Unmarshal(wire, resp); err != nil {
			return nil, nil, err
		}
		out, err := protojson.Marshal(resp)
		if err != nil {
			return nil, nil, err
		}
		var buf bytes.Buffer
		err = json.Compact(&buf, out)
		return reqWire, buf.Bytes(), err
	}
	enc, dec := protojsonwire.For(reqDesc, protojsonwire.Options{}), protojsonwire.For(respDesc, protojsonwire.Options{})
	viaWire := func() ([]byte, []byte, error) {
		reqWire, err := enc.Encode(nil, body)
		if err != nil {
			return nil, nil, err
		}
		out, err := dec.Decode(nil, wire)
		return reqWire, out, err
	}
	ways := []struct {
		name string
		run  func() ([]byte, []byte, error)
	}{{"grpcgateway", viaGateway}, {"dynamicpb", viaDynamic}, {"protojsonwire", viaWire}}
	wantReq, wantJSON, err := viaGateway()
	if err != nil {
		b.Fatal(err)
	}
	for _, w := range ways {
		req, out, err := w.run()
		if err != nil {
			b.Fatalf("%s: %v", w.name, err)
		}
		var got, want any
		_ = json.Unmarshal(out, &got)
		_ = json.Unmarshal(wantJSON, &want)
		if !bytes.Equal(req, wantReq) || !jsonEqual(got, want) {
			b.Fatalf("%s: request %x, response %s; grpc-gateway's: %x, %s", w.name, req, out, wantReq, wantJSON)
		}
	}
	for _, w := range ways {
		b.Run(w.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if _, _, err := w.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
