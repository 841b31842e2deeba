// Package dynamicgrpc serves, for tests, a gRPC service known only by its descriptors: a real
// grpc-go server whose every call reaches one handler with the decoded request, and whose
// answers are built from JSON or sent as raw bytes. The gateway's REST-to-gRPC tests use it to
// see exactly what the transcoder sent.
package dynamicgrpc

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// Call is one call of the served service.
type Call struct {
	// Method is the called method.
	Method protoreflect.MethodDescriptor
	// Raw is the serialized request, Request the same decoded.
	Raw     []byte
	Request *dynamicpb.Message
	// Stream is the call's stream, for headers, trailers and further messages.
	Stream grpc.ServerStream
}

// Field is the request's top-level field called name.
func (c *Call) Field(name string) protoreflect.Value {
	return c.Request.Get(c.Method.Input().Fields().ByName(protoreflect.Name(name)))
}

// SendJSON sends the response message that the JSON form of v describes.
func (c *Call) SendJSON(v map[string]any) error {
	md := c.Method.Output()
	text, err := json.Marshal(v)
	if err != nil {
		return err
	}
	msg := dynamicpb.NewMessage(md)
	if err := protojson.Unmarshal(text, msg); err != nil {
		return status.Errorf(codes.Internal, "build %s from %s: %v", md.FullName(), text, err)
	}
	return c.SendMessage(msg)
}

// SendMessage sends msg as a response message.
func (c *Call) SendMessage(msg proto.Message) error {
	out, err := proto.Marshal(msg)
	if err != nil {
		return err
	}
	return c.Stream.SendMsg(out)
}

// SendRaw sends an already serialized response message (the request itself, for an echo).
func (c *Call) SendRaw(b []byte) error { return c.Stream.SendMsg(b) }

// Serve serves service (a fully qualified name found in fds) on a free loopback port until the
// test ends and returns its address. Every call of one of its methods goes to handle; other
// methods answer Unimplemented.
func Serve(tb testing.TB, fds *descriptorpb.FileDescriptorSet, service string, handle func(*Call) error) string {
	tb.Helper()
	files, err := protodesc.NewFiles(fds)
	if err != nil {
		tb.Fatal(err)
	}
	d, err := files.FindDescriptorByName(protoreflect.FullName(service))
	if err != nil {
		tb.Fatal(err)
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		tb.Fatalf("%s is not a service", service)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	unknown := func(_ any, stream grpc.ServerStream) error {
		full, _ := grpc.MethodFromServerStream(stream)
		svc, name, _ := strings.Cut(strings.TrimPrefix(full, "/"), "/")
		md := sd.Methods().ByName(protoreflect.Name(name))
		if svc != service || md == nil {
			return status.Errorf(codes.Unimplemented, "unknown method %s", full)
		}
		var raw []byte
		if err := stream.RecvMsg(&raw); err != nil {
			return err
		}
		req := dynamicpb.NewMessage(md.Input())
		if err := proto.Unmarshal(raw, req); err != nil {
			return status.Errorf(codes.InvalidArgument, "decode request: %v", err)
		}
		return handle(&Call{Method: md, Raw: raw, Request: req, Stream: stream})
	}
	srv := grpc.NewServer(grpc.UnknownServiceHandler(unknown), grpc.ForceServerCodecV2(RawCodec{}))
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(srv.Stop)
	return ln.Addr().String()
}

// RawCodec is a gRPC codec that moves serialized messages ([]byte to send, *[]byte to receive)
// unchanged, under the standard "proto" content subtype.
type RawCodec struct{}

// Name is the codec's content subtype.
func (RawCodec) Name() string { return "proto" }

// Marshal sends a []byte as it is.
func (RawCodec) Marshal(v any) (mem.BufferSlice, error) {
	b, ok := v.([]byte)
	if !ok {
		return nil, fmt.Errorf("raw codec: cannot send %T", v)
	}
	return mem.BufferSlice{mem.SliceBuffer(b)}, nil
}

// Unmarshal stores the received bytes into a *[]byte.
func (RawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	p, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("raw codec: cannot receive into %T", v)
	}
	*p = data.Materialize()
	return nil
}
