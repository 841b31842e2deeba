package proto

import (
	"context"
	"fmt"
	"sort"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"
)

// isReflectionService reports whether name is a reflection service, left out of a listing.
func isReflectionService(name string) bool {
	return name == "grpc.reflection.v1.ServerReflection" || name == "grpc.reflection.v1alpha.ServerReflection"
}

// Reflect fetches the descriptors of services from a gRPC server through server reflection
// (grpc.reflection.v1, falling back to v1alpha when the server does not implement v1). With no
// services it asks the server to list them and takes all but the reflection service. It follows
// imports until the set is complete and returns it ordered dependencies first.
func Reflect(ctx context.Context, conn grpc.ClientConnInterface, services []string) (*descriptorpb.FileDescriptorSet, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the reflection stream
	client := &reflectionClient{ctx: ctx, conn: conn}

	if len(services) == 0 {
		listed, err := client.listServices()
		if err != nil {
			return nil, err
		}
		services = listed
		if len(services) == 0 {
			return nil, fmt.Errorf("reflection: the server lists no services besides reflection")
		}
	}
	files := map[string]*descriptorpb.FileDescriptorProto{}
	for _, svc := range services {
		resp, err := client.ask(&reflectionv1.ServerReflectionRequest{
			MessageRequest: &reflectionv1.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: svc},
		})
		if err != nil {
			return nil, fmt.Errorf("reflection: file containing %s: %w", svc, err)
		}
		if err := addFiles(files, resp); err != nil {
			return nil, fmt.Errorf("reflection: file containing %s: %w", svc, err)
		}
	}
	for {
		missing := missingImports(files)
		if len(missing) == 0 {
			break
		}
		for _, name := range missing {
			resp, err := client.ask(&reflectionv1.ServerReflectionRequest{
				MessageRequest: &reflectionv1.ServerReflectionRequest_FileByFilename{FileByFilename: name},
			})
			if err != nil {
				return nil, fmt.Errorf("reflection: file %s: %w", name, err)
			}
			if err := addFiles(files, resp); err != nil {
				return nil, fmt.Errorf("reflection: file %s: %w", name, err)
			}
			if _, ok := files[name]; !ok {
				return nil, fmt.Errorf("reflection: the server did not return file %s", name)
			}
		}
	}
	ordered, err := orderFiles(files)
	if err != nil {
		return nil, fmt.Errorf("reflection: %w", err)
	}
	set := &descriptorpb.FileDescriptorSet{File: ordered}
	if _, err := protodesc.NewFiles(set); err != nil {
		return nil, fmt.Errorf("reflection: link descriptors: %w", err)
	}
	return set, nil
}

// addFiles decodes the file descriptors of a reflection response into files.
func addFiles(files map[string]*descriptorpb.FileDescriptorProto, resp *reflectionv1.ServerReflectionResponse) error {
	if e := resp.GetErrorResponse(); e != nil {
		return status.Error(codes.Code(e.GetErrorCode()), e.GetErrorMessage())
	}
	fdr := resp.GetFileDescriptorResponse()
	if fdr == nil {
		return fmt.Errorf("unexpected reflection response %T", resp.GetMessageResponse())
	}
	for _, raw := range fdr.GetFileDescriptorProto() {
		fd := &descriptorpb.FileDescriptorProto{}
		if err := proto.Unmarshal(raw, fd); err != nil {
			return fmt.Errorf("decode file descriptor: %w", err)
		}
		if _, seen := files[fd.GetName()]; !seen {
			files[fd.GetName()] = fd
		}
	}
	return nil
}

