// Command protogen generates the Go code of rpcbridge's own .proto files with the Go toolchain
// alone: buf's protocompile parses the file (what protoc would do) and protoc-gen-go's own
// generator (google.golang.org/protobuf/cmd/protoc-gen-go/internal_gengo, the code behind the
// protoc-gen-go binary) writes the .pb.go, both at the versions go.mod pins. The output is what
// `protoc --go_out=paths=source_relative:.` gives with protoc-gen-go of that version, except
// that the header names no protoc version. No protoc binary is needed.
//
// Usage, from the directory of the .proto (see the go:generate line in api/gateway/v1):
//
//	go run github.com/rpcbridge/rpcbridge/internal/protogen gateway.proto
//
// The test of this package fails when a checked-in .pb.go is not what its .proto generates.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bufbuild/protocompile"
	gengo "google.golang.org/protobuf/cmd/protoc-gen-go/internal_gengo"
	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: protogen FILE.proto...")
		os.Exit(2)
	}
	for _, name := range os.Args[1:] {
		out, err := generate(context.Background(), name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "protogen:", err)
			os.Exit(1)
		}
		if err := os.WriteFile(goFile(name), out, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "protogen:", err)
			os.Exit(1)
		}
	}
}

// goFile is the .pb.go that protoc-gen-go writes for a .proto with paths=source_relative.
func goFile(protoFile string) string {
	return strings.TrimSuffix(protoFile, ".proto") + ".pb.go"
}

// generate compiles the .proto at path (imports resolve beside it and among the well-known
// types) and returns the Go code protoc-gen-go generates for it.
func generate(ctx context.Context, path string) ([]byte, error) {
	dir, name := filepath.Split(path)
	compiler := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
			ImportPaths: []string{filepath.Clean(dir + ".")},
		}),
		SourceInfoMode: protocompile.SourceInfoStandard,
	}
	files, err := compiler.Compile(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", path, err)
	}
	req := &pluginpb.CodeGeneratorRequest{
		FileToGenerate: []string{name},
		Parameter:      proto.String("paths=source_relative"),
		ProtoFile:      withImports(files[0]),
	}
	plugin, err := protogen.Options{}.New(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, f := range plugin.Files {
		if f.Generate {
			gengo.GenerateFile(plugin, f)
		}
	}
	plugin.SupportedFeatures = gengo.SupportedFeatures
	resp := plugin.Response()
	if resp.Error != nil {
		return nil, fmt.Errorf("%s: %s", path, resp.GetError())
	}
	for _, f := range resp.GetFile() {
		if f.GetName() == goFile(name) {
			return []byte(f.GetContent()), nil
		}
	}
	return nil, fmt.Errorf("%s: protoc-gen-go wrote no %s", path, goFile(name))
}

// withImports lists f and everything it imports, dependencies first, as a CodeGeneratorRequest
// wants them.
func withImports(f protoreflect.FileDescriptor) []*descriptorpb.FileDescriptorProto {
	var out []*descriptorpb.FileDescriptorProto
	seen := map[string]bool{}
	var visit func(protoreflect.FileDescriptor)
	visit = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		imports := fd.Imports()
		for i := range imports.Len() {
			visit(imports.Get(i).FileDescriptor)
		}
		out = append(out, protodesc.ToFileDescriptorProto(fd))
	}
	visit(f)
	return out
}
