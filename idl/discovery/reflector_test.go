package discovery

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/reflection"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/rpcbridge/rpcbridge/bridge"
	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/registries"
)

const testService = "grpc.testing.TestService"

type testServer struct {
	testgrpc.UnimplementedTestServiceServer
}

// startGRPC runs a grpc-go server with the interop TestService, the health service and server
// reflection; it returns the address and a stop function.
func startGRPC(t *testing.T) (string, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	testgrpc.RegisterTestServiceServer(srv, testServer{})
	healthgrpc.RegisterHealthServer(srv, health.NewServer())
	reflection.Register(srv)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return ln.Addr().String(), srv.Stop
}

// grpcService is a catalog gRPC service served at addrs.
func grpcService(t *testing.T, name string, addrs ...string) bridge.Service {
	svc := bridge.Service{ID: "grpc:" + name, Name: name, Protocol: registries.ProtocolGRPC, Sources: []string{"static"}}
	for _, a := range addrs {
		host, port, err := net.SplitHostPort(a)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := strconv.Atoi(port)
		svc.Endpoints = append(svc.Endpoints, bridge.Endpoint{
			Endpoint: registries.Endpoint{Address: host, Port: uint32(p), Healthy: true}, Source: "static"})
	}
	return svc
}

// hasService reports whether the schema's descriptors define the service.
func hasService(t *testing.T, s idl.Schema, service string) bool {
	t.Helper()
	files, err := protodesc.NewFiles(s.Descriptors)
	if err != nil {
		t.Fatalf("schema %s: descriptors do not link: %v", s.Name, err)
	}
	d, err := files.FindDescriptorByName(protoreflect.FullName(service))
	if err != nil {
		return false
	}
	_, ok := d.(protoreflect.ServiceDescriptor)
	return ok
}

func TestReflectorFetchesIncludedServices(t *testing.T) {
	addr, stop := startGRPC(t)
	logs := newLogRecorder()
	catalogs := make(chan bridge.Catalog)
	out := newPublished(t)
	r := NewReflector(ReflectorOptions{Include: []string{"grpc.testing.*"}, Logger: slog.New(logs)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, catalogs, out.publish) }()
	defer func() { cancel(); <-done }()
	catalogs <- bridge.Catalog{Services: []bridge.Service{
		grpcService(t, "grpc.health.v1.Health", addr),
		grpcService(t, testService, addr),
	}}
	// Run received the catalog, so it has made its first call: an empty list, before any fetch.
	if first, ok := out.First(); !ok || first == nil || len(first) != 0 {
		t.Errorf("Run's first call published %v (called: %v); want an empty list", names(first), ok)
	}

	var got []idl.Schema
	waitFor(t, "the reflected schema", func() bool { got, _ = out.Latest(); return len(got) > 0 })
	if len(got) != 1 || got[0].Name != "reflect-grpc.testing.testservice" {
		t.Fatalf("schemas = %v, want only reflect-grpc.testing.testservice (health is not included)", names(got))
	}
	if !hasService(t, got[0], testService) {
		t.Fatalf("schema descriptors lack %s", testService)
	}
	if hasService(t, got[0], "grpc.health.v1.Health") {
		t.Fatalf("schema holds the health service, which was not asked for")
	}

	// The endpoint set changes to a dead endpoint first: the fetch fails, the schema stays.
	stop()
	dead := deadAddr(t)
	catalogs <- bridge.Catalog{Services: []bridge.Service{grpcService(t, testService, dead)}}
	waitFor(t, "a failed reflection", func() bool {
		return logs.count("server reflection failed; keeping the previous schema", map[string]string{"endpoint": dead}) > 0
	})
	if kept, _ := out.Latest(); len(kept) != 1 || !hasService(t, kept[0], testService) {
		t.Fatalf("after a failure schemas = %v, want the previous one kept", names(kept))
	}

	// A new endpoint is fetched from; dropping the service from the catalog drops its schema.
	addr2, _ := startGRPC(t)
	catalogs <- bridge.Catalog{Services: []bridge.Service{grpcService(t, testService, addr2)}}
	waitFor(t, "a fetch from the new endpoint", func() bool {
		return logs.count("fetched service descriptors through server reflection", map[string]string{"endpoint": addr2}) > 0
	})

	// The service loses every endpoint but stays in the catalog (its last provider left and it is
	// retained, or all are unhealthy): the schema stays, so that its routes answer 503, not 404.
	// The catalog is sent twice: the second send returns only once Run has handled the first.
	noEndpoints := bridge.Catalog{Services: []bridge.Service{grpcService(t, testService)}}
	catalogs <- noEndpoints
	catalogs <- noEndpoints
	if kept, _ := out.Latest(); len(kept) != 1 || !hasService(t, kept[0], testService) {
		t.Fatalf("with no endpoint left, schemas = %v; want the service's schema kept", names(kept))
	}

	catalogs <- bridge.Catalog{}
	waitFor(t, "the schema to be dropped", func() bool { s, _ := out.Latest(); return len(s) == 0 })
}

// deadAddr is a 127.0.0.1 address nothing listens on.
func deadAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	ln.Close()
	return a
}

func names(schemas []idl.Schema) []string {
	var out []string
	for _, s := range schemas {
		out = append(out, s.Name)
	}
	return out
}

func TestSchemaName(t *testing.T) {
	cases := map[string][]string{
		"reflect-grpc.testing.testservice":           {"reflect", "grpc.testing.TestService"},
		"metadata-com.example.userservice-1.0.0-g_1": {"metadata", "com.example.UserService", "1.0.0", "", "g_1"},
		"metadata-a-b-c":                             {"metadata", "a$b", "", "c"},
	}
	for want, in := range cases {
		if got := schemaName(in[0], in[1:]...); got != want {
			t.Errorf("schemaName(%q) = %q, want %q", in, got, want)
		}
	}
	long := schemaName("reflect", "com.example.a.very.long.package.name.that.goes.on.and.on.ServiceName")
	other := schemaName("reflect", "com.example.a.very.long.package.name.that.goes.on.and.on.OtherName")
	if len(long) > maxNameLen || len(other) > maxNameLen || long == other {
		t.Errorf("long names %q and %q: want distinct and at most %d characters", long, other, maxNameLen)
	}
	got := finish([]named{{prefix: "reflect", parts: []string{"a.B"}}, {prefix: "reflect", parts: []string{"a.b"}}})
	if got[0].Name == got[1].Name {
		t.Errorf("colliding names not told apart: %v", names(got))
	}
}
