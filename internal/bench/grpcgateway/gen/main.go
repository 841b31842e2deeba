// Command gen generates the Go code of echopb/echo.proto without protoc: it compiles the proto
// with rpcbridge's own compiler, builds the pluginpb.CodeGeneratorRequest that protoc would
// send, and runs protoc-gen-go, protoc-gen-go-grpc and protoc-gen-grpc-gateway (pinned versions,
// through `go run`) on it, writing their files into echopb/.
//
// Run from internal/bench/grpcgateway: go run ./gen
package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/pluginpb"

	protoidl "github.com/rpcbridge/rpcbridge/idl/proto"
)

// plugins are the pinned protoc plugins, each run with `go run`.
var plugins = []string{
	"google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12",
	"google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.1",
	"github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway@v2.27.3",
}

const (
	source = "echopb/echo.proto"
	// importPath is the name the proto is compiled under (and its files are generated from).
	importPath = "echo/v1/echo.proto"
	outDir     = "echopb"
	// parameter maps the bundled imports to their Go packages and flattens output paths.
	parameter = "paths=source_relative," +
		"Mgoogle/api/annotations.proto=google.golang.org/genproto/googleapis/api/annotations," +
		"Mgoogle/api/http.proto=google.golang.org/genproto/googleapis/api/annotations," +
		"Mgoogle/protobuf/descriptor.proto=google.golang.org/protobuf/types/descriptorpb"
)

func main() {
	if err := generate(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func generate(ctx context.Context) error {
	text, err := os.ReadFile(source)
	if err != nil {
		return fmt.Errorf("read %s: %w", source, err)
	}
	fds, err := protoidl.Compile(ctx, map[string][]byte{importPath: text})
	if err != nil {
		return fmt.Errorf("compile: %w", err)
	}
	req := &pluginpb.CodeGeneratorRequest{
		FileToGenerate: []string{importPath},
		Parameter:      proto.String(parameter),
		ProtoFile:      fds.GetFile(),
	}
	in, err := proto.Marshal(req)
	if err != nil {
		return fmt.Errorf("marshal request: %w", err)
	}
	for _, plugin := range plugins {
		if err := run(ctx, plugin, in); err != nil {
			return err
		}
	}
	return nil
}

// run runs one plugin on the request and writes the files it answers with.
func run(ctx context.Context, plugin string, in []byte) error {
	cmd := exec.CommandContext(ctx, "go", "run", plugin)
	cmd.Stdin = bytes.NewReader(in)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("run %s: %w", plugin, err)
	}
	var resp pluginpb.CodeGeneratorResponse
	if err := proto.Unmarshal(out, &resp); err != nil {
		return fmt.Errorf("%s: decode response: %w", plugin, err)
	}
	if resp.Error != nil {
		return fmt.Errorf("%s: %s", plugin, resp.GetError())
	}
	for _, f := range resp.GetFile() {
		name := filepath.Join(outDir, filepath.Base(f.GetName()))
		content := strings.ReplaceAll(f.GetContent(), "source: "+importPath, "source: "+source)
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		fmt.Println("wrote", name)
	}
	return nil
}
