package proto

import (
	"context"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/reflection"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// methodLog records the full method names a server was called with.
type methodLog struct {
	mu    sync.Mutex
	names []string
}

func (l *methodLog) intercept(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	l.mu.Lock()
	l.names = append(l.names, info.FullMethod)
	l.mu.Unlock()
	return handler(srv, ss)
}

func (l *methodLog) called(name string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Contains(l.names, name)
}

// startServer runs a real grpc-go server on a free port with the health service and the interop
// TestService, plus reflection as register sets it up, and returns a client connection to it.
func startServer(t *testing.T, register func(*grpc.Server)) (*grpc.ClientConn, *methodLog) {
	t.Helper()
	log := &methodLog{}
	srv := grpc.NewServer(grpc.StreamInterceptor(log.intercept))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	testgrpc.RegisterTestServiceServer(srv, testgrpc.UnimplementedTestServiceServer{})
	register(srv)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn, log
}

// methodNames lists the methods of a generated service descriptor.
func methodNames(sd protoreflect.ServiceDescriptor) []string {
	var names []string
	for i := 0; i < sd.Methods().Len(); i++ {
		names = append(names, string(sd.Methods().Get(i).Name()))
	}
	return names
}

func TestReflectV1ListsAndResolvesEverything(t *testing.T) {
	conn, log := startServer(t, func(s *grpc.Server) { reflection.Register(s) })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	fds, err := Reflect(ctx, conn, nil)
	if err != nil {
		t.Fatalf("Reflect: %v", err)
	}
	if !log.called("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo") {
		t.Error("v1 reflection was not used")
	}
	svcs := Services(fds)
	byName := map[string]ServiceInfo{}
	for _, s := range svcs {
		byName[s.Name] = s
	}
	for _, s := range svcs {
		if isReflectionService(s.Name) {
			t.Errorf("reflection service %s was not skipped", s.Name)
		}
	}
	expect := []protoreflect.ServiceDescriptor{
		testgrpc.File_grpc_testing_test_proto.Services().ByName("TestService"),
		healthpb.File_grpc_health_v1_health_proto.Services().ByName("Health"),
	}
	for _, sd := range expect {
		got, ok := byName[string(sd.FullName())]
		if !ok {
			t.Errorf("service %s missing; got %v", sd.FullName(), svcs)
			continue
		}
		var gotNames []string
		for _, m := range got.Methods {
			gotNames = append(gotNames, m.Name)
		}
		if !slices.Equal(gotNames, methodNames(sd)) {
			t.Errorf("%s methods = %v, want %v", sd.FullName(), gotNames, methodNames(sd))
		}
	}
	// test.proto imports messages.proto and empty.proto: all must be present, imports first.
	assertCompleteAndOrdered(t, fds.GetFile(), testgrpc.File_grpc_testing_test_proto)
}

func TestReflectFallsBackToV1alpha(t *testing.T) {
	conn, log := startServer(t, func(s *grpc.Server) {
		reflectionv1alpha.RegisterServerReflectionServer(s, reflection.NewServer(reflection.ServerOptions{Services: s}))
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	fds, err := Reflect(ctx, conn, []string{"grpc.testing.TestService"})
	if err != nil {
		t.Fatalf("Reflect: %v", err)
	}
	if !log.called("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo") {
		t.Error("v1alpha reflection was not used")
	}
	// Only the file declaring TestService (and its imports) was asked for: the health service,
	// which the server also serves, must not be there.
	var names []string
	for _, s := range Services(fds) {
		names = append(names, s.Name)
	}
	if !slices.Contains(names, "grpc.testing.TestService") || slices.Contains(names, "grpc.health.v1.Health") {
		t.Fatalf("services = %v, want grpc.testing.TestService and not grpc.health.v1.Health", names)
	}
	assertCompleteAndOrdered(t, fds.GetFile(), testgrpc.File_grpc_testing_test_proto)
}

func TestReflectUnknownService(t *testing.T) {
	conn, _ := startServer(t, func(s *grpc.Server) { reflection.Register(s) })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := Reflect(ctx, conn, []string{"no.such.Service"}); err == nil {
		t.Fatal("Reflect found a service the server does not have")
	}
}

// assertCompleteAndOrdered checks that root and all its transitive imports are in files, each
// after its imports.
func assertCompleteAndOrdered(t *testing.T, files []*descriptorpb.FileDescriptorProto, root protoreflect.FileDescriptor) {
	t.Helper()
	pos := map[string]int{}
	for i, f := range files {
		pos[f.GetName()] = i
	}
	var walk func(fd protoreflect.FileDescriptor)
	walk = func(fd protoreflect.FileDescriptor) {
		at, ok := pos[fd.Path()]
		if !ok {
			t.Errorf("file %s missing from the reflected set", fd.Path())
			return
		}
		for i := 0; i < fd.Imports().Len(); i++ {
			imp := fd.Imports().Get(i)
			if p, ok := pos[imp.Path()]; ok && p > at {
				t.Errorf("%s comes before its import %s", fd.Path(), imp.Path())
			}
			walk(imp.FileDescriptor)
		}
	}
	walk(root)
}