// missingImports lists, sorted, the imports of files that files does not hold.
func missingImports(files map[string]*descriptorpb.FileDescriptorProto) []string {
	set := map[string]bool{}
	for _, fd := range files {
		for _, dep := range fd.GetDependency() {
			if _, ok := files[dep]; !ok {
				set[dep] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for name := range set {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// reflectionClient holds one reflection stream, v1 or v1alpha, opened on first use.
type reflectionClient struct {
	ctx     context.Context
	conn    grpc.ClientConnInterface
	v1      grpc.BidiStreamingClient[reflectionv1.ServerReflectionRequest, reflectionv1.ServerReflectionResponse]
	v1alpha grpc.BidiStreamingClient[reflectionv1alpha.ServerReflectionRequest, reflectionv1alpha.ServerReflectionResponse]
}

// listServices asks for the server's services, without the reflection services, sorted.
func (c *reflectionClient) listServices() ([]string, error) {
	resp, err := c.ask(&reflectionv1.ServerReflectionRequest{
		MessageRequest: &reflectionv1.ServerReflectionRequest_ListServices{ListServices: "*"},
	})
	if err != nil {
		return nil, fmt.Errorf("reflection: list services: %w", err)
	}
	if e := resp.GetErrorResponse(); e != nil {
		return nil, fmt.Errorf("reflection: list services: %w", status.Error(codes.Code(e.GetErrorCode()), e.GetErrorMessage()))
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		if !isReflectionService(s.GetName()) {
			names = append(names, s.GetName())
		}
	}
	sort.Strings(names)
	return names, nil
}

// ask sends one request and waits for its response. The first request goes to v1; when the
// server answers Unimplemented it is repeated on v1alpha, which then serves every request.
func (c *reflectionClient) ask(req *reflectionv1.ServerReflectionRequest) (*reflectionv1.ServerReflectionResponse, error) {
	if c.v1 == nil && c.v1alpha == nil {
		stream, err := reflectionv1.NewServerReflectionClient(c.conn).ServerReflectionInfo(c.ctx)
		if err != nil {
			return nil, fmt.Errorf("open reflection v1 stream: %w", err)
		}
		resp, err := askV1(stream, req)
		if status.Code(err) != codes.Unimplemented {
			c.v1 = stream
			return resp, err
		}
		alpha, err := reflectionv1alpha.NewServerReflectionClient(c.conn).ServerReflectionInfo(c.ctx)
		if err != nil {
			return nil, fmt.Errorf("open reflection v1alpha stream: %w", err)
		}
		c.v1alpha = alpha
	}
	if c.v1 != nil {
		return askV1(c.v1, req)
	}
	return askV1alpha(c.v1alpha, req)
}

// askV1 sends req on a v1 stream and receives the response.
func askV1(stream grpc.BidiStreamingClient[reflectionv1.ServerReflectionRequest, reflectionv1.ServerReflectionResponse], req *reflectionv1.ServerReflectionRequest) (*reflectionv1.ServerReflectionResponse, error) {
	if err := stream.Send(req); err != nil {
		// Send reports io.EOF when the server ended the stream; Recv has the real status.
		if _, recvErr := stream.Recv(); recvErr != nil {
			return nil, recvErr
		}
		return nil, err
	}
	return stream.Recv()
}

// askV1alpha converts req to v1alpha, which has the same wire format, and the response back.
func askV1alpha(stream grpc.BidiStreamingClient[reflectionv1alpha.ServerReflectionRequest, reflectionv1alpha.ServerReflectionResponse], req *reflectionv1.ServerReflectionRequest) (*reflectionv1.ServerReflectionResponse, error) {
	alphaReq := &reflectionv1alpha.ServerReflectionRequest{}
	if err := convert(req, alphaReq); err != nil {
		return nil, err
	}
	if err := stream.Send(alphaReq); err != nil {
		if _, recvErr := stream.Recv(); recvErr != nil {
			return nil, recvErr
		}
		return nil, err
	}
	alphaResp, err := stream.Recv()
	if err != nil {
		return nil, err
	}
	resp := &reflectionv1.ServerReflectionResponse{}
	if err := convert(alphaResp, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// convert copies a message into another message type with the same wire format.
func convert(from, to proto.Message) error {
	raw, err := proto.Marshal(from)
	if err != nil {
		return fmt.Errorf("convert reflection message: %w", err)
	}
	if err := proto.Unmarshal(raw, to); err != nil {
		return fmt.Errorf("convert reflection message: %w", err)
	}
	return nil
}
