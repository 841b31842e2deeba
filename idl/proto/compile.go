// Package proto turns protobuf IDL into descriptor sets: it compiles .proto sources, accepts
// binary FileDescriptorSets, fetches descriptors from gRPC servers by server reflection, and
// lists the services, methods and google.api.http rules that the transcoding stage reads.
package proto

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/bufbuild/protocompile"
	"github.com/bufbuild/protocompile/linker"
	"github.com/bufbuild/protocompile/reporter"
	"google.golang.org/genproto/googleapis/api"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Problem is one error found while compiling, with its position in the source. Line and Column
// are 1-based; both are 0 when the compiler could not attach the problem to a position.
type Problem struct {
	File    string `json:"file" yaml:"file"`
	Line    int    `json:"line" yaml:"line"`
	Column  int    `json:"column" yaml:"column"`
	Message string `json:"message" yaml:"message"`
}

// String renders the problem as "file:line:column: message", the form compilers use.
func (p Problem) String() string {
	if p.Line == 0 {
		if p.File == "" {
			return p.Message
		}
		return p.File + ": " + p.Message
	}
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Column, p.Message)
}

// CompileError reports every problem a compilation found, in the order the compiler reported
// them sorted by file and position.
type CompileError struct {
	Problems []Problem `json:"problems" yaml:"problems"`
}

// Error joins the problems, one per line.
func (e *CompileError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return "protobuf compilation failed:\n" + strings.Join(lines, "\n")
}

// bundledFiles are the imports available without upload beyond protocompile's well-known types:
// the google.api HTTP annotations and friends, and the google.rpc status types.
func bundledFiles() map[string]protoreflect.FileDescriptor {
	files := []protoreflect.FileDescriptor{
		annotations.File_google_api_annotations_proto,
		annotations.File_google_api_http_proto,
		annotations.File_google_api_field_behavior_proto,
		annotations.File_google_api_client_proto,
		annotations.File_google_api_resource_proto,
		annotations.File_google_api_field_info_proto,
		annotations.File_google_api_routing_proto,
		api.File_google_api_launch_stage_proto,
		httpbody.File_google_api_httpbody_proto,
		status.File_google_rpc_status_proto,
		code.File_google_rpc_code_proto,
		errdetails.File_google_rpc_error_details_proto,
	}
	byPath := make(map[string]protoreflect.FileDescriptor, len(files))
	for _, fd := range files {
		byPath[fd.Path()] = fd
	}
	return byPath
}

// Compile compiles the .proto sources in files (import path → content) and returns every
// compiled file with all of its imports, dependencies before dependents, in a deterministic
// order. Files whose names do not end in ".proto" are ignored. Uploaded files take precedence
// over the bundled google/api, google/rpc and well-known imports. When the sources have errors it
// returns a *CompileError listing all of them.
//
// Sources that compile are compiled file by file in import order (ordered.go); when that path
// meets any problem, the whole upload is compiled again in one protocompile call, which reports
// every problem with its position, as it always has.
func Compile(ctx context.Context, files map[string][]byte) (*descriptorpb.FileDescriptorSet, error) {
	return compile(ctx, files, protocompile.SourceInfoNone)
}

// compile is Compile, with the files' SourceCodeInfo as sourceInfo asks (CompileWithDocs).
func compile(ctx context.Context, files map[string][]byte, sourceInfo protocompile.SourceInfoMode) (*descriptorpb.FileDescriptorSet, error) {
	var roots []string
	for name := range files {
		if strings.HasSuffix(name, ".proto") {
			roots = append(roots, name)
		}
	}
	if len(roots) == 0 {
		return nil, &CompileError{Problems: []Problem{{Message: "no .proto files in the upload"}}}
	}
	sort.Strings(roots)
	bundled := bundledFiles()
	compiled, ok := compileInOrder(ctx, files, roots, bundled, sourceInfo)
	if !ok {
		var err error
		if compiled, err = compileTogether(ctx, files, roots, bundled, sourceInfo); err != nil {
			return nil, err
		}
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, fmt.Errorf("compile protobuf: %w", ctxErr)
	}
	return descriptorSet(compiled)
}

