package controlplane

import (
	"bytes"
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

func testingDescriptors(t *testing.T) []byte {
	t.Helper()
	fds := &descriptorpb.FileDescriptorSet{}
	fd := testgrpc.File_grpc_testing_test_proto
	for i := range fd.Imports().Len() {
		fds.File = append(fds.File, protodesc.ToFileDescriptorProto(fd.Imports().Get(i).FileDescriptor))
	}
	fds.File = append(fds.File, protodesc.ToFileDescriptorProto(fd))
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(fds)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWithRouteBinding(t *testing.T) {
	set := testingDescriptors(t)
	grpc := &ir.GRPCRoute{Service: "grpc.testing.TestService", Method: "UnaryCall"}

	auto := ir.Route{Match: ir.Match{Path: "/grpc.testing.TestService/UnaryCall", Methods: []string{"POST"}}, GRPC: grpc}
	if got, err := withRouteBinding(set, auto); err != nil || !bytes.Equal(got, set) {
		t.Fatalf("the auto-mapped default route must keep the descriptors unchanged (err %v)", err)
	}

	rule := ir.Route{Match: ir.Match{PathTemplate: "/v1/unary/{response_size}", Methods: []string{"GET"}}, GRPC: grpc}
	got, err := withRouteBinding(set, rule)
	if err != nil {
		t.Fatal(err)
	}
	var fds descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(got, &fds); err != nil {
		t.Fatal(err)
	}
	m := findMethod(&fds, "grpc.testing.TestService", "UnaryCall")
	httpRule, _ := proto.GetExtension(m.GetOptions(), annotations.E_Http).(*annotations.HttpRule)
	if httpRule.GetGet() != "/v1/unary/{response_size}" {
		t.Fatalf("binding not added: %v", httpRule)
	}
	// Applying it again finds the binding and changes nothing.
	again, err := withRouteBinding(got, rule)
	if err != nil || !bytes.Equal(again, got) {
		t.Fatalf("a binding already present was added again (err %v)", err)
	}
	missing := rule
	missing.GRPC = &ir.GRPCRoute{Service: "grpc.testing.TestService", Method: "NoSuch"}
	if _, err := withRouteBinding(set, missing); err == nil {
		t.Fatal("a missing method must be an error")
	}
}
