// Package chat is the gRPC test peer of the gateway's streaming for browsers (NDJSON and
// Server-Sent Events, WebSocket, gRPC-Web): a proto (chat.proto) with a client-streaming, a
// bidirectional, a server-streaming and a unary method, compiled at run time with rpcbridge's
// own compiler, and a real grpc-go server that implements it over dynamic messages, as each
// method's comment in the proto says. Every call ends with the trailer "x-served-by: chat".
package chat

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	protoidl "github.com/rpcbridge/rpcbridge/idl/proto"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dynamicgrpc"
)

// Service is the fully qualified name of the test service.
const Service = "chat.v1.Chat"

//go:embed chat.proto
var source []byte

// Descriptors compiles chat.proto with its imports into a FileDescriptorSet.
func Descriptors(ctx context.Context) (*descriptorpb.FileDescriptorSet, error) {
	fds, err := protoidl.Compile(ctx, map[string][]byte{"chat/v1/chat.proto": source})
	if err != nil {
		return nil, fmt.Errorf("compile chat.proto: %w", err)
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

// Start serves the chat service on a free loopback port until the test ends and returns its
// address.
func Start(tb testing.TB, fds *descriptorpb.FileDescriptorSet) string {
	tb.Helper()
	return dynamicgrpc.Serve(tb, fds, Service, handle)
}

// handle answers one call, as the method's comment in chat.proto says. dynamicgrpc has received
// the first request message; the streaming methods read the others from the stream.
func handle(c *dynamicgrpc.Call) error {
	c.Stream.SetTrailer(metadata.Pairs("x-served-by", "chat"))
	switch c.Method.Name() {
	case "Collect":
		var texts []string
		for req := c.Request; req != nil; {
			text := field(req, "text").String()
			if text == "fail" {
				return status.Error(codes.InvalidArgument, "no fail notes")
			}
			texts = append(texts, text)
			var err error
			if req, err = next(c); err != nil {
				return err
			}
		}
		return c.SendJSON(map[string]any{"count": len(texts), "joined": strings.Join(texts, "+")})
	case "Talk":
		seq := 0
		for req := c.Request; req != nil; {
			seq++
			if err := c.SendJSON(map[string]any{"room": field(req, "room").String(),
				"text": strings.ToUpper(field(req, "text").String()), "seq": seq}); err != nil {
				return err
			}
			var err error
			if req, err = next(c); err != nil {
				return err
			}
		}
		return nil
	case "Follow":
		room := c.Field("room").String()
		if room == "gone" {
			return status.Error(codes.NotFound, "no room gone")
		}
		for i := 1; i <= int(c.Field("count").Int()); i++ {
			if fail := int(c.Field("fail_after").Int()); fail > 0 && i > fail {
				return status.Errorf(codes.Aborted, "room %s closed after %d notes", room, fail)
			}
			if pause := time.Duration(c.Field("pause_ms").Int()) * time.Millisecond; pause > 0 {
				select {
				case <-time.After(pause):
				case <-c.Stream.Context().Done():
					return status.FromContextError(c.Stream.Context().Err()).Err()
				}
			}
			if err := c.SendJSON(map[string]any{"room": room, "text": fmt.Sprintf("note %d", i), "seq": i}); err != nil {
				return err
			}
		}
		return nil
	case "Last":
		room := c.Field("room").String()
		return c.SendJSON(map[string]any{"room": room, "text": "last of " + room})
	}
	return status.Errorf(codes.Unimplemented, "method %s has no behaviour", c.Method.Name())
}

// next receives the call's next request message; nil at the end of the client stream.
func next(c *dynamicgrpc.Call) (*dynamicpb.Message, error) {
	var raw []byte
	if err := c.Stream.RecvMsg(&raw); errors.Is(err, io.EOF) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	msg := dynamicpb.NewMessage(c.Method.Input())
	if err := proto.Unmarshal(raw, msg); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "decode request: %v", err)
	}
	return msg, nil
}

// field is the named field of msg.
func field(msg *dynamicpb.Message, name string) protoreflect.Value {
	return msg.Get(msg.Descriptor().Fields().ByName(protoreflect.Name(name)))
}
