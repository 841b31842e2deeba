// Package filestore is the gRPC test peer of the gateway's file routes: filestore.proto, whose
// methods take files through bytes and google.api.HttpBody fields and return them as unary and
// server-streamed google.api.HttpBody, compiled at run time with rpcbridge's own compiler and
// served by a real grpc-go server over dynamic messages (internal/testpeers/dynamicgrpc).
package filestore

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"

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
const Service = "filestore.v1.Files"

// DownloadType is the content type of Download's chunks.
const DownloadType = "application/x-filestore"

// HeldName is the Download name that waits after its first chunk until Release.
const HeldName = "held"

//go:embed filestore.proto
var source []byte

// Descriptors compiles filestore.proto with its imports into a FileDescriptorSet.
func Descriptors(ctx context.Context) (*descriptorpb.FileDescriptorSet, error) {
	fds, err := protoidl.Compile(ctx, map[string][]byte{"filestore/v1/filestore.proto": source})
	if err != nil {
		return nil, fmt.Errorf("compile filestore.proto: %w", err)
	}
	return fds, nil
}

// Pattern is the content of a download of size bytes named name: the name's bytes, then
// byte i%251 at offset i (every byte value occurs, and each offset is told apart).
func Pattern(name string, size int) []byte {
	out := make([]byte, size)
	n := copy(out, name)
	for i := n; i < size; i++ {
		out[i] = byte(i % 251)
	}
	return out
}

// Summary is what an upload answers for data: "<size> <sha256 hex>".
func Summary(data []byte) string {
	sum := sha256.Sum256(data)
	return fmt.Sprintf("%d %s", len(data), hex.EncodeToString(sum[:]))
}

// Server is a running filestore.
type Server struct {
	// Addr is its host:port.
	Addr    string
	release chan struct{}
	once    sync.Once
	first   chan struct{}
	seen    sync.Once
}

// FirstPiece is closed when a streamed upload's first message has arrived.
func (s *Server) FirstPiece() <-chan struct{} { return s.first }

// Release lets a held download (HeldName) send the rest of its chunks.
func (s *Server) Release() { s.once.Do(func() { close(s.release) }) }

// Start serves the filestore on a free loopback port until the test ends.
func Start(tb testing.TB, fds *descriptorpb.FileDescriptorSet) *Server {
	tb.Helper()
	s := &Server{release: make(chan struct{}), first: make(chan struct{})}
	tb.Cleanup(s.Release)
	s.Addr = dynamicgrpc.Serve(tb, fds, Service, s.handle)
	return s
}

// handle answers one call, as the method's comment in filestore.proto says.
func (s *Server) handle(c *dynamicgrpc.Call) error {
	get := c.Field
	received := func(name string, data []byte, contentType string) error {
		sum := sha256.Sum256(data)
		return c.SendJSON(map[string]any{"name": name, "size": fmt.Sprint(len(data)), "sha256": hex.EncodeToString(sum[:]),
			"contentType": contentType})
	}
	switch c.Method.Name() {
	case "Upload", "UploadForm":
		sum := sha256.Sum256(get("data").Bytes())
		return c.SendJSON(map[string]any{"name": get("name").String(), "size": fmt.Sprint(len(get("data").Bytes())),
			"sha256": hex.EncodeToString(sum[:]), "note": get("note").String(), "copies": get("copies").Int()})
	case "Put":
		file := get("file").Message()
		return received(get("name").String(), httpBody(file, "data").Bytes(), httpBody(file, "content_type").String())
	case "PutRaw":
		return received("", get("data").Bytes(), get("content_type").String())
	case "Get":
		return c.SendJSON(map[string]any{"contentType": "text/plain", "data": Pattern(get("name").String(), int(get("size").Int()))})
	case "Download":
		return s.download(c)
	case "UploadStream":
		return s.uploadStream(c)
	}
	return status.Errorf(codes.Unimplemented, "method %s has no behaviour", c.Method.Name())
}

// httpBody is field name of a google.api.HttpBody message.
func httpBody(m protoreflect.Message, name string) protoreflect.Value {
	return m.Get(m.Descriptor().Fields().ByName(protoreflect.Name(name)))
}

// download streams Pattern(name, size) in chunks.
func (s *Server) download(c *dynamicgrpc.Call) error {
	name, size, chunk := c.Field("name").String(), int(c.Field("size").Int()), int(c.Field("chunk").Int())
	if chunk <= 0 {
		chunk = max(size, 1)
	}
	if err := c.Stream.SetHeader(metadata.Pairs("content-disposition", "attachment; filename="+name+".bin")); err != nil {
		return err
	}
	data := Pattern(name, size)
	for i := 0; i < len(data); i += chunk {
		if err := c.SendJSON(map[string]any{"contentType": DownloadType, "data": data[i:min(i+chunk, len(data))]}); err != nil {
			return err
		}
		if i == 0 && name == HeldName {
			select {
			case <-s.release:
			case <-c.Stream.Context().Done():
				return c.Stream.Context().Err()
			}
		}
	}
	return nil
}

// uploadStream receives every message of a streamed upload and answers with its sum.
func (s *Server) uploadStream(c *dynamicgrpc.Call) error {
	s.seen.Do(func() { close(s.first) })
	sum := sha256.New()
	contentType := c.Field("content_type").String()
	size, messages := len(c.Field("data").Bytes()), 1
	sum.Write(c.Field("data").Bytes())
	for {
		var raw []byte
		err := c.Stream.RecvMsg(&raw)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		msg := dynamicpb.NewMessage(c.Method.Input())
		if err := proto.Unmarshal(raw, msg); err != nil {
			return status.Errorf(codes.InvalidArgument, "decode piece %d: %v", messages, err)
		}
		data := httpBody(msg, "data").Bytes()
		sum.Write(data)
		size += len(data)
		messages++
	}
	return c.SendJSON(map[string]any{"size": fmt.Sprint(size), "sha256": hex.EncodeToString(sum.Sum(nil)),
		"contentType": contentType, "messages": messages})
}
