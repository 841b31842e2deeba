package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	testgrpc "google.golang.org/grpc/interop/grpc_testing"
)

// descriptorSet returns the FileDescriptorSet of fd and its imports, dependencies first.
func descriptorSet(fd protoreflect.FileDescriptor) *descriptorpb.FileDescriptorSet {
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
	add(fd)
	return set
}

// TestRESTToGRPCThroughServe: a real grpc-go server in the static registry, its descriptors
// uploaded through `rpcbridge idl push`; the embedded gateway then transcodes REST calls to it,
// and the OpenAPI document (admin API and CLI) lists the route.
func TestRESTToGRPCThroughServe(t *testing.T) {
	port := startGRPC(t, "server-a")
	srv := startServe(t, grpcServiceConfig(port))

	set, err := proto.MarshalOptions{Deterministic: true}.Marshal(descriptorSet(testgrpc.File_grpc_testing_test_proto))
	if err != nil {
		t.Fatal(err)
	}
	pb := writeFile(t, t.TempDir(), "testing.pb", string(set))
	if code, out, stderr := runCLI(t, context.Background(), "idl", "push", "grpc-testing", pb, "--admin", "http://"+srv.admin); code != exitOK {
		t.Fatalf("idl push: exit %d %s %s", code, out, stderr)
	}

	waitFor(t, "a transcoded REST call", func() error {
		resp, err := http.Post("http://"+srv.gateway+"/grpc.testing.TestService/UnaryCall", "application/json", strings.NewReader(`{"responseSize": 0}`))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"hostname":"server-a"`) {
			return fmt.Errorf("%s: %s %v", resp.Status, body, err)
		}
		return nil
	})

	// A user rule maps a GET with a path variable onto the same method; the control plane adds
	// the binding to that route's descriptors so that the transcoder knows it.
	srv.rewrite(t, grpcServiceConfig(port)+`rpcRoutes:
  - service: grpc.testing.TestService
    method: UnaryCall
    http: {method: GET, path: "/v1/unary/{response_size}"}
`)
	waitFor(t, "the rule's REST call", func() error {
		code, body, err := get("http://" + srv.gateway + "/v1/unary/0")
		if err != nil || code != http.StatusOK || !strings.Contains(body, `"hostname":"server-a"`) {
			return fmt.Errorf("GET /v1/unary/0 = %d %s %v", code, body, err)
		}
		return nil
	})

	// The rule replaced the method's default route; both documents list the rule's path and
	// still the other methods' defaults.
	code, body, err := get("http://" + srv.admin + "/openapi.json")
	if err != nil || code != http.StatusOK || !strings.Contains(body, `"/v1/unary/{response_size}"`) ||
		strings.Contains(body, `"/grpc.testing.TestService/UnaryCall"`) || !strings.Contains(body, `"/grpc.testing.TestService/EmptyCall"`) {
		t.Fatalf("GET /openapi.json = %d %v:\n%.600s", code, err, body)
	}
	// The one-shot command reads the same store and prints the same document.
	code, out, stderr := runCLI(t, context.Background(), "openapi", "--config", srv.file)
	if code != exitOK || !strings.Contains(out, `"/v1/unary/{response_size}"`) {
		t.Fatalf("rpcbridge openapi: exit %d, stderr %s\n%.600s", code, stderr, out)
	}
}
