// Command greeter is the quickstart's gRPC service: a real grpc-go server of grpc-go's own
// interop service grpc.testing.TestService, whose UnaryCall names the instance that answered and
// returns a payload of the requested size. With -descriptor-set FILE it instead writes the
// service's FileDescriptorSet (imports first), the IDL that `rpcbridge idl push` uploads.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"google.golang.org/grpc"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// maxPayload bounds the payload a caller may ask for.
const maxPayload = 1 << 16

func main() {
	listen := flag.String("listen", "127.0.0.1:19101", "listen address")
	name := flag.String("name", "greeter-1", "instance name put in every answer")
	setFile := flag.String("descriptor-set", "", "write the service's descriptor set to this file and exit")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if *setFile != "" {
		if err := writeDescriptorSet(*setFile); err != nil {
			log.Error("descriptor set", "err", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, log, *listen, *name); err != nil {
		log.Error("greeter", "err", err)
		os.Exit(1)
	}
}

// serve runs the gRPC server on addr until ctx ends.
func serve(ctx context.Context, log *slog.Logger, addr, name string) error {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	srv := grpc.NewServer()
	testgrpc.RegisterTestServiceServer(srv, testService{name: name})
	go func() {
		<-ctx.Done()
		srv.GracefulStop()
	}()
	log.Info("greeter serving grpc.testing.TestService", "listen", lis.Addr().String(), "name", name)
	if err := srv.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// testService answers UnaryCall and EmptyCall; the other methods are unimplemented.
type testService struct {
	testgrpc.UnimplementedTestServiceServer
	name string
}

// EmptyCall answers with an empty message.
func (testService) EmptyCall(context.Context, *testgrpc.Empty) (*testgrpc.Empty, error) {
	return &testgrpc.Empty{}, nil
}

// UnaryCall names the instance and returns response_size zero bytes.
func (s testService) UnaryCall(_ context.Context, req *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	size := req.GetResponseSize()
	if size < 0 || size > maxPayload {
		return nil, fmt.Errorf("response_size %d out of 0..%d", size, maxPayload)
	}
	resp := &testgrpc.SimpleResponse{Hostname: s.name}
	if size > 0 {
		resp.Payload = &testgrpc.Payload{Body: make([]byte, size)}
	}
	return resp, nil
}

// writeDescriptorSet writes the FileDescriptorSet of grpc/testing/test.proto and its imports.
func writeDescriptorSet(path string) error {
	set := &descriptorpb.FileDescriptorSet{}
	seen := map[string]bool{}
	var add func(protoreflect.FileDescriptor)
	add = func(f protoreflect.FileDescriptor) {
		if seen[f.Path()] {
			return
		}
		seen[f.Path()] = true
		for i := range f.Imports().Len() {
			add(f.Imports().Get(i).FileDescriptor)
		}
		set.File = append(set.File, protodesc.ToFileDescriptorProto(f))
	}
	add(testgrpc.File_grpc_testing_test_proto)
	data, err := proto.MarshalOptions{Deterministic: true}.Marshal(set)
	if err != nil {
		return fmt.Errorf("marshal descriptor set: %w", err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
