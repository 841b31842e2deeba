package proto

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/types/descriptorpb"
)

// largeProtoSet generates n .proto files in memory. File i imports up to three earlier files,
// uses their messages, and declares a service whose methods carry google.api.http rules.
func largeProtoSet(n int) map[string][]byte {
	files := make(map[string][]byte, n)
	for i := 0; i < n; i++ {
		var b strings.Builder
		fmt.Fprintf(&b, "syntax = \"proto3\";\npackage gen.p%d;\n\n", i)
		b.WriteString("import \"google/api/annotations.proto\";\nimport \"google/protobuf/timestamp.proto\";\n")
		var deps []int
		for _, d := range []int{i - 1, i / 2, i / 3} {
			if d >= 0 && d < i && !slices.Contains(deps, d) {
				deps = append(deps, d)
			}
		}
		for _, d := range deps {
			fmt.Fprintf(&b, "import \"gen/p%d.proto\";\n", d)
		}
		fmt.Fprintf(&b, "\nmessage Item {\n  string name = 1;\n  int64 id = 2;\n  google.protobuf.Timestamp created = 3;\n")
		field := 4
		for _, d := range deps {
			fmt.Fprintf(&b, "  gen.p%d.Item dep%d = %d;\n", d, d, field)
			field++
		}
		b.WriteString("}\n")
		b.WriteString("message GetRequest { string name = 1; }\nmessage ListRequest { string parent = 1; int32 page_size = 2; }\n")
		b.WriteString("message ListResponse { repeated Item items = 1; string next_page_token = 2; }\n\n")
		fmt.Fprintf(&b, "service Service%d {\n", i)
		fmt.Fprintf(&b, "  rpc Get(GetRequest) returns (Item) { option (google.api.http) = { get: \"/v1/p%d/{name=items/*}\" }; }\n", i)
		fmt.Fprintf(&b, "  rpc List(ListRequest) returns (ListResponse) { option (google.api.http) = { get: \"/v1/p%d/{parent=shelves/*}/items\" }; }\n", i)
		fmt.Fprintf(&b, "  rpc Create(Item) returns (Item) { option (google.api.http) = { post: \"/v1/p%d/items\" body: \"*\" additional_bindings { put: \"/v1/p%d/items/{id}\" body: \"*\" } }; }\n", i, i)
		b.WriteString("}\n")
		files[fmt.Sprintf("gen/p%d.proto", i)] = []byte(b.String())
	}
	return files
}

// BenchmarkCompileLargeProtoSet compiles 1,000 interdependent files with HTTP annotations:
// "ordered" is Compile, "one-call" the baseline, all files in one protocompile call as Compile
// did before compileInOrder (and still does to report errors).
func BenchmarkCompileLargeProtoSet(b *testing.B) {
	const n = 1000
	files := largeProtoSet(n)
	paths := []struct {
		name    string
		compile func(context.Context, map[string][]byte) (*descriptorpb.FileDescriptorSet, error)
	}{
		{"ordered", Compile},
		{"one-call", compileOneCall},
	}
	for _, p := range paths {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				fds, err := p.compile(context.Background(), files)
				if err != nil {
					b.Fatal(err)
				}
				if got := len(Services(fds)); got != n {
					b.Fatalf("compiled %d services, want %d", got, n)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
		})
	}
}

// compileOneCall is Compile without compileInOrder.
func compileOneCall(ctx context.Context, files map[string][]byte) (*descriptorpb.FileDescriptorSet, error) {
	var roots []string
	for name := range files {
		roots = append(roots, name)
	}
	slices.Sort(roots)
	compiled, err := compileTogether(ctx, files, roots, bundledFiles(), protocompile.SourceInfoNone)
	if err != nil {
		return nil, err
	}
	return descriptorSet(compiled)
}