// resolver finds uploaded sources first, then the bundled files, then protocompile's
// well-known imports.
func resolver(files map[string][]byte, bundled map[string]protoreflect.FileDescriptor) protocompile.Resolver {
	return protocompile.WithStandardImports(protocompile.CompositeResolver{
		&protocompile.SourceResolver{Accessor: func(path string) (io.ReadCloser, error) {
			src, ok := files[path]
			if !ok {
				return nil, fmt.Errorf("%s: %w", path, protoregistry.NotFound)
			}
			return io.NopCloser(bytes.NewReader(src)), nil
		}},
		protocompile.ResolverFunc(func(path string) (protocompile.SearchResult, error) {
			if fd, ok := bundled[path]; ok {
				return protocompile.SearchResult{Desc: fd}, nil
			}
			return protocompile.SearchResult{}, fmt.Errorf("%s: %w", path, protoregistry.NotFound)
		}),
	})
}

// compileTogether compiles roots in one protocompile call, collecting every problem. It is the
// path that reports errors, and the baseline of BenchmarkCompileLargeProtoSet.
func compileTogether(ctx context.Context, files map[string][]byte, roots []string,
	bundled map[string]protoreflect.FileDescriptor, sourceInfo protocompile.SourceInfoMode) ([]protoreflect.FileDescriptor, error) {
	var problems []Problem
	collect := func(err reporter.ErrorWithPos) error {
		pos := err.GetPosition()
		problems = append(problems, Problem{File: pos.Filename, Line: pos.Line, Column: pos.Col, Message: errorMessage(err)})
		return nil // keep going: report every problem, not only the first
	}
	compiler := protocompile.Compiler{
		Resolver:       resolver(files, bundled),
		Reporter:       reporter.NewReporter(collect, nil),
		SourceInfoMode: sourceInfo,
	}
	compiled, err := compiler.Compile(ctx, roots...)
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, fmt.Errorf("compile protobuf: %w", ctxErr)
	}
	if err != nil && !errors.Is(err, reporter.ErrInvalidSource) {
		// An error without a position (such as an unreadable root file) aborts compilation.
		problems = append(problems, Problem{Message: err.Error()})
	}
	if len(problems) > 0 {
		sortProblems(problems)
		return nil, &CompileError{Problems: problems}
	}
	if err != nil {
		return nil, fmt.Errorf("compile protobuf: %w", err)
	}
	out := make([]protoreflect.FileDescriptor, len(compiled))
	for i, fd := range compiled {
		out[i] = fd
	}
	return out, nil
}

// descriptorSet returns compiled and all of their imports, dependencies first.
func descriptorSet(compiled []protoreflect.FileDescriptor) (*descriptorpb.FileDescriptorSet, error) {
	byName := map[string]*descriptorpb.FileDescriptorProto{}
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if _, done := byName[fd.Path()]; done {
			return
		}
		byName[fd.Path()] = fileProto(fd)
		imports := fd.Imports()
		for i := 0; i < imports.Len(); i++ {
			add(imports.Get(i).FileDescriptor)
		}
	}
	for _, fd := range compiled {
		add(fd)
	}
	ordered, err := orderFiles(byName)
	if err != nil {
		return nil, fmt.Errorf("compile protobuf: %w", err)
	}
	return &descriptorpb.FileDescriptorSet{File: ordered}, nil
}

// fileProto is the descriptor proto of fd: for a file protocompile linked, the one it built (a
// linker.Result holds it; these files are not used after Compile, so it can be handed out),
// otherwise one converted from the descriptor. Both give the same proto
// (TestFileProtoMatchesConversion).
func fileProto(fd protoreflect.FileDescriptor) *descriptorpb.FileDescriptorProto {
	if res, ok := fd.(linker.Result); ok {
		return res.FileDescriptorProto()
	}
	return protodesc.ToFileDescriptorProto(fd)
}

// errorMessage is the text of a positioned error without the position prefix.
func errorMessage(err reporter.ErrorWithPos) string {
	if inner := err.Unwrap(); inner != nil {
		return inner.Error()
	}
	return err.Error()
}

// sortProblems orders problems by file, line and column, keeping the compiler's order for ties.
func sortProblems(problems []Problem) {
	sort.SliceStable(problems, func(i, j int) bool {
		a, b := problems[i], problems[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}
